package prereq

import (
	"context"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shirhq/shir/internal/platform/winreg"
)

// reg runs reg.exe, as an admin (or the issue's `wine reg add`) would.
func reg(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("reg", args...).CombinedOutput(); err != nil {
		t.Fatalf("reg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// restoreDWORD puts a DWORD value back as it was (or deletes it) after the test.
func restoreDWORD(t *testing.T, path, name string) {
	old, err := winreg.System{}.DWORD(path, name)
	t.Cleanup(func() {
		if err == nil {
			exec.Command("reg", "add", path, "/v", name, "/t", "REG_DWORD", "/d", strconv.FormatUint(uint64(old), 10), "/f").Run()
		} else {
			exec.Command("reg", "delete", path, "/v", name, "/f").Run()
		}
	})
}

func restoreString(t *testing.T, path, name string) {
	old, err := winreg.System{}.String(path, name)
	if err != nil {
		t.Fatalf("read %s\\%s before the test: %v", path, name, err)
	}
	t.Cleanup(func() { exec.Command("reg", "add", path, "/v", name, "/t", "REG_SZ", "/d", old, "/f").Run() })
}

// check finds a check of the real Windows list by id and runs it.
func check(t *testing.T, id string) Verdict {
	t.Helper()
	checks := Default(Options{NoRemoteAccess: true})
	i := slices.IndexFunc(checks, func(c Checker) bool { return c.ID() == id })
	if i < 0 {
		t.Fatalf("no check %s", id)
	}
	return normalize(checks[i].Check(context.Background()))
}

// TestWindowsRegistryVerdicts changes real registry values with reg.exe and
// asserts that the real checks' verdicts follow (under Wine: Wine's registry).
func TestWindowsRegistryVerdicts(t *testing.T) {
	t.Run("dotnet-472", func(t *testing.T) {
		restoreDWORD(t, RegNDP, "Release")
		reg(t, "add", RegNDP, "/v", "Release", "/t", "REG_DWORD", "/d", "528040", "/f")
		if v := check(t, "dotnet-472"); v.Status != StatusOK || !strings.Contains(v.Message, "4.8") {
			t.Errorf("Release 528040: %+v", v)
		}
		reg(t, "add", RegNDP, "/v", "Release", "/t", "REG_DWORD", "/d", "461308", "/f")
		if v := check(t, "dotnet-472"); v.Status != StatusFailed || v.Severity != SeverityError || !strings.Contains(v.Message, "4.7.1") {
			t.Errorf("Release 461308: %+v", v)
		}
		reg(t, "delete", RegNDP, "/v", "Release", "/f")
		if v := check(t, "dotnet-472"); v.Status != StatusFailed || !strings.Contains(v.Message, "not installed") {
			t.Errorf("no Release: %+v", v)
		}
	})
	t.Run("not-dc", func(t *testing.T) {
		restoreString(t, RegProductOpts, "ProductType")
		if v := check(t, "not-dc"); v.Status != StatusOK {
			t.Errorf("stock prefix: %+v", v)
		}
		reg(t, "add", RegProductOpts, "/v", "ProductType", "/t", "REG_SZ", "/d", "LanmanNT", "/f")
		if v := check(t, "not-dc"); v.Status != StatusFailed || v.Severity != SeverityError {
			t.Errorf("ProductType LanmanNT: %+v", v)
		}
	})
	t.Run("fips", func(t *testing.T) {
		restoreDWORD(t, RegFIPS, "Enabled")
		reg(t, "add", RegFIPS, "/v", "Enabled", "/t", "REG_DWORD", "/d", "1", "/f")
		if v := check(t, "fips"); v.Status != StatusFailed || v.Severity != SeverityWarning {
			t.Errorf("FIPS on: %+v", v)
		}
		reg(t, "add", RegFIPS, "/v", "Enabled", "/t", "REG_DWORD", "/d", "0", "/f")
		if v := check(t, "fips"); v.Status != StatusOK {
			t.Errorf("FIPS off: %+v", v)
		}
	})
	t.Run("vcredist2010", func(t *testing.T) {
		if v := check(t, "vcredist2010"); v.Status == StatusOK {
			t.Skip("VC++ 2010 is installed on this machine; the missing case is covered with fakes")
		}
		t.Cleanup(func() { exec.Command("reg", "delete", RegVCRedistSP1, "/f").Run() })
		reg(t, "add", RegVCRedistSP1, "/v", "DisplayName", "/t", "REG_SZ", "/d", "Microsoft Visual C++ 2010  x64 Redistributable", "/f")
		// Registered now; the verdict depends on msvcr100.dll, which Wine ships.
		if v := check(t, "vcredist2010"); v.Status == StatusFailed && strings.Contains(v.Message, "not installed") {
			t.Errorf("after reg add: %+v", v)
		}
	})
	t.Run("single-instance", func(t *testing.T) {
		key := RegUninstall + `\shir-test-ir`
		t.Cleanup(func() { exec.Command("reg", "delete", key, "/f").Run() })
		if v := check(t, "single-instance"); v.Status != StatusOK {
			t.Fatalf("clean prefix: %+v", v)
		}
		reg(t, "add", key, "/v", "DisplayName", "/t", "REG_SZ", "/d", "Microsoft Integration Runtime", "/f")
		if v := check(t, "single-instance"); v.Status != StatusFailed || v.Severity != SeverityError || !strings.Contains(v.Message, "shir-test-ir") {
			t.Errorf("with a SHIR uninstall entry: %+v", v)
		}
	})
}

// TestWindowsPowerUnderWine: Wine has no power API; the check must say it
// could not determine the plan, as a warning.
func TestWindowsPowerUnderWine(t *testing.T) {
	v := check(t, "power")
	if v.Status == StatusUnknown {
		if v.Severity != SeverityWarning || !strings.Contains(v.Message, "could not determine the power plan") {
			t.Errorf("power: %+v", v)
		}
		return
	}
	if v.Status != StatusOK && v.Status != StatusFailed {
		t.Errorf("power: %+v", v)
	}
}
