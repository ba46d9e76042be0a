package packaging

import (
	"bytes"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/shirhq/shir/internal/nodeconfig"
)

// TestCommittedFilesAreRendered keeps packaging/files equal to what
// RenderFiles makes (one source of truth: templates).
func TestCommittedFilesAreRendered(t *testing.T) {
	files, err := RenderFiles()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("files", name))
		if err != nil {
			t.Fatal(err)
		}
		got = bytes.ReplaceAll(got, []byte("\r\n"), []byte("\n"))
		if !bytes.Equal(got, want) {
			t.Errorf("files/%s differs from the rendered one: run go run ./cmd/shir packaging render-files", name)
		}
	}
}

// TestShippedConfigIsWhatInstallWrites: shir install's config step (load,
// set state_dir, encode) leaves the shipped conffile byte for byte as it
// is, so a postinst running shir install does not modify a conffile.
func TestShippedConfigIsWhatInstallWrites(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the Linux conffile's paths are not absolute on Windows: checked by the linux run")
	}
	b, err := os.ReadFile(filepath.Join("files", "shir.toml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := nodeconfig.Parse(b)
	if err != nil {
		t.Fatalf("shipped shir.toml does not parse: %v", err)
	}
	c.StateDir = StateDir
	if err := c.Validate(); err != nil {
		t.Fatalf("shipped shir.toml is not valid: %v", err)
	}
	again, err := nodeconfig.Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), again) {
		t.Errorf("shir install would rewrite the conffile:\n%s\nwant:\n%s", again, b)
	}
}

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	changed, err := WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"shir-host.service", "shir-updater.service", "shir.toml"}; !slices.Equal(changed, want) {
		t.Errorf("first write changed %v, want %v", changed, want)
	}
	if changed, err = WriteFiles(dir); err != nil || len(changed) != 0 {
		t.Errorf("second write changed %v (%v), want nothing", changed, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "shir.toml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if changed, err = WriteFiles(dir); err != nil || !slices.Equal(changed, []string{"shir.toml"}) {
		t.Errorf("after editing shir.toml: changed %v (%v), want [shir.toml]", changed, err)
	}
}

// TestScriptsParse runs sh -n (and dash, Debian's /bin/sh) on the
// maintainer scripts.
func TestScriptsParse(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("maintainer scripts are checked by the linux run")
	}
	scripts, _ := filepath.Glob(filepath.Join("files", "scripts", "*.sh"))
	if len(scripts) != 3 {
		t.Fatalf("want 3 maintainer scripts, found %v", scripts)
	}
	for _, s := range scripts {
		if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", s, err, out)
		}
		if fi, err := os.Stat(s); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable", s)
		}
	}
}

func testLogger(t *testing.T) *slog.Logger { return slog.New(slog.NewTextHandler(t.Output(), nil)) }
