package packaging

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/shirhq/shir/internal/exitcode"
)

// props stands for provision.PropertyNames (packaging may not import
// provision; cmd/shir passes the real list, and the Wine test below uses it
// through the real shir.exe).
var testProps = []string{"AUTHKEY", "NODENAME", "INSTALLDIR", "DATADIR", "NOFIREWALL", "PORT", "PROXYPASSWORD", "IGNOREPREREQ"}

func msiTable(t *testing.T, msi, table string) string {
	t.Helper()
	out, err := exec.Command("msiinfo", "export", msi, table).CombinedOutput()
	if err != nil {
		t.Fatalf("msiinfo export %s: %v\n%s", table, err, out)
	}
	return string(out)
}

func TestBuildMSI(t *testing.T) {
	needTool(t, "wixl", "wixl")
	needTool(t, "msiinfo", "msitools")
	out := filepath.Join(t.TempDir(), "shir.msi")
	err := BuildMSI(context.Background(), MSIOptions{Exe: stubExe(t), Version: "1.4.2-rc.1", Out: out,
		Properties: testProps, Secret: []string{"AUTHKEY", "PROXYPASSWORD"}, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	props := msiTable(t, out, "Property")
	for _, want := range []string{"ProductVersion\t1.4.2", "UpgradeCode\t{6D0C2A53-5E7B-4F0C-9B1E-3A8F2C7D4E61}", "MsiHiddenProperties\tAUTHKEY;PROXYPASSWORD;"} {
		if !strings.Contains(props, want) {
			t.Errorf("Property table lacks %q:\n%s", want, props)
		}
	}
	ca := msiTable(t, out, "CustomAction")
	// 18 = exe from an installed file, +0x400 in-script (deferred), +0x800 no impersonation.
	if !strings.Contains(ca, "ShirInstall\t3090\tShirExe\t[ShirInstall]") {
		t.Errorf("CustomAction table lacks the deferred, elevated shir install:\n%s", ca)
	}
	if !strings.Contains(ca, "uninstall /q INSTALLDIR=") {
		t.Errorf("CustomAction table lacks shir uninstall:\n%s", ca)
	}
	if f := msiTable(t, out, "File"); !strings.Contains(f, "shir.exe") {
		t.Errorf("File table lacks shir.exe:\n%s", f)
	}
	if d := msiTable(t, out, "Directory"); !strings.Contains(d, "ProgramFiles64Folder") {
		t.Errorf("Directory table lacks ProgramFiles64Folder:\n%s", d)
	}
	if c := msiTable(t, out, "Component"); !strings.Contains(c, "\t256\t") { // msidbComponentAttributes64bit
		t.Errorf("component is not 64-bit:\n%s", c)
	}
	if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 1 {
		t.Errorf("build left files next to the MSI: %v", ents)
	}
}

func TestBuildMSIBadInput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	notExe := filepath.Join(dir, "shir.exe")
	if err := os.WriteFile(notExe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]MSIOptions{
		"no exe":      {Version: "1.0.0", Out: filepath.Join(dir, "a.msi"), Properties: testProps},
		"not an exe":  {Exe: notExe, Version: "1.0.0", Out: filepath.Join(dir, "a.msi"), Properties: testProps},
		"bad version": {Exe: notExe, Version: "1.0", Out: filepath.Join(dir, "a.msi"), Properties: testProps},
		"not .msi":    {Exe: notExe, Version: "1.0.0", Out: filepath.Join(dir, "a.zip"), Properties: testProps},
	} {
		if err := BuildMSI(ctx, o); !errors.Is(err, exitcode.ErrUsage) {
			t.Errorf("%s: err = %v, want a usage error", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a.msi")); err == nil {
		t.Error("a failed build wrote the MSI")
	}
}

// wineEnv returns go-wine-exec and the prefix's drive_c, or skips.
func wineEnv(t *testing.T) (wineExec, driveC string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the MSI runs under Wine from the linux test run")
	}
	wineExec = os.Getenv("SHIR_WINE_EXEC")
	if wineExec == "" {
		if os.Getenv("SHIR_REQUIRE_WINE") == "1" {
			t.Fatal("SHIR_WINE_EXEC is not set but SHIR_REQUIRE_WINE=1")
		}
		t.Skip("SHIR_WINE_EXEC not set: the MSI was not installed under Wine (make test sets it)")
	}
	prefix := os.Getenv("WINEPREFIX")
	if prefix == "" {
		prefix = filepath.Join(os.Getenv("HOME"), ".wine-shir")
	}
	return wineExec, filepath.Join(prefix, "drive_c")
}

// TestMSIUnderWine builds the real shir.exe into an MSI, signs it, and
// installs and removes it with Wine's msiexec: files, config, the
// properties that reached shir install, services, and a clean /x.
func TestMSIUnderWine(t *testing.T) {
	wineExec, driveC := wineEnv(t)
	needTool(t, "wixl", "wixl")
	needTool(t, "osslsigncode", "osslsigncode")
	ctx := context.Background()
	dir := t.TempDir()
	exe := filepath.Join(dir, "shir.exe")
	buildWindowsShir(t, wineExec, exe, "1.0.0")
	cert, key := testCert(t, "shir msi test")
	if err := Sign(ctx, SignOptions{In: exe, Cert: cert, Key: key}); err != nil {
		t.Fatal(err)
	}
	msi := filepath.Join(dir, "shir.msi")
	if err := BuildMSI(ctx, MSIOptions{Exe: exe, Version: "1.0.0", Out: msi, Properties: testProps, Secret: []string{"AUTHKEY", "PROXYPASSWORD"}}); err != nil {
		t.Fatal(err)
	}
	if err := Sign(ctx, SignOptions{In: msi, Cert: cert, Key: key}); err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, msi, cert, ""); err != nil {
		t.Fatal(err)
	}

	pf := filepath.Join(driveC, "Program Files", "shir")
	pd := filepath.Join(driveC, "ProgramData", "shir")
	msiexec := msiexecFunc(t, wineExec, dir, pf)

	// A property shir install refuses fails the custom action: Wine's msiexec
	// exits 1627 (Windows: 1603), cut to 8 bits, and rolls the files back.
	code, out := msiexec("/q", "/i", "shir.msi", "NOFIREWALL=1", "PORT=99999")
	if code != 1627&0xff {
		t.Errorf("install with PORT=99999: exit %d, want %d (1627 cut to 8 bits)\n%s", code, 1627&0xff, out)
	}
	if !strings.Contains(out, "PORT") {
		t.Errorf("the failure does not name PORT:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(pf, "shir.exe")); err == nil {
		t.Error("a failed install left shir.exe behind")
	}

	// .NET 4.7.2 is not in the prefix: the MSI passes IGNOREPREREQ through.
	code, out = msiexec("/q", "/i", "shir.msi", "NOFIREWALL=1", "IGNOREPREREQ=dotnet-472", "NODENAME=msi-node", "PORT=8061")
	if code != 0 {
		t.Fatalf("msiexec /i: exit %d\n%s", code, out)
	}
	for _, f := range []string{filepath.Join(pf, "shir.exe"), filepath.Join(pf, "dmgcmd.exe"), filepath.Join(pd, "shir.toml")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("after install: %v", err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(pd, "shir.toml")); !strings.Contains(string(b), `node_name = "msi-node"`) {
		t.Errorf("NODENAME did not reach shir install; shir.toml:\n%s", b)
	}
	journal, _ := os.ReadFile(filepath.Join(pd, "state", "install.json"))
	for _, want := range []string{`"PORT": "8061"`, `"NOFIREWALL": "1"`, `"INSTALLDIR": "C:\\Program Files\\shir\\"`} {
		if !strings.Contains(string(journal), want) {
			t.Errorf("install journal lacks %s:\n%s", want, journal)
		}
	}
	if !strings.Contains(out, "firewall: skipped (NOFIREWALL=1)") {
		t.Errorf("NOFIREWALL=1 was not honoured:\n%s", out)
	}
	installed, _ := os.ReadFile(filepath.Join(pf, "shir.exe"))
	signed, _ := os.ReadFile(exe)
	if !bytes.Equal(installed, signed) {
		t.Error("the installed shir.exe is not the signed one")
	}
	if sc := wineRun(t, wineExec, dir, "sc", "query", "shirhost"); !strings.Contains(sc, "SERVICE_NAME: shirhost") {
		t.Errorf("service shirhost not installed:\n%s", sc)
	}

	code, out = msiexec("/q", "/x", "shir.msi", "PURGE=1")
	if code != 0 {
		t.Fatalf("msiexec /x: exit %d\n%s", code, out)
	}
	for _, p := range []string{pf, pd} {
		if _, err := os.Stat(p); err == nil {
			ents, _ := os.ReadDir(p)
			t.Errorf("after msiexec /x PURGE=1: %s is still there (%v)", p, ents)
		}
	}
	if sc := wineRun(t, wineExec, dir, "sc", "query", "shirhost"); strings.Contains(sc, "SERVICE_NAME: shirhost") {
		t.Errorf("service shirhost still installed after /x:\n%s", sc)
	}
}

// buildWindowsShir builds shir.exe with the given version. Wine 8 needs Go's
// os.RemoveAll fallback (go-overlay.sh, next to go-wine-exec;
// ../shared/wine/README.md) for uninstall --purge; real Windows does not.
func buildWindowsShir(t *testing.T, wineExec, exe, version string) {
	t.Helper()
	goflags := ""
	if ov, err := exec.Command(filepath.Join(filepath.Dir(wineExec), "go-overlay.sh")).Output(); err == nil {
		goflags = "-overlay=" + strings.TrimSpace(string(ov))
	}
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -X github.com/shirhq/shir/internal/buildinfo.Version="+version, "-o", exe, "../cmd/shir")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=windows", "GOARCH=amd64", "GOFLAGS="+goflags)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build shir.exe: %v\n%s", err, out)
	}
}

// msiexecFunc returns a runner of Wine's msiexec in dir that gives the exit
// code and output. It fails the test if shir is installed in the prefix
// already (pf), and removes what the test installed at the end.
func msiexecFunc(t *testing.T, wineExec, dir, pf string) func(args ...string) (int, string) {
	t.Helper()
	msiexec := func(args ...string) (int, string) {
		cmd := exec.Command(wineExec, append([]string{"msiexec"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatalf("msiexec: %v", err)
		}
		return 0, string(out)
	}
	if _, err := os.Stat(pf); err == nil {
		t.Fatalf("%s exists before the test: this Wine prefix has a shir installed; remove it (wine msiexec /x) first", pf)
	}
	t.Cleanup(func() {
		if _, err := os.Stat(pf); err == nil {
			for _, m := range []string{"shir.msi", "shir-1.1.0.msi", "shir-1.0.0.msi"} {
				if _, err := os.Stat(filepath.Join(dir, m)); err == nil {
					msiexec("/q", "/x", m, "PURGE=1")
				}
			}
		}
	})
	return msiexec
}

// TestMSIMajorUpgradeUnderWine installs the 1.0.0 MSI, then the 1.1.0 MSI
// over it (MajorUpgrade: one product, same UpgradeCode): the new shir.exe is
// in place, the admin's shir.toml edit and the node state survive, the
// service stays installed, and installing 1.0.0 again is refused as a
// downgrade.
func TestMSIMajorUpgradeUnderWine(t *testing.T) {
	wineExec, driveC := wineEnv(t)
	needTool(t, "wixl", "wixl")
	ctx := context.Background()
	dir := t.TempDir()
	for _, v := range []string{"1.0.0", "1.1.0"} {
		exe := filepath.Join(dir, "shir-"+v+".exe")
		buildWindowsShir(t, wineExec, exe, v)
		if err := BuildMSI(ctx, MSIOptions{Exe: exe, Version: v, Out: filepath.Join(dir, "shir-"+v+".msi"), Properties: testProps, Secret: []string{"AUTHKEY", "PROXYPASSWORD"}}); err != nil {
			t.Fatal(err)
		}
	}
	pf := filepath.Join(driveC, "Program Files", "shir")
	pd := filepath.Join(driveC, "ProgramData", "shir")
	msiexec := msiexecFunc(t, wineExec, dir, pf)
	version := func() string {
		return wineRun(t, wineExec, dir, filepath.Join(pf, "shir.exe"), "version")
	}

	if code, out := msiexec("/q", "/i", "shir-1.0.0.msi", "NOFIREWALL=1", "IGNOREPREREQ=dotnet-472", "NODENAME=up-node"); code != 0 {
		t.Fatalf("msiexec /i 1.0.0: exit %d\n%s", code, out)
	}
	if v := version(); !strings.Contains(v, "1.0.0") {
		t.Fatalf("installed version: %s", v)
	}
	// The admin edits the config; the node has state.
	cfgPath := filepath.Join(pd, "shir.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(cfg), "concurrency = 0", "concurrency = 3", 1)
	if edited == string(cfg) {
		t.Fatalf("no concurrency line in shir.toml:\n%s", cfg)
	}
	os.WriteFile(cfgPath, []byte(edited), 0o644)
	marker := filepath.Join(pd, "state", "upgrade-marker")
	if err := os.WriteFile(marker, []byte("node state"), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out := msiexec("/q", "/i", "shir-1.1.0.msi", "NOFIREWALL=1", "IGNOREPREREQ=dotnet-472", "NODENAME=up-node")
	if code != 0 {
		t.Fatalf("msiexec /i 1.1.0 over 1.0.0: exit %d\n%s", code, out)
	}
	if v := version(); !strings.Contains(v, "1.1.0") {
		t.Errorf("after the upgrade shir.exe version says:\n%s", v)
	}
	if b, _ := os.ReadFile(cfgPath); !strings.Contains(string(b), "concurrency = 3") || !strings.Contains(string(b), `node_name = "up-node"`) {
		t.Errorf("the upgrade lost the admin's config:\n%s", b)
	}
	if b, err := os.ReadFile(marker); err != nil || string(b) != "node state" {
		t.Errorf("the upgrade lost node state: %q %v", b, err)
	}
	if sc := wineRun(t, wineExec, dir, "sc", "query", "shirhost"); !strings.Contains(sc, "SERVICE_NAME: shirhost") {
		t.Errorf("service shirhost gone after the upgrade:\n%s", sc)
	}
	// One product: the 1.0.0 one was removed by the upgrade.
	if code, _ := msiexec("/q", "/x", "shir-1.0.0.msi"); code == 0 {
		if _, err := os.Stat(filepath.Join(pf, "shir.exe")); err != nil {
			t.Errorf("removing the old product code removed the upgraded install: %v", err)
		}
	}

	// A downgrade is refused and leaves 1.1.0 in place.
	if code, out := msiexec("/q", "/i", "shir-1.0.0.msi", "NOFIREWALL=1", "IGNOREPREREQ=dotnet-472"); code == 0 {
		t.Errorf("installing 1.0.0 over 1.1.0 succeeded:\n%s", out)
	}
	if v := version(); !strings.Contains(v, "1.1.0") {
		t.Errorf("after the refused downgrade shir.exe version says:\n%s", v)
	}

	if code, out := msiexec("/q", "/x", "shir-1.1.0.msi", "PURGE=1"); code != 0 {
		t.Fatalf("msiexec /x 1.1.0: exit %d\n%s", code, out)
	}
	for _, p := range []string{pf, pd} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("after /x PURGE=1: %s is still there", p)
		}
	}
}

func wineRun(t *testing.T, wineExec, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(wineExec, args...)
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	return string(out)
}
