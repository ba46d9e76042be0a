package provision

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
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
	if err := os.MkdirAll(paths.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state dir %s: %w", paths.StateDir, err)
	}
	unlock, err := Lock(paths.StateDir)
	if err != nil {
		return nil, err
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
	return &Installation{Env: env, Runner: &Runner{Steps: steps}, unlock: unlock, goos: o.GOOS, sm: sm, stdin: o.Stdin}, nil
}

// Close releases the lock.
func (in *Installation) Close() { in.unlock() }

// Install runs (or resumes) the install and prints a summary.
func (in *Installation) Install(ctx context.Context) error {
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
		fmt.Fprintf(in.Env.Out, "purged state: %s (node identity and credentials are gone)\n", in.Env.Paths.StateDir)
	} else {
		fmt.Fprintf(in.Env.Out, "kept state: %s (a reinstall keeps this node's identity; --purge removes it)\n", in.Env.Paths.StateDir)
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
