package prereq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/shirhq/shir/internal/platform/lsa"
	"github.com/shirhq/shir/internal/platform/osinfo"
	"github.com/shirhq/shir/internal/platform/power"
	"github.com/shirhq/shir/internal/platform/winreg"
)

// Windows checks. The logic is portable and tested on Linux with fakes
// (winreg.Fake, funcs); default_windows.go wires the real probes.

// Registry locations read by the Windows checks.
const (
	RegNDP           = `HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full`
	RegProductOpts   = `HKLM\SYSTEM\CurrentControlSet\Control\ProductOptions`
	RegFIPS          = `HKLM\System\CurrentControlSet\Control\Lsa\FIPSAlgorithmPolicy`
	RegPower         = `HKLM\SYSTEM\CurrentControlSet\Control\Power`
	RegUninstall     = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`
	RegVCRedistSP1   = RegUninstall + `\{1D8E6291-B0D5-35EC-8441-6616F567A0F7}`
	RegVCRedistRTM   = RegUninstall + `\{DA5E371C-6333-3D8A-93A4-6FD5B20BCC6E}`
	RegVCRedistVS    = `HKLM\SOFTWARE\Microsoft\VisualStudio\10.0\VC\VCRedist\x64`
	RegSHIRConfigMgr = `HKLM\SOFTWARE\Microsoft\DataTransfer\DataManagementGateway\ConfigurationManager`
)

// WindowsVersionCheck (os-version) fails on Windows versions the runtime does
// not support and warns on an unknown newer one.
type WindowsVersionCheck struct {
	Version func() (osinfo.WindowsVersion, error)
}

func (WindowsVersionCheck) ID() string { return "os-version" }

func (c WindowsVersionCheck) Check(ctx context.Context) Verdict {
	fix := "Supported: Windows 8.1, 10, 11 and Windows Server 2012, 2012 R2, 2016, 2019, 2022, 2025 and later (64-bit)"
	v, err := c.Version()
	if err != nil {
		return Unknown(SeverityError, fix, "the Windows version", err)
	}
	name, ok, newer := WindowsProduct(v.Major, v.Minor, v.Build, v.ProductType)
	switch {
	case newer:
		return Fail(SeverityWarning, "Newer than any version shir was tested on; report problems", "%s is newer than the supported versions", name)
	case !ok:
		return Fail(SeverityError, fix, "%s is not supported", name)
	}
	return Pass("%s is supported", name)
}

// DomainControllerCheck (not-dc) fails on a domain controller, as
// RtlGetVersion's product type (2) or the registry's ProductType
// ("LanmanNT") says.
type DomainControllerCheck struct {
	Version func() (osinfo.WindowsVersion, error)
	Reg     winreg.Reader
}

func (DomainControllerCheck) ID() string { return "not-dc" }

func (c DomainControllerCheck) Check(ctx context.Context) Verdict {
	fix := "Installing on a domain controller is not supported; use a member server"
	v, verr := c.Version()
	pt, rerr := c.Reg.String(RegProductOpts, "ProductType")
	if verr == nil && v.ProductType == osinfo.DomainController || rerr == nil && strings.EqualFold(pt, "LanmanNT") {
		return Fail(SeverityError, fix, "this machine is a domain controller")
	}
	if verr != nil && rerr != nil {
		return Unknown(SeverityError, fix, "the product type", errors.Join(verr, rerr))
	}
	if rerr == nil {
		return Pass("not a domain controller (ProductType %s)", pt)
	}
	return Pass("not a domain controller")
}

// DotNetCheck (dotnet-472) fails without .NET Framework MinRelease (4.7.2).
type DotNetCheck struct {
	Reg        winreg.Reader
	MinRelease uint32
}

func (DotNetCheck) ID() string { return "dotnet-472" }

func (c DotNetCheck) Check(ctx context.Context) Verdict {
	rel, err := c.Reg.DWORD(RegNDP, "Release")
	return dotnetVerdict(rel, err, c.MinRelease)
}

// dotnetVerdict is the pure decision of DotNetCheck.
func dotnetVerdict(release uint32, err error, minRelease uint32) Verdict {
	want := DotNetVersion(minRelease)
	fix := fmt.Sprintf("Install .NET Framework 4.8 (or %s or later) and reboot", want)
	switch {
	case errors.Is(err, winreg.ErrNotExist):
		return Fail(SeverityError, fix, ".NET Framework 4.5 or later is not installed (no Release value)")
	case err != nil:
		return Unknown(SeverityError, fix, "the .NET Framework version", err)
	case release < minRelease:
		have := DotNetVersion(release)
		if have == "" {
			have = "older than 4.5"
		}
		return Fail(SeverityError, fix, ".NET Framework %s (Release %d) is installed; %s (Release %d) or later is required", have, release, want, minRelease)
	}
	return Pass(".NET Framework %s (Release %d)", DotNetVersion(release), release)
}

// WindowsPowerCheck (power) warns when the active power scheme puts the
// machine to sleep or hibernation on AC power.
type WindowsPowerCheck struct {
	Scheme func() (power.Settings, error)
	Reg    winreg.Reader
}

func (WindowsPowerCheck) ID() string { return "power" }

func (c WindowsPowerCheck) Check(ctx context.Context) Verdict {
	fix := "Keep the machine awake: powercfg /change standby-timeout-ac 0 and powercfg /change hibernate-timeout-ac 0 (or powercfg /hibernate off)"
	s, err := c.Scheme()
	if err != nil {
		return Unknown(SeverityWarning, fix, "the power plan", err)
	}
	hib, herr := c.Reg.DWORD(RegPower, "HibernateEnabled")
	hibernate := herr == nil && hib != 0
	var problems []string
	if s.StandbyAC != 0 {
		problems = append(problems, fmt.Sprintf("sleeps after %d min on AC power", s.StandbyAC/60))
	}
	if hibernate && s.HibernateAC != 0 {
		problems = append(problems, fmt.Sprintf("hibernates after %d min on AC power", s.HibernateAC/60))
	}
	if len(problems) > 0 {
		return Fail(SeverityWarning, fix, "the machine %s; a sleeping node goes offline", strings.Join(problems, " and "))
	}
	return Pass("the power plan never sleeps on AC power")
}

// WindowsFIPS reads FIPSAlgorithmPolicy\Enabled; a missing value means off.
func WindowsFIPS(reg winreg.Reader) func(context.Context) (bool, error) {
	return func(context.Context) (bool, error) {
		v, err := reg.DWORD(RegFIPS, "Enabled")
		if errors.Is(err, winreg.ErrNotExist) {
			return false, nil
		}
		return v != 0, err
	}
}

// VCRedistCheck (vcredist2010) warns without the Visual C++ 2010 x64
// runtime (needed by Parquet/ORC/Avro through Java): its uninstall key (SP1
// or RTM) or VCRedist\x64 Installed=1, and msvcr100.dll in System32.
type VCRedistCheck struct {
	Reg    winreg.Reader
	DLL    string            // %WINDIR%\System32\msvcr100.dll
	Exists func(string) bool // file exists
}

func (VCRedistCheck) ID() string { return "vcredist2010" }

func (c VCRedistCheck) Check(ctx context.Context) Verdict {
	fix := "Install Microsoft Visual C++ 2010 SP1 Redistributable (x64) (needed for Parquet, ORC and Avro)"
	var errs []error
	reg := false
	for _, k := range []string{RegVCRedistSP1, RegVCRedistRTM} {
		ok, err := c.Reg.KeyExists(k)
		if err != nil {
			errs = append(errs, err)
		}
		reg = reg || ok
	}
	if v, err := c.Reg.DWORD(RegVCRedistVS, "Installed"); err == nil && v == 1 {
		reg = true
	}
	dll := c.Exists(c.DLL)
	switch {
	case reg && dll:
		return Pass("Visual C++ 2010 x64 runtime installed")
	case !reg && len(errs) > 0:
		return Unknown(SeverityWarning, fix, "whether Visual C++ 2010 x64 is installed", errors.Join(errs...))
	case reg:
		return Fail(SeverityWarning, fix, "Visual C++ 2010 x64 is registered but %s is missing", c.DLL)
	}
	return Fail(SeverityWarning, fix, "Visual C++ 2010 x64 runtime is not installed")
}

// ServiceAbsentCheck warns (pbi-gateway) when a conflicting service exists.
type ServiceAbsentCheck struct {
	CheckID, Service, What, FixText string
	Exists                          func(name string) (bool, error)
}

func (c ServiceAbsentCheck) ID() string { return c.CheckID }

func (c ServiceAbsentCheck) Check(ctx context.Context) Verdict {
	ok, err := c.Exists(c.Service)
	if err != nil {
		return Unknown(SeverityWarning, c.FixText, "whether "+c.What+" is installed", err)
	}
	if ok {
		return Fail(SeverityWarning, c.FixText, "%s is installed (service %s)", c.What, c.Service)
	}
	return Pass("%s is not installed", c.What)
}

// PBIGatewayCheck is the pbi-gateway check: the on-premises data gateway
// conflicts with the runtime on port 443.
func PBIGatewayCheck(exists func(string) (bool, error)) ServiceAbsentCheck {
	return ServiceAbsentCheck{CheckID: "pbi-gateway", Service: "PBIEgwService", What: "the on-premises data gateway",
		FixText: "Do not install the runtime on the same machine as the on-premises data gateway (port 443 conflict)", Exists: exists}
}

// LogonRightCheck (logon-right) checks that the service account holds "Log
// on as a service" and is not denied it. For the virtual account NT
// SERVICE\<name> the right may also come through NT SERVICE\ALL SERVICES;
// a missing right is then a warning (the installer can grant it), and an
// error for a named account.
type LogonRightCheck struct {
	Account   string                               // e.g. `NT SERVICE\shirhost`, `CONTOSO\svc-shir`
	Holders   func(right string) ([]string, error) // lsa.AccountsWithRight
	LookupSID func(account string) (string, error) // lsa.LookupSID
}

func (LogonRightCheck) ID() string { return "logon-right" }

func (c LogonRightCheck) Check(ctx context.Context) Verdict {
	fix := fmt.Sprintf(`Grant %s "Log on as a service" (secpol.msc > Local Policies > User Rights Assignment); a domain GPO may override local settings`, c.Account)
	svc, virtual := lsa.VirtualService(c.Account)
	var sid string
	if virtual {
		sid = lsa.ServiceSID(svc)
	} else {
		s, err := c.LookupSID(c.Account)
		if err != nil {
			return Unknown(SeverityError, "Check the service account name (SERVICEACCOUNT=DOMAIN\\user)", "the service account", err)
		}
		sid = s
	}
	sev := SeverityError
	accepted := []string{sid}
	if virtual {
		sev = SeverityWarning
		accepted = append(accepted, lsa.AllServicesSID)
	}
	denied, err := c.Holders(lsa.DenyServiceLogonRight)
	if err != nil {
		return Unknown(sev, fix, "the user rights", err)
	}
	if slices.ContainsFunc(accepted, func(s string) bool { return slices.Contains(denied, s) }) {
		return Fail(SeverityError, fix+`; remove it from "Deny log on as a service"`, "%s is denied log on as a service", c.Account)
	}
	holders, err := c.Holders(lsa.ServiceLogonRight)
	if err != nil {
		return Unknown(sev, fix, "the user rights", err)
	}
	if slices.ContainsFunc(accepted, func(s string) bool { return slices.Contains(holders, s) }) {
		return Pass("%s may log on as a service", c.Account)
	}
	return Fail(sev, fix, "%s does not hold log on as a service", c.Account)
}

// UninstallDisplayName returns a probe that finds an Uninstall entry whose
// DisplayName starts with prefix (Microsoft's own detection of SHIR).
func UninstallDisplayName(reg winreg.Reader, prefix string) InstanceProbe {
	return func(ctx context.Context) (string, error) {
		subs, err := reg.SubKeys(RegUninstall)
		if errors.Is(err, winreg.ErrNotExist) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		for _, s := range subs {
			name, err := reg.String(RegUninstall+`\`+s, "DisplayName")
			if err == nil && strings.HasPrefix(strings.ToLower(name), strings.ToLower(prefix)) {
				return fmt.Sprintf("%q (%s)", name, s), nil
			}
		}
		return "", nil
	}
}

// RegistryKeyProbe finds a registry key.
func RegistryKeyProbe(reg winreg.Reader, path string) InstanceProbe {
	return func(ctx context.Context) (string, error) {
		ok, err := reg.KeyExists(path)
		if ok {
			return path, err
		}
		return "", err
	}
}

// ServiceProbe finds an installed service.
func ServiceProbe(exists func(string) (bool, error), name string) InstanceProbe {
	return func(ctx context.Context) (string, error) {
		ok, err := exists(name)
		if ok {
			return "service " + name, err
		}
		return "", err
	}
}
