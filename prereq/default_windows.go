package prereq

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/shirhq/shir/internal/platform/lsa"
	"github.com/shirhq/shir/internal/platform/osinfo"
	"github.com/shirhq/shir/internal/platform/power"
	"github.com/shirhq/shir/internal/platform/privilege"
	"github.com/shirhq/shir/internal/platform/winreg"
	"github.com/shirhq/shir/internal/platform/winsvc"
)

func defaultChecks(o Options) []Checker {
	reg := winreg.System{}
	if o.InstallDir == "" {
		pf := os.Getenv("ProgramFiles")
		if pf == "" {
			pf = `C:\Program Files`
		}
		o.InstallDir = filepath.Join(pf, "shir")
	}
	windir := os.Getenv("WINDIR")
	if windir == "" {
		windir = `C:\Windows`
	}
	checks := []Checker{
		WindowsVersionCheck{Version: osinfo.Windows},
		ArchCheck{Machine: osinfo.Machine},
		DomainControllerCheck{Version: osinfo.Windows, Reg: reg},
		DotNetCheck{Reg: reg, MinRelease: DotNet472},
		AdminCheck{Windows: true, Current: privilege.Current},
		WindowsPowerCheck{Scheme: power.ActiveScheme, Reg: reg},
		FIPSCheck{Windows: true, Enabled: WindowsFIPS(reg)},
		JavaCheck{Required: o.NeedJava, Windows: true, Getenv: os.Getenv, LookPath: exec.LookPath, Exists: exists, ReadFile: os.ReadFile, Reg: reg},
		VCRedistCheck{Reg: reg, DLL: filepath.Join(windir, "System32", "msvcr100.dll"), Exists: exists},
	}
	checks = append(checks, hardwareChecks(gopsutilHardware{}, o.InstallDir)...)
	return append(checks,
		InstanceCheck{Probes: []InstanceProbe{
			ServiceProbe(winsvc.Exists, HostService),
			ServiceProbe(winsvc.Exists, MSHostService),
			UninstallDisplayName(reg, MSDisplayNameIR),
			RegistryKeyProbe(reg, RegSHIRConfigMgr),
			func(ctx context.Context) (string, error) {
				if p := filepath.Join(o.InstallDir, "shir.exe"); exists(p) {
					return p, nil
				}
				return "", nil
			},
		}},
		PBIGatewayCheck(winsvc.Exists),
		LogonRightCheck{Account: o.ServiceAccount, Holders: lsa.AccountsWithRight, LookupSID: lsa.LookupSID},
		PortCheck{Port: o.Port, Disabled: o.NoRemoteAccess, Listen: net.Listen},
		ClockCheck{Server: o.Server, Client: o.HTTPClient, Now: now},
	)
}
