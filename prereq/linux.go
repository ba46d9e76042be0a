package prereq

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Linux checks. They read the machine through an fs.FS rooted at "/" (paths
// without the leading slash), so tests give them an fstest.MapFS.

// supportedDistros is the support matrix: ID and the oldest supported
// VERSION_ID; newest tested is the last one listed. A newer version is a
// warning, an older one an error; an unknown ID whose ID_LIKE names one of
// these families is a warning (a derivative, untested).
type distro struct {
	id       string
	versions []string
}

var supportedDistros = []distro{
	{"debian", []string{"11", "12"}},
	{"ubuntu", []string{"20.04", "22.04", "24.04"}},
	{"rhel", []string{"8", "9"}},
	{"rocky", []string{"8", "9"}},
	{"almalinux", []string{"8", "9"}},
	{"centos", []string{"9"}}, // CentOS Stream 9
	{"sles", []string{"15"}},
	{"opensuse-leap", []string{"15"}},
}

// supportedText lists the matrix for messages.
func supportedText() string {
	var parts []string
	for _, d := range supportedDistros {
		parts = append(parts, d.id+" "+strings.Join(d.versions, "/"))
	}
	return strings.Join(parts, ", ")
}

// DistroCheck (os-version on Linux) reads /etc/os-release, or
// /usr/lib/os-release when the first is missing, and compares it with the
// support matrix.
type DistroCheck struct {
	FS fs.FS
}

func (DistroCheck) ID() string { return "os-version" }

func (c DistroCheck) Check(ctx context.Context) Verdict {
	fix := "Supported distributions: " + supportedText()
	b, err := fs.ReadFile(c.FS, "etc/os-release")
	if errors.Is(err, fs.ErrNotExist) {
		b, err = fs.ReadFile(c.FS, "usr/lib/os-release")
	}
	if err != nil {
		return Unknown(SeverityError, fix, "the distribution", fmt.Errorf("read os-release: %w", err))
	}
	r, err := ParseOSRelease(b)
	if err != nil {
		return Unknown(SeverityError, fix, "the distribution", err)
	}
	return distroVerdict(r, fix)
}

// distroVerdict is the pure decision of DistroCheck.
func distroVerdict(r OSRelease, fix string) Verdict {
	name := r.PrettyName
	if name == "" {
		name = strings.TrimSpace(r.ID + " " + r.VersionID)
	}
	i := slices.IndexFunc(supportedDistros, func(d distro) bool { return d.id == r.ID })
	if i < 0 {
		for _, like := range r.IDLike {
			if slices.ContainsFunc(supportedDistros, func(d distro) bool { return d.id == like }) {
				return Fail(SeverityWarning, fix, "%s is derived from %s but was not tested", name, like)
			}
		}
		return Fail(SeverityError, fix, "%s is not a supported distribution", name)
	}
	d := supportedDistros[i]
	have, err := ParseVersion(r.VersionID)
	if err != nil {
		return Unknown(SeverityError, fix, "the version of "+name, err)
	}
	// Compare as many parts as the matrix lists (debian "12", ubuntu "22.04").
	oldest, _ := ParseVersion(d.versions[0])
	newest, _ := ParseVersion(d.versions[len(d.versions)-1])
	have = have[:min(len(have), len(oldest))]
	listed := slices.ContainsFunc(d.versions, func(v string) bool {
		p, _ := ParseVersion(v)
		return compareVersion(p, have) == 0
	})
	tested := d.id + " " + strings.Join(d.versions, "/")
	switch {
	case compareVersion(have, oldest) < 0:
		return Fail(SeverityError, fix, "%s is older than the supported %s", name, tested)
	case compareVersion(have, newest) > 0:
		return Fail(SeverityWarning, fix, "%s is newer than the tested %s", name, tested)
	case !listed:
		return Fail(SeverityWarning, fix, "%s is not a tested release (%s)", name, tested)
	}
	return Pass("%s is supported", name)
}

// SystemdCheck (systemd) fails when systemd is not the running init
// (sd_booted: /run/systemd/system exists), unless services are not wanted.
type SystemdCheck struct {
	FS        fs.FS
	NoService bool
}

func (SystemdCheck) ID() string { return "systemd" }

func (c SystemdCheck) Check(ctx context.Context) Verdict {
	if c.NoService {
		return Skip("no services are installed (--no-service)")
	}
	fi, err := fs.Stat(c.FS, "run/systemd/system")
	switch {
	case err == nil && fi.IsDir():
		return Pass("systemd is running")
	case err == nil || errors.Is(err, fs.ErrNotExist):
		return Fail(SeverityError, "Boot with systemd, or install without services: shir install --root DIR --no-service (then start shir agent run yourself)",
			"systemd is not running (no /run/systemd/system), so the node's services cannot be installed")
	}
	return Unknown(SeverityError, "", "whether systemd runs", err)
}

// sleepTargets are the systemd targets that suspend or hibernate.
var sleepTargets = []string{"sleep.target", "suspend.target", "hibernate.target", "hybrid-sleep.target"}

// SleepCheck (power on Linux) warns unless sleeping is off: every sleep
// target masked (a link to /dev/null in /etc or /run), or every Allow*= of
// systemd-sleep.conf set to no. Without systemd nothing suspends on idle:
// skipped.
type SleepCheck struct {
	FS fs.FS
}

func (SleepCheck) ID() string { return "power" }

func (c SleepCheck) Check(ctx context.Context) Verdict {
	fix := "Keep the node awake: systemctl mask " + strings.Join(sleepTargets, " ") + " (on Debian 12 also a sleep.conf.d drop-in with AllowSuspend=no, AllowHibernation=no, AllowHybridSleep=no, AllowSuspendThenHibernate=no)"
	if _, err := fs.Stat(c.FS, "run/systemd/system"); err != nil {
		return Skip("systemd is not running: nothing suspends the machine on idle")
	}
	var unmasked []string
	for _, t := range sleepTargets {
		if !c.masked(t) {
			unmasked = append(unmasked, t)
		}
	}
	if len(unmasked) == 0 {
		return Pass("sleep targets are masked")
	}
	conf, err := c.sleepConf()
	if err != nil {
		return Unknown(SeverityWarning, fix, "the sleep settings", err)
	}
	var allowed []string
	for _, k := range []string{"AllowSuspend", "AllowHibernation", "AllowHybridSleep", "AllowSuspendThenHibernate"} {
		if v, ok := parseBool(conf[k]); !ok || v {
			allowed = append(allowed, k)
		}
	}
	if len(allowed) == 0 {
		return Pass("sleep is disabled in systemd-sleep.conf")
	}
	return Fail(SeverityWarning, fix, "the machine may sleep: %s not masked; a sleeping node goes offline", strings.Join(unmasked, ", "))
}

func (c SleepCheck) masked(target string) bool {
	for _, dir := range []string{"etc/systemd/system", "run/systemd/system"} {
		if dest, err := fs.ReadLink(c.FS, path.Join(dir, target)); err == nil && dest == "/dev/null" {
			return true
		}
	}
	return false
}

// sleepConf merges sleep.conf and its drop-ins (sorted, later wins).
func (c SleepCheck) sleepConf() (map[string]string, error) {
	out := map[string]string{}
	merge := func(name string) error {
		b, err := fs.ReadFile(c.FS, name)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		for k, v := range ParseSleepConf(b) {
			out[k] = v
		}
		return nil
	}
	if err := merge("etc/systemd/sleep.conf"); err != nil {
		return nil, err
	}
	for _, dir := range []string{"usr/lib/systemd/sleep.conf.d", "etc/systemd/sleep.conf.d", "run/systemd/sleep.conf.d"} {
		ents, err := fs.ReadDir(c.FS, dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".conf") {
				if err := merge(path.Join(dir, e.Name())); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// LinuxFIPS reads /proc/sys/crypto/fips_enabled; a kernel without the file
// has no FIPS mode.
func LinuxFIPS(fsys fs.FS) func(context.Context) (bool, error) {
	return func(context.Context) (bool, error) {
		b, err := fs.ReadFile(fsys, "proc/sys/crypto/fips_enabled")
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		switch strings.TrimSpace(string(b)) {
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
		return false, fmt.Errorf("/proc/sys/crypto/fips_enabled: unexpected content %q", truncate(string(b), 20))
	}
}

// FileProbe finds the first existing file of names (absolute paths).
func FileProbe(fsys fs.FS, names ...string) InstanceProbe {
	return func(ctx context.Context) (string, error) {
		for _, n := range names {
			_, err := fs.Stat(fsys, strings.TrimPrefix(n, "/"))
			if err == nil {
				return n, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
		}
		return "", nil
	}
}
