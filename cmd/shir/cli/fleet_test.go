package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const testFleetYAML = `control_plane:
  url: https://127.0.0.1:1
  admin_token_file: admin.token
runtime: prod
auth_key:
  file: authkey
defaults:
  user: deploy
  identity_file: id
  properties:
    NOFIREWALL: "1"
hosts:
  - name: web1
    address: 10.0.0.1
  - name: win1
    address: 10.0.0.2
    os: windows
`

func TestFleetCloudInit(t *testing.T) {
	dir := t.TempDir()
	key := "SHIR@rt1@prod@ServiceEndpoint=https://cp.example:8443@s3cr3t-value"
	os.WriteFile(filepath.Join(dir, "authkey"), []byte(key+"\n"), 0o600)
	file := filepath.Join(dir, "fleet.yaml")
	os.WriteFile(file, []byte(testFleetYAML), 0o600)
	sum := strings.Repeat("ab", 32)
	out := filepath.Join(dir, "user-data")
	code, stdout, stderr := run(t, "shir", "fleet", "cloud-init", "-f", file, "--host", "web1", "--binary-url", "https://dl.example/shir", "--sha256", sum, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(b), "#cloud-config") || strings.Count(string(b), key) != 1 || !strings.Contains(string(b), "'NODENAME=web1' 'NOFIREWALL=1'") {
		t.Fatalf("user data (%v):\n%s", err, b)
	}
	if fi, _ := os.Stat(out); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if strings.Contains(stdout+stderr, "s3cr3t") {
		t.Error("the key was printed")
	}
	// The Windows host gets the PowerShell script.
	code, stdout, _ = run(t, "shir", "fleet", "cloud-init", "-f", file, "--host", "win1", "--binary-url", "https://dl.example/shir.exe", "--sha256", sum)
	if code != 0 || !strings.Contains(stdout, "Get-FileHash") || !strings.Contains(stdout, "'NODENAME=win1'") {
		t.Fatalf("windows: exit %d\n%s", code, stdout)
	}
	// Defaults only: no NODENAME (the VM's host name).
	code, stdout, _ = run(t, "shir", "fleet", "cloud-init", "-f", file, "--binary-url", "https://dl.example/shir", "--sha256", sum)
	if code != 0 || strings.Contains(stdout, "NODENAME") {
		t.Fatalf("defaults: exit %d\n%s", code, stdout)
	}
	for name, args := range map[string][]string{
		"no url":       {"--sha256", sum},
		"bad sha":      {"--binary-url", "https://dl.example/shir", "--sha256", "xyz"},
		"unknown host": {"--host", "nope", "--binary-url", "https://dl.example/shir", "--sha256", sum},
	} {
		code, _, stderr := run(t, append([]string{"shir", "fleet", "cloud-init", "-f", file}, args...)...)
		if code != 2 || strings.Contains(stderr, "s3cr3t") {
			t.Errorf("%s: exit %d %s", name, code, stderr)
		}
	}
}

func TestFleetBadFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "fleet.yaml")
	os.WriteFile(file, []byte(strings.Replace(testFleetYAML, "address: 10.0.0.2", "address: 10.0.0.2\n    port: 99999", 1)), 0o600)
	for _, verb := range []string{"plan", "apply"} {
		code, _, stderr := run(t, "shir", "fleet", verb, "-f", file)
		if code != 2 || !strings.Contains(stderr, "hosts[1] (win1): port: 99999 is not a TCP port") {
			t.Errorf("%s: exit %d: %s", verb, code, stderr)
		}
	}
	os.WriteFile(file, []byte(testFleetYAML), 0o600)
	code, _, stderr := run(t, "shir", "fleet", "plan", "-f", file, "--only", "web9")
	if code != 2 || !strings.Contains(stderr, `no host named "web9"`) {
		t.Errorf("--only: exit %d: %s", code, stderr)
	}
}
