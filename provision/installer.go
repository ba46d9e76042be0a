package provision

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Options configures an install, uninstall or repair.
type Options struct {
	Inv    Invocation
	GOOS   string // default runtime.GOOS
	Source string // binary to install; default the running executable
	Out    io.Writer
	Log    *slog.Logger
	Stdin  io.Reader // AUTHKEY=-
	// VerifyTimeout bounds the wait for the first heartbeat (default 60 s).
	VerifyTimeout time.Duration
	// Extra steps supplied by the caller (the CLI composes prereq, firewall,
	// register, start and verify from their packages), run after the built-in
	// ones in the order given.
	Extra []Step
}

// Installation is a prepared install: paths, journal, lock and steps.
type Installation struct {
	Env    *Env
	Runner *Runner
	unlock func()
	goos   string
	sm     serviceManager
	stdin  io.Reader
	source string
}

// Open takes the one-installation lock, loads the journal and builds the
// step list. Close releases the lock.
func Open(o Options) (*Installation, error) {
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	paths := DefaultPaths(o.GOOS)
	if o.Inv.Root != "" {
		paths = RootPaths(o.GOOS, o.Inv.Root)
	}
	paths = paths.WithProps(o.Inv.Props)
	unlock := func() {}
	if _, err := os.Stat(paths.StateDir); err == nil || !o.Inv.DryRun {
		// A dry run on a machine without an installation creates nothing,
		// not even the state dir for the lock.
		if err := os.MkdirAll(paths.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("create state dir %s: %w", paths.StateDir, err)
		}
		if unlock, err = Lock(paths.StateDir); err != nil {
			return nil, err
		}
	}
	j, err := LoadJournal(paths.JournalFile())
	if err != nil {
		unlock()
		return nil, err
	}
	env := &Env{Paths: paths, Root: o.Inv.Root, Props: o.Inv.Props, NoService: o.Inv.NoService, Out: o.Out, Log: o.Log, Journal: j}
	steps := []Step{&prereqStep{}, &layoutStep{Source: o.Source, GOOS: o.GOOS}}
	sm := kardianosManager{}
	steps = append(steps, &configStep{},
		&servicesStep{GOOS: o.GOOS, SM: sm, Run: execRunner{}},
		&firewallStep{},
		&registerStep{Stdin: o.Stdin},
		&startStep{GOOS: o.GOOS, SM: sm},
		&verifyStep{Timeout: o.VerifyTimeout})
	steps = append(steps, o.Extra...)
	return &Installation{Env: env, Runner: &Runner{Steps: steps}, unlock: unlock, goos: o.GOOS, sm: sm, stdin: o.Stdin, source: o.Source}, nil
}

// Close releases the lock.
func (in *Installation) Close() { in.unlock() }

// Install runs (or resumes) the install and prints a summary. Over a
// completed installation whose binary differs from the one installing, it
// upgrades in place: the steps that lay out, configure, install and start are
// applied again; registration (identity), credentials and config are kept.
func (in *Installation) Install(ctx context.Context) error {
	if j := in.Env.Journal; j.Completed && in.binaryChanged() {
		fmt.Fprintf(in.Env.Out, "upgrading the installation in place (node identity, credentials and config are kept)\n")
		keep := j.Done[:0]
		for _, d := range j.Done {
			if d == "register" || d == "firewall" {
				keep = append(keep, d)
			}
		}
		j.Done, j.Completed = keep, false
	}
	rep, err := in.Runner.Install(ctx, in.Env)
	in.summary(rep, err)
	return err
}

// Repair re-applies every step.
func (in *Installation) Repair(ctx context.Context) error {
	in.Env.Journal.Done = nil
	in.Env.Journal.Completed = false
	return in.Install(ctx)
}

// Uninstall undoes every recorded step; purge also removes the state dir
// (node identity and credentials).
func (in *Installation) Uninstall(ctx context.Context, purge bool) error {
	in.Env.purging = purge
	undone, err := in.Runner.Uninstall(ctx, in.Env)
	if err != nil {
		return err
	}
	fmt.Fprintf(in.Env.Out, "uninstalled: %s\n", strings.Join(undone, ", "))
	if purge {
		in.unlock()
		in.unlock = func() {}
		if err := os.RemoveAll(in.Env.Paths.StateDir); err != nil {
			return fmt.Errorf("purge %s: %w", in.Env.Paths.StateDir, err)
		}
		if err := os.Remove(in.Env.Paths.ConfigFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("purge %s: %w", in.Env.Paths.ConfigFile, err)
		}
		// /etc/shir (Linux) is empty now unless the admin put files there.
		if dir := filepath.Dir(in.Env.Paths.ConfigFile); filepath.Base(dir) == "shir" && dir != filepath.Dir(in.Env.Paths.StateDir) {
			_ = os.Remove(dir)
		}
		// %ProgramData%\shir (Windows) is left empty by now: remove it too.
		if parent := filepath.Dir(in.Env.Paths.StateDir); filepath.Base(parent) == "shir" {
			_ = os.Remove(parent)
		}
		fmt.Fprintf(in.Env.Out, "purged state: %s (node identity and credentials are gone)\n", in.Env.Paths.StateDir)
	} else {
		fmt.Fprintf(in.Env.Out, "kept state: %s and %s (a reinstall keeps this node's identity and settings; --purge removes them)\n", in.Env.Paths.StateDir, in.Env.Paths.ConfigFile)
	}
	return nil
}

// Plan returns the dry-run plan.
func (in *Installation) Plan() []string { return in.Runner.Plan(in.Env) }

func (in *Installation) summary(rep Report, err error) {
	w := in.Env.Out
	if err != nil {
		fmt.Fprintf(w, "install failed: %v\n", err)
		if len(rep.Undone) > 0 {
			fmt.Fprintf(w, "rolled back: %s\n", strings.Join(rep.Undone, ", "))
		}
		return
	}
	fmt.Fprintln(w, "install complete")
	if len(rep.Applied) > 0 {
		fmt.Fprintf(w, "  applied: %s\n", strings.Join(rep.Applied, ", "))
	}
	if len(rep.Resumed) > 0 {
		fmt.Fprintf(w, "  already done: %s\n", strings.Join(rep.Resumed, ", "))
	}
	for _, step := range slices.Sorted(maps.Keys(rep.Skipped)) {
		fmt.Fprintf(w, "  skipped %s: %s\n", step, rep.Skipped[step])
	}
}

// binaryChanged reports whether the installed binary differs from the one
// this install would lay out.
func (in *Installation) binaryChanged() bool {
	src := in.source
	if src == "" {
		exe, err := os.Executable()
		if err != nil {
			return false
		}
		src = exe
	}
	same, err := sameContent(src, in.Env.Paths.Binary(in.goos))
	return err == nil && !same
}

func sameContent(a, b string) (bool, error) {
	ha, err := fileSHA256(a)
	if err != nil {
		return false, err
	}
	hb, err := fileSHA256(b)
	if err != nil {
		return false, err
	}
	return ha == hb, nil
}

func fileSHA256(path string) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}
