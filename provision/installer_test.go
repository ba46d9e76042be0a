package provision

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestUpgradeInPlace installs one binary, then another over it: the new
// binary is laid out, config and state stay.
func TestUpgradeInPlace(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(t.TempDir(), "shir-src")
	install := func(content string) string {
		t.Helper()
		if err := os.WriteFile(src, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		props := PropertySet{"NODENAME": "n1", "IGNOREPREREQ": "all"}
		in, err := Open(Options{Inv: Invocation{Root: root, NoService: true, Props: props}, Source: src, Out: &out})
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		if err := in.Install(context.Background()); err != nil {
			t.Fatalf("install %s: %v\n%s", content, err, out.String())
		}
		return out.String()
	}
	install("v1")
	paths := RootPaths(runtime.GOOS, root)
	// The admin edits the config; the node has state.
	cfg, _ := os.ReadFile(paths.ConfigFile)
	edited := regexp.MustCompile(`(?m)^concurrency = \d+$`).ReplaceAll(cfg, []byte("concurrency = 3"))
	if !strings.Contains(string(edited), "concurrency = 3") {
		t.Fatalf("config has no concurrency line:\n%s", cfg)
	}
	if err := os.WriteFile(paths.ConfigFile, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(paths.StateDir, "credentials.sealed")
	if err := os.WriteFile(state, []byte("creds"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Same binary again: nothing to do.
	if out := install("v1"); strings.Contains(out, "upgrading") || !strings.Contains(out, "already done") {
		t.Errorf("re-install of the same binary:\n%s", out)
	}
	out := install("v2")
	if !strings.Contains(out, "upgrading the installation in place") {
		t.Errorf("upgrade output:\n%s", out)
	}
	f, _ := os.Open(paths.Binary(runtime.GOOS))
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "v2" {
		t.Errorf("binary after upgrade = %q", b)
	}
	if cfg, _ := os.ReadFile(paths.ConfigFile); !strings.Contains(string(cfg), "concurrency = 3") {
		t.Errorf("config lost the admin's setting:\n%s", cfg)
	}
	if b, err := os.ReadFile(state); err != nil || string(b) != "creds" {
		t.Errorf("state lost: %q %v", b, err)
	}
}

// TestFailedUpgradeKeepsOldBinary: an upgrade that fails after the layout
// step puts the old binary back instead of leaving none.
func TestFailedUpgradeKeepsOldBinary(t *testing.T) {
	env := newEnv(t)
	src := filepath.Join(t.TempDir(), "src")
	lay := &layoutStep{Source: src}
	for _, v := range []string{"v1", "v2"} {
		if err := os.WriteFile(src, []byte(v), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := lay.Apply(context.Background(), env); err != nil {
			t.Fatal(err)
		}
	}
	if err := lay.Undo(context.Background(), env); err != nil { // the rollback of a failed v2 install
		t.Fatal(err)
	}
	if b, err := os.ReadFile(env.Paths.Binary(runtime.GOOS)); err != nil || string(b) != "v1" {
		t.Fatalf("after a failed upgrade the binary is %q, %v; want v1", b, err)
	}
}
