package prereq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shirhq/shir/internal/platform/privilege"
)

// Checks that exist on every OS. Their probes are fields; Default fills in
// the real ones.

// Recommended minimum hardware (the SHIR baseline).
const (
	MinCores     = 4
	MinMemory    = 8 << 30
	MinDiskFree  = 80 << 30
	MinCPUMHz    = 2000
	DefaultPort  = 8060
	gib          = 1 << 30
	skewWarning  = 30 * time.Second
	skewError    = 5 * time.Minute
	hardwareNote = "the runtime works below it, with fewer concurrent jobs"
)

// Hardware reads the machine's size (gopsutil in Default).
type Hardware interface {
	LogicalCores(ctx context.Context) (int, error)
	MemoryBytes(ctx context.Context) (uint64, error)
	DiskFreeBytes(ctx context.Context, path string) (uint64, error)
	CPUMHz(ctx context.Context) (float64, error)
}

// CoresCheck (cpu-cores) warns below Min logical cores.
type CoresCheck struct {
	HW  Hardware
	Min int
}

func (CoresCheck) ID() string { return "cpu-cores" }

func (c CoresCheck) Check(ctx context.Context) Verdict {
	fix := fmt.Sprintf("Use a machine with at least %d cores (%s)", c.Min, hardwareNote)
	n, err := c.HW.LogicalCores(ctx)
	if err != nil {
		return Unknown(SeverityWarning, fix, "the number of cores", err)
	}
	if n < c.Min {
		return Fail(SeverityWarning, fix, "%d logical cores; %d are recommended", n, c.Min)
	}
	return Pass("%d logical cores", n)
}

// MemoryCheck (memory) warns below Min bytes of RAM.
type MemoryCheck struct {
	HW  Hardware
	Min uint64
}

func (MemoryCheck) ID() string { return "memory" }

func (c MemoryCheck) Check(ctx context.Context) Verdict {
	fix := fmt.Sprintf("Use a machine with at least %s RAM (%s)", gibText(c.Min), hardwareNote)
	n, err := c.HW.MemoryBytes(ctx)
	if err != nil {
		return Unknown(SeverityWarning, fix, "the memory size", err)
	}
	// Firmware keeps a little of the RAM: allow 5% below the nominal size.
	if n < c.Min-c.Min/20 {
		return Fail(SeverityWarning, fix, "%s RAM; %s is recommended", gibText(n), gibText(c.Min))
	}
	return Pass("%s RAM", gibText(n))
}

// DiskCheck (disk) warns below Min bytes free on the volume of Path (the
// install directory, or its nearest existing parent).
type DiskCheck struct {
	HW   Hardware
	Path string
	Min  uint64
}

func (DiskCheck) ID() string { return "disk" }

func (c DiskCheck) Check(ctx context.Context) Verdict {
	fix := fmt.Sprintf("Free space or install on a volume with at least %s free", gibText(c.Min))
	n, err := c.HW.DiskFreeBytes(ctx, c.Path)
	if err != nil {
		return Unknown(SeverityWarning, fix, "the free disk space of "+c.Path, err)
	}
	if n < c.Min {
		return Fail(SeverityWarning, fix, "%s free on the volume of %s; %s is recommended", gibText(n), c.Path, gibText(c.Min))
	}
	return Pass("%s free on the volume of %s", gibText(n), c.Path)
}

// CPUSpeedCheck (cpu-speed) warns below MinMHz. VMs often report no clock
// speed; that is unknown (a warning), never a pass.
type CPUSpeedCheck struct {
	HW     Hardware
	MinMHz float64
}

func (CPUSpeedCheck) ID() string { return "cpu-speed" }

