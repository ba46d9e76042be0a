package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/shirhq/shir/provision"
)

func TestInstallRootSandbox(t *testing.T) {
	root := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "install.log")
	code, out, errOut := run(t, "shir", "install", "--root", root, "--no-service", "--dry-run", "NODENAME=n1", "IGNOREPREREQ=all")
	if code != 0 || !strings.Contains(out, "[layout] copy") || !strings.Contains(out, "nothing is changed") {
		t.Fatalf("dry-run: %d\n%s\n%s", code, out, errOut)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Fatalf("dry-run changed the root: %v", ents)
	}
	paths := provision.RootPaths(runtime.GOOS, root)

	code, out, errOut = run(t, "shir", "install", "/q", "/l*v", logFile, "--root", root, "--no-service", "NODENAME=n1", "PROXYPASSWORD=hunter2x", "IGNOREPREREQ=all")
	if code != 0 || !strings.Contains(out, "install complete") {
		t.Fatalf("install: %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(paths.Binary(runtime.GOOS)); err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(logFile)
	if err != nil || !strings.Contains(string(log), "install complete") || strings.Contains(string(log), "hunter2x") {
		t.Fatalf("log file (%v):\n%s", err, log)
	}
	journal, _ := os.ReadFile(paths.JournalFile())
	if strings.Contains(string(journal), "hunter2x") {
		t.Fatal("journal holds a secret")
	}

	// The admin edits shir.toml; uninstall keeps it (like a dpkg conffile)
	// and a reinstall keeps the edit.
	cfg, err := os.ReadFile(paths.ConfigFile)
	if err != nil || !strings.Contains(string(cfg), "concurrency = 0") {
		t.Fatalf("shir.toml: %v\n%s", err, cfg)
	}
	os.WriteFile(paths.ConfigFile, []byte(strings.Replace(string(cfg), "concurrency = 0", "concurrency = 5", 1)), 0o644)
	code, out, _ = run(t, "shir", "uninstall", "--root", root, "--no-service")
	if code != 0 || !strings.Contains(out, "kept state") || !strings.Contains(out, "[config] kept "+paths.ConfigFile) {
		t.Fatalf("uninstall: %d\n%s", code, out)
	}
	if b, _ := os.ReadFile(paths.ConfigFile); !strings.Contains(string(b), "concurrency = 5") {
		t.Errorf("uninstall did not keep the edited shir.toml:\n%s", b)
	}
	if code, out, errOut = run(t, "shir", "install", "/q", "--root", root, "--no-service", "NODENAME=n1", "IGNOREPREREQ=all"); code != 0 {
		t.Fatalf("reinstall: %d\n%s\n%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(paths.ConfigFile); !strings.Contains(string(b), "concurrency = 5") {
		t.Errorf("reinstall lost the admin's edit:\n%s", b)
	}
	code, out, _ = run(t, "shir", "uninstall", "--root", root, "--no-service")
	if code != 0 || !strings.Contains(out, "kept state") {
		t.Fatalf("uninstall: %d\n%s", code, out)
	}
	if _, err := os.Stat(paths.BinDir); !os.IsNotExist(err) {
		t.Errorf("bin dir left after uninstall: %v", err)
	}
	if _, err := os.Stat(paths.StateDir); err != nil {
		t.Errorf("state removed without --purge: %v", err)
	}
	code, out, _ = run(t, "shir", "uninstall", "--root", root, "--no-service", "--purge")
	if code != 0 || !strings.Contains(out, "purged state") {
		t.Fatalf("uninstall --purge: %d\n%s", code, out)
	}
	for _, p := range []string{paths.StateDir, paths.ConfigFile} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left after --purge: %v", p, err)
		}
	}
}
