package prereq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/disk"
	"github.com/shirou/gopsutil/v3/mem"
)

// Options choose what Default checks.
type Options struct {
	// Port is the remote-access port that must be free (default 8060).
	Port int
	// NoRemoteAccess skips the port check (NOFIREWALL=1, --no-remote-access).
	NoRemoteAccess bool
	// Server is the control plane URL for the clock-skew check; empty skips it.
	Server string
	// HTTPClient for the clock-skew check; default has a 5 s timeout.
	HTTPClient *http.Client
	// InstallDir is where the binaries go (disk space, existing install);
	// default /opt/shir or %ProgramFiles%\shir.
	InstallDir string
	// ServiceAccount runs the host service on Windows; default NT SERVICE\shirhost.
	ServiceAccount string
	// NoService skips the systemd check (--root DIR --no-service installs).
	NoService bool
	// NeedJava makes a missing Java an error (a Parquet/ORC/Avro option).
	NeedJava bool
	// Logger gets debug lines; default discards.
	Logger *slog.Logger
}

// Service names of shir and of Microsoft's integration runtime.
const (
	HostService      = "shirhost"
	MSHostService    = "DIAHostService"
	DefaultWinAcct   = `NT SERVICE\` + HostService
	LinuxHostUnit    = "shir-host.service"
	MSDisplayNameIR  = "Microsoft Integration Runtime"
	defaultTimeout   = 5 * time.Second
	defaultLinuxRoot = "/opt/shir"
)

func (o Options) withDefaults() Options {
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	if o.ServiceAccount == "" {
		o.ServiceAccount = DefaultWinAcct
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Default returns the check list of this OS (runtime.GOOS) with the real
// probes. On an OS shir does not support it returns one failing check.
func Default(opts Options) []Checker {
	opts = opts.withDefaults()
	checks := defaultChecks(opts)
	opts.Logger.Debug("prereq: check list built", "checks", len(checks))
	return checks
}

// gopsutilHardware is Hardware through gopsutil.
type gopsutilHardware struct{}

func (gopsutilHardware) LogicalCores(ctx context.Context) (int, error) {
	return cpu.CountsWithContext(ctx, true)
}

func (gopsutilHardware) MemoryBytes(ctx context.Context) (uint64, error) {
	m, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return 0, err
	}
	return m.Total, nil
}

func (gopsutilHardware) DiskFreeBytes(ctx context.Context, path string) (uint64, error) {
	p, err := existingParent(path)
	if err != nil {
		return 0, err
	}
	u, err := disk.UsageWithContext(ctx, p)
	if err != nil {
		return 0, err
	}
	return u.Free, nil
}

func (gopsutilHardware) CPUMHz(ctx context.Context) (float64, error) {
	infos, err := cpu.InfoWithContext(ctx)
	if err != nil {
		return 0, err
	}
	if len(infos) == 0 {
		return 0, errors.New("no processor information")
	}
	var best float64
	for _, i := range infos {
		best = max(best, i.Mhz)
	}
	return best, nil
}

// existingParent returns path or its nearest existing parent directory.
func existingParent(path string) (string, error) {
	p := filepath.Clean(path)
	for {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", fmt.Errorf("no existing directory above %s", path)
		}
		p = parent
	}
}

// hardwareChecks are the same on every OS.
func hardwareChecks(hw Hardware, installDir string) []Checker {
	return []Checker{
		CoresCheck{HW: hw, Min: MinCores},
		CPUSpeedCheck{HW: hw, MinMHz: MinCPUMHz},
		MemoryCheck{HW: hw, Min: MinMemory},
		DiskCheck{HW: hw, Path: installDir, Min: MinDiskFree},
	}
}
