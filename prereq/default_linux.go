package prereq

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/shirhq/shir/internal/platform/osinfo"
	"github.com/shirhq/shir/internal/platform/privilege"
)

func defaultChecks(o Options) []Checker {
	root := os.DirFS("/")
	if o.InstallDir == "" {
		o.InstallDir = defaultLinuxRoot
	}
	arch := map[string]string{"amd64": "amd64", "arm64": "aarch64"}[runtime.GOARCH]
	checks := []Checker{
		DistroCheck{FS: root},
		ArchCheck{Machine: osinfo.Machine},
		SystemdCheck{FS: root, NoService: o.NoService},
		AdminCheck{Current: privilege.Current},
		SleepCheck{FS: root},
		FIPSCheck{Enabled: LinuxFIPS(root)},
		JavaCheck{Required: o.NeedJava, Arch: arch, Getenv: os.Getenv, LookPath: lookPathResolved, Exists: exists, ReadFile: os.ReadFile},
	}
	checks = append(checks, hardwareChecks(gopsutilHardware{}, o.InstallDir)...)
	return append(checks,
		InstanceCheck{Probes: []InstanceProbe{FileProbe(root,
			"/etc/systemd/system/"+LinuxHostUnit, "/usr/lib/systemd/system/"+LinuxHostUnit, "/lib/systemd/system/"+LinuxHostUnit,
			filepath.Join(o.InstallDir, "shir"))}},
		PortCheck{Port: o.Port, Disabled: o.NoRemoteAccess, Listen: net.Listen},
		ClockCheck{Server: o.Server, Client: o.HTTPClient, Now: now},
	)
}

// lookPathResolved finds an executable on PATH and resolves its links
// (/usr/bin/java -> /etc/alternatives/java -> /usr/lib/jvm/.../bin/java).
func lookPathResolved(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(p)
}