func (c CPUSpeedCheck) Check(ctx context.Context) Verdict {
	fix := fmt.Sprintf("Use a processor of at least %.1f GHz", c.MinMHz/1000)
	mhz, err := c.HW.CPUMHz(ctx)
	if err == nil && mhz <= 0 {
		err = errors.New("the system reports no clock speed (common in VMs)")
	}
	if err != nil {
		return Unknown(SeverityWarning, fix, "the processor speed", err)
	}
	if mhz < c.MinMHz {
		return Fail(SeverityWarning, fix, "processor at %.2f GHz; %.1f GHz is recommended", mhz/1000, c.MinMHz/1000)
	}
	return Pass("processor at %.2f GHz", mhz/1000)
}

func gibText(n uint64) string {
	return strconv.FormatFloat(float64(n)/gib, 'f', 1, 64) + " GiB"
}

// PortCheck (port-free) fails when the remote-access port is taken.
// Disabled (NOFIREWALL, --no-remote-access) skips it.
type PortCheck struct {
	Port     int
	Disabled bool
	Listen   func(network, address string) (net.Listener, error) // net.Listen
}

func (PortCheck) ID() string { return "port-free" }

func (c PortCheck) Check(ctx context.Context) Verdict {
	if c.Disabled {
		return Skip("remote access is off (--no-remote-access or NOFIREWALL=1)")
	}
	fix := fmt.Sprintf("Stop the program that uses TCP port %d, or choose another port (--port, PORT=)", c.Port)
	l, err := c.Listen("tcp", net.JoinHostPort("", strconv.Itoa(c.Port)))
	if err != nil {
		return Fail(SeverityError, fix, "TCP port %d for remote access is not free: %v", c.Port, err)
	}
	l.Close()
	return Pass("TCP port %d is free", c.Port)
}

// ClockCheck (clock-skew) compares this machine's clock with the Date
// header of the control plane. Without a Server it is skipped; an unreachable
// server is unknown (a warning).
type ClockCheck struct {
	Server string
	Client *http.Client
	Now    func() time.Time
}

func (ClockCheck) ID() string { return "clock-skew" }

func (c ClockCheck) Check(ctx context.Context) Verdict {
	if c.Server == "" {
		return Skip("no control plane given (--server)")
	}
	fix := "Synchronize the clock (Windows: w32tm /resync; Linux: enable systemd-timesyncd or chrony)"
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, c.Server, nil)
	if err != nil {
		return Unknown(SeverityWarning, "Give the control plane URL as https://host:port", "the clock skew", fmt.Errorf("server URL: %w", err))
	}
	start := c.Now()
	resp, err := c.Client.Do(req)
	if err != nil {
		return Unknown(SeverityWarning, "Check that the control plane is reachable from here (proxy, firewall, DNS)", "the clock skew", err)
	}
	resp.Body.Close()
	end := c.Now()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return Unknown(SeverityWarning, "", "the clock skew", fmt.Errorf("the server sent no valid Date header: %q", resp.Header.Get("Date")))
	}
	skew := ClockSkew(start, end, date)
	return skewVerdict(skew, fix)
}

// ClockSkew estimates local minus server time, given the server's Date (one
// second resolution) seen between start and end. Within the uncertainty
// (round trip plus one second) it is 0.
func ClockSkew(start, end, server time.Time) time.Duration {
	mid := start.Add(end.Sub(start) / 2)
	skew := mid.Sub(server.Add(500 * time.Millisecond))
	slack := end.Sub(start)/2 + time.Second
	switch {
	case skew > slack:
		return skew - slack
	case skew < -slack:
		return skew + slack
	}
	return 0
}

func skewVerdict(skew time.Duration, fix string) Verdict {
	abs := skew.Abs().Round(time.Second)
	dir := "ahead of"
	if skew < 0 {
		dir = "behind"
	}
	switch {
	case abs >= skewError:
		return Fail(SeverityError, fix, "the clock is %s %s the control plane; tokens and certificates will fail", abs, dir)
	case abs >= skewWarning:
		return Fail(SeverityWarning, fix, "the clock is %s %s the control plane", abs, dir)
	}
	return Pass("the clock agrees with the control plane (within %s)", skewWarning)
}

