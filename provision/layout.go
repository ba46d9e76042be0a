package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/shirhq/shir/updater"
)

// layoutStep copies the shir binary into BinDir (with a dmgcmd link next to
// it) and creates the config, state and log directories with tight
// permissions. Undo removes the binaries and empty directories; state is kept
// (node identity and credentials survive a reinstall) unless uninstall purges.
type layoutStep struct {
	Source string // binary to install; "" means the running executable
	GOOS   string
}

var (
	_ Step    = (*layoutStep)(nil)
	_ Undoer  = (*layoutStep)(nil)
	_ Planner = (*layoutStep)(nil)
)

func (*layoutStep) Name() string { return "layout" }

func (s *layoutStep) goos() string {
	if s.GOOS != "" {
		return s.GOOS
	}
	return runtime.GOOS
}

func (s *layoutStep) source() (string, error) {
	if s.Source != "" {
		return s.Source, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the running executable: %w", err)
	}
	return filepath.EvalSymlinks(exe)
}

func (s *layoutStep) Plan(env *Env) []string {
	src, _ := s.source()
	return []string{
		fmt.Sprintf("copy %s to %s (+ dmgcmd)", src, env.Paths.Binary(s.goos())),
		fmt.Sprintf("create %s (0700), %s, %s", env.Paths.StateDir, env.Paths.LogDir, filepath.Dir(env.Paths.ConfigFile)),
	}
}

func (s *layoutStep) Apply(_ context.Context, env *Env) error {
	p := env.Paths
	for _, d := range []struct {
		path string
		perm os.FileMode
	}{{p.BinDir, 0o755}, {filepath.Dir(p.ConfigFile), 0o755}, {p.StateDir, 0o700}, {p.LogDir, 0o750}} {
		if err := os.MkdirAll(d.path, d.perm); err != nil {
			return fmt.Errorf("create %s: %w", d.path, err)
		}
		if err := os.Chmod(d.path, d.perm); err != nil {
			return fmt.Errorf("chmod %s: %w", d.path, err)
		}
	}
	src, err := s.source()
	if err != nil {
		return err
	}
	dst := p.Binary(s.goos())
	if same, _ := sameFile(src, dst); !same {
		// An upgrade keeps the binary it replaces, so that undo restores it:
		// a failed upgrade must leave the old node working, not none.
		if _, err := os.Stat(dst); err == nil {
			if err := copyFile(dst, dst+prevSuffix, 0o755); err != nil {
				return fmt.Errorf("keep the previous binary: %w", err)
			}
		}
		if err := copyFile(src, dst, 0o755); err != nil {
			return err
		}
		env.printf("layout", "installed %s", dst)
	}
	return linkDmgcmd(dst, s.goos())
}

// prevSuffix names the binary an upgrade replaced.
const prevSuffix = ".prev"

func (s *layoutStep) Undo(_ context.Context, env *Env) error {
	p := env.Paths
	bin := p.Binary(s.goos())
	if _, err := os.Stat(bin + prevSuffix); err == nil && !env.uninstalling {
		// A failed upgrade: put the previous binary back.
		if err := replaceFile(bin+prevSuffix, bin); err != nil {
			return fmt.Errorf("restore the previous binary: %w", err)
		}
		env.printf("layout", "restored the previous %s", bin)
		return linkDmgcmd(bin, s.goos())
	}
	var errs []error
	dmg := dmgcmdPath(bin, s.goos())
	// Also what the updater leaves next to the binary: the replaced binary
	// it keeps for a rollback, a failed one, and an old dmgcmd name.
	for _, f := range []string{dmg, bin, bin + prevSuffix, updater.OldBinaryPath(bin), updater.OldBinaryPath(dmg), bin + ".bad"} {
		if err := removeFile(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	// Only empty directories go; the state dir stays.
	for _, d := range []string{p.BinDir, p.LogDir, filepath.Dir(p.ConfigFile)} {
		_ = os.Remove(d)
	}
	return errors.Join(errs...)
}

func dmgcmdPath(bin, goos string) string {
	if goos == "windows" {
		return filepath.Join(filepath.Dir(bin), "dmgcmd.exe")
	}
	return filepath.Join(filepath.Dir(bin), "dmgcmd")
}

// linkDmgcmd makes dmgcmd run shir: a symlink on Unix, a hard link (or copy)
// on Windows, where the file name is what dispatches.
func linkDmgcmd(bin, goos string) error {
	link := dmgcmdPath(bin, goos)
	tmp := link + ".new"
	_ = os.Remove(tmp)
	var err error
	if goos == "windows" {
		if err = os.Link(bin, tmp); err != nil {
			err = copyFile(bin, tmp, 0o755)
		}
	} else {
		err = os.Symlink(filepath.Base(bin), tmp)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("create %s: %w", link, err)
	}
	return nil
}

func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

// copyFile copies src to dst through a temp file and a rename, so dst is
// never half-written. On Windows a running dst is renamed aside first.
func copyFile(src, dst string, perm os.FileMode) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp*")
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(out.Name())
		}
	}()
	if _, err = io.Copy(out, in); err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	if err = out.Chmod(perm); err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	if err = out.Sync(); err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	if err = out.Close(); err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	if err = replaceFile(out.Name(), dst); err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	return nil
}
