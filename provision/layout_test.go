package provision

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestLayoutStep(t *testing.T) {
	env := newEnv(t)
	src := filepath.Join(t.TempDir(), "shir-src")
	for _, content := range []string{"v1", "v2"} { // second run: upgrade in place
		if err := os.WriteFile(src, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		s := &layoutStep{Source: src}
		if err := s.Apply(context.Background(), env); err != nil {
			t.Fatal(err)
		}
		bin := env.Paths.Binary(runtime.GOOS)
		if b, err := os.ReadFile(bin); err != nil || !bytes.Equal(b, []byte(content)) {
			t.Fatalf("binary = %q, %v; want %q", b, err, content)
		}
		if b, err := os.ReadFile(dmgcmdPath(bin, runtime.GOOS)); err != nil || string(b) != content {
			t.Fatalf("dmgcmd = %q, %v", b, err)
		}
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(env.Paths.StateDir); fi.Mode().Perm() != 0o700 {
			t.Errorf("state dir mode %v, want 0700", fi.Mode().Perm())
		}
	}
	if err := os.WriteFile(filepath.Join(env.Paths.StateDir, "identity"), []byte("id"), 0o600); err != nil {
		t.Fatal(err)
	}
	env.uninstalling = true // as uninstall does: remove, not restore
	if err := (&layoutStep{Source: src}).Undo(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(env.Paths.BinDir); !os.IsNotExist(err) {
		t.Errorf("bin dir still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(env.Paths.StateDir, "identity")); err != nil {
		t.Errorf("undo removed state: %v", err)
	}
}

func TestLayoutMissingSource(t *testing.T) {
	env := newEnv(t)
	err := (&layoutStep{Source: filepath.Join(t.TempDir(), "nope")}).Apply(context.Background(), env)
	if err == nil {
		t.Fatal("no error for a missing source binary")
	}
	if ents, _ := os.ReadDir(env.Paths.BinDir); len(ents) != 0 {
		t.Errorf("half-written files left: %v", ents)
	}
}
