package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const pkgBuildinfo = "github.com/shirhq/shir/internal/buildinfo"

// build compiles this command for goos/amd64 with version info set by the
// linker, as a release build does.
func build(t *testing.T, goos, out string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the go tool is not available inside the Windows test binary; the linux run builds and runs shir.exe under Wine")
	}
	ldflags := "-s -w -X " + pkgBuildinfo + ".Version=1.2.3-test -X " + pkgBuildinfo + ".Commit=abc123 -X " + pkgBuildinfo + ".Date=2026-11-25T00:00:00Z"
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, ".")
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build GOOS=%s: %v\n%s", goos, err, b)
	}
}

func checkVersionJSON(t *testing.T, out []byte, goos string) {
	t.Helper()
	var v struct{ Version, Commit, Date, OS, Arch string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("version --json: %v: %q", err, out)
	}
	if v.Version != "1.2.3-test" || v.Commit != "abc123" || v.Date != "2026-11-25T00:00:00Z" || v.OS != goos || v.Arch != "amd64" {
		t.Errorf("version = %+v", v)
	}
}

func TestBinaryLinux(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("runs only on linux/amd64")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "shir")
	build(t, "linux", bin)
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	checkVersionJSON(t, out, "linux")

	dmg := filepath.Join(dir, "dmgcmd")
	if err := os.Link(bin, dmg); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(dmg, "-?").Output()
	if err != nil || !strings.Contains(string(out), "-RegisterNewNode") {
		t.Fatalf("dmgcmd -?: %v\n%s", err, out)
	}
	err = exec.Command(bin, "install", "/q", "BOGUS=1").Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1603&0xff {
		t.Fatalf("install /q BOGUS=1: %v, want exit 1603 (cut to 8 bits)", err)
	}
}

// TestBinaryWine runs shir.exe and dmgcmd.exe under Wine (../shared/wine).
// SHIR_WINE_EXEC names go-wine-exec; make test sets it. With
// SHIR_REQUIRE_WINE=1 (CI) a missing Wine fails instead of skipping.
func TestBinaryWine(t *testing.T) {
	wine := os.Getenv("SHIR_WINE_EXEC")
	if wine == "" {
		if os.Getenv("SHIR_REQUIRE_WINE") == "1" {
			t.Fatal("SHIR_WINE_EXEC is not set but SHIR_REQUIRE_WINE=1")
		}
		t.Skip("SHIR_WINE_EXEC not set: shir.exe and dmgcmd.exe were not run under Wine (make test sets it)")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "shir.exe")
	build(t, "windows", exe)
	out, err := exec.Command(wine, exe, "version", "--json").Output()
	if err != nil {
		t.Fatalf("wine shir.exe version: %v", err)
	}
	checkVersionJSON(t, out, "windows")

	dmg := filepath.Join(dir, "DMGCMD.EXE")
	if err := os.Link(exe, dmg); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(wine, dmg, "-?").Output()
	if err != nil || !strings.Contains(string(out), `-RegisterNewNode "<AuthenticationKey>" ["<NodeName>"]`) || !strings.Contains(string(out), "-TurnOffAutoUpdate") {
		t.Fatalf("wine dmgcmd.exe -?: %v\n%s", err, out)
	}
	err = exec.Command(wine, exe, "dmgcmd", "-bogus").Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("wine shir.exe dmgcmd -bogus: %v, want exit 2", err)
	}
}