// AdminCheck (admin) fails unless the process is root / an elevated
// administrator.
type AdminCheck struct {
	Windows bool
	Current func() (privilege.Status, error)
}

func (AdminCheck) ID() string { return "admin" }

func (c AdminCheck) Check(ctx context.Context) Verdict {
	fix := "Run as root or with sudo"
	if c.Windows {
		fix = "Run from an elevated prompt (Run as administrator) as a member of Administrators"
	}
	s, err := c.Current()
	if err != nil {
		return Unknown(SeverityError, fix, "the rights of this process", err)
	}
	switch {
	case s.OK() && c.Windows:
		return Pass("elevated, member of Administrators")
	case s.OK():
		return Pass("running as root")
	case c.Windows && s.Admin:
		return Fail(SeverityError, fix, "not elevated (UAC): a member of Administrators, but the prompt is not elevated")
	case c.Windows:
		return Fail(SeverityError, fix, "not an administrator (not elevated, not in Administrators)")
	}
	return Fail(SeverityError, fix, "not running as root")
}

// ArchCheck (os-arch) fails unless the OS is 64-bit. Machine is the
// kernel's (uname -m) or Windows' native architecture, not the binary's.
type ArchCheck struct {
	Machine func() (string, error)
}

func (ArchCheck) ID() string { return "os-arch" }

func (c ArchCheck) Check(ctx context.Context) Verdict {
	fix := "Install on a 64-bit OS (x86-64 or ARM64); 32-bit is not supported"
	m, err := c.Machine()
	if err != nil {
		return Unknown(SeverityError, fix, "the OS architecture", err)
	}
	switch strings.ToLower(m) {
	case "x86_64", "amd64", "aarch64", "arm64":
		return Pass("64-bit OS (%s)", m)
	}
	return Fail(SeverityError, fix, "the OS is %s, not 64-bit", m)
}

// FIPSCheck (fips) warns when the OS enforces FIPS mode, under which some
// connectors' tasks fail (the SHIR baseline).
type FIPSCheck struct {
	Windows bool
	Enabled func(ctx context.Context) (bool, error)
}

func (FIPSCheck) ID() string { return "fips" }

func (c FIPSCheck) Check(ctx context.Context) Verdict {
	fix := "Tasks may fail in FIPS mode: keep secrets in Azure Key Vault, or turn FIPS mode off (boot without fips=1; RHEL: fips-mode-setup --disable) and reboot"
	if c.Windows {
		fix = `Tasks may fail in FIPS mode: keep secrets in Azure Key Vault, or set HKLM\System\CurrentControlSet\Control\Lsa\FIPSAlgorithmPolicy\Enabled to 0 (Local Security Policy: "System cryptography: Use FIPS compliant algorithms" = Disabled) and reboot`
	}
	on, err := c.Enabled(ctx)
	if err != nil {
		return Unknown(SeverityWarning, fix, "the FIPS mode", err)
	}
	if on {
		return Fail(SeverityWarning, fix, "FIPS mode is on")
	}
	return Pass("FIPS mode is off")
}

// InstanceProbe looks for one sign of an existing installation and returns
// what it found ("" for nothing).
type InstanceProbe func(ctx context.Context) (found string, err error)

// InstanceCheck (single-instance) fails when shir or a Microsoft SHIR is
// already installed: one installation per machine.
type InstanceCheck struct {
	Probes []InstanceProbe
}

func (InstanceCheck) ID() string { return "single-instance" }

func (c InstanceCheck) Check(ctx context.Context) Verdict {
	fix := "Only one installation per machine: run shir repair or shir uninstall first, or uninstall the other integration runtime (a runtime can share nodes instead)"
	var errs []error
	for _, p := range c.Probes {
		found, err := p(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if found != "" {
			return Fail(SeverityError, fix, "an integration runtime is already installed: %s", found)
		}
	}
	if len(errs) > 0 {
		return Unknown(SeverityError, fix, "whether a runtime is installed", errors.Join(errs...))
	}
	return Pass("no other installation found")
}
