package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestPackagingRenderFiles(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := run(t, "shir", "packaging", "render-files", "--out", dir)
	if code != 0 || !strings.Contains(out, "wrote shir-host.service, shir-updater.service, shir.toml") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "shir-host.service"))
	if err != nil || !strings.Contains(string(b), "ExecStart=/opt/shir/shir agent run --config /etc/shir/shir.toml") {
		t.Errorf("shir-host.service: %v\n%s", err, b)
	}
	if code, out, _ = run(t, "shir", "packaging", "render-files", "--out", dir); code != 0 || !strings.Contains(out, "up to date") {
		t.Errorf("second run: exit %d, %q; want up to date", code, out)
	}
}

func TestPackagingUsage(t *testing.T) {
	for _, args := range [][]string{
		{"packaging"},
		{"packaging", "msi"},
		{"packaging", "msi", "--exe", "x.exe", "--version", "1.0.0"},
		{"packaging", "sign", "--in", "x.exe"},
		{"packaging", "verify"},
	} {
		if code, _, errOut := run(t, append([]string{"shir"}, args...)...); code != 2 {
			t.Errorf("shir %s: exit %d, want 2\n%s", strings.Join(args, " "), code, errOut)
		}
	}
}

func TestPackagingVerifyUnsigned(t *testing.T) {
	if _, err := exec.LookPath("osslsigncode"); err != nil {
		t.Skip("osslsigncode not installed: verify was not run")
	}
	f := filepath.Join(t.TempDir(), "unsigned.exe")
	if err := os.WriteFile(f, []byte("MZ not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "shir", "packaging", "verify", f)
	if code != 1 || !strings.Contains(errOut, "no valid Authenticode signature") {
		t.Errorf("exit %d, want 1 naming the missing signature\n%s", code, errOut)
	}
}
