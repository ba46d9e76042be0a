package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/shirhq/shir/internal/atomicfile"
	"github.com/shirhq/shir/internal/exitcode"
)

// Step is one stage of the install pipeline. Apply must be idempotent: a
// re-run after a crash may call it again.
type Step interface {
	Name() string
	Apply(ctx context.Context, env *Env) error
}

// Undoer is implemented by steps that can reverse themselves. Undo runs on a
// failed install (in reverse order) and on uninstall; it must work even when
// Apply failed half-way.
type Undoer interface {
	Undo(ctx context.Context, env *Env) error
}

// Skipper is implemented by steps that are sometimes not needed (no AUTHKEY,
// NOFIREWALL=1); why is reported to the user.
type Skipper interface {
	Skip(env *Env) (skip bool, why string)
}

// Planner is implemented by steps that can say what they would do, for
// --dry-run.
type Planner interface {
	Plan(env *Env) []string
}

// Env is what every step sees.
type Env struct {
	Paths     Paths
	Root      string // --root DIR, "" for a system install
	Props     PropertySet
	NoService bool
	Out       io.Writer    // user-facing progress, kubeadm style "[step] ..."
	Log       *slog.Logger // diagnostics
	Journal   *Journal

	uninstalling bool // Undo runs for uninstall, not for a failed install
	purging      bool // uninstall --purge: configuration goes too
}

func (e *Env) printf(step, format string, a ...any) {
	if e.Out != nil {
		fmt.Fprintf(e.Out, "[%s] %s\n", step, fmt.Sprintf(format, a...))
	}
}

// Journal is the install state, saved as JSON (atomically) after each step so
// that a re-run resumes and uninstall knows what to undo. It never holds a
// secret: properties marked Secret are not saved.
type Journal struct {
	Version   int               `json:"version"`
	Props     map[string]string `json:"properties"`
	Done      []string          `json:"done"`
	Data      map[string]string `json:"data,omitempty"` // step outputs, e.g. "services.user"
	Completed bool              `json:"completed"`
	Updated   time.Time         `json:"updated"`
	path      string
}

const journalVersion = 1

func (j *Journal) done(name string) bool {
	for _, d := range j.Done {
		if d == name {
			return true
		}
	}
	return false
}

func (j *Journal) markDone(name string) {
	if !j.done(name) {
		j.Done = append(j.Done, name)
	}
}

func (j *Journal) unmark(name string) {
	out := j.Done[:0]
	for _, d := range j.Done {
		if d != name {
			out = append(out, d)
		}
	}
	j.Done = out
}

// Set records a step output.
func (j *Journal) Set(key, value string) {
	if j.Data == nil {
		j.Data = map[string]string{}
	}
	j.Data[key] = value
}

// Get returns a step output.
func (j *Journal) Get(key string) string { return j.Data[key] }

func (j *Journal) save() error {
	j.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(j.path, b, 0o600)
}

// LoadJournal reads the journal at path; a missing file is an empty journal.
// A corrupt journal is an error (never silently replaced).
func LoadJournal(path string) (*Journal, error) {
	j := &Journal{Version: journalVersion, Props: map[string]string{}, path: path}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read install journal: %w", err)
	}
	if err := json.Unmarshal(b, j); err != nil {
		return nil, fmt.Errorf("install journal %s is corrupt (%v): move it aside and run repair", path, err)
	}
	if j.Version != journalVersion {
		return nil, fmt.Errorf("install journal %s has version %d, this shir understands %d", path, j.Version, journalVersion)
	}
	if j.Props == nil {
		j.Props = map[string]string{}
	}
	j.path = path
	return j, nil
}

// Report says what an install did.
type Report struct {
	Applied []string          // steps applied in this run
	Resumed []string          // steps already done by an earlier run
	Skipped map[string]string // step -> why
	Undone  []string          // steps undone after a failure
}

// Runner runs steps in order with a journal and a machine-wide lock.
type Runner struct {
	Steps []Step
}

// Lock takes the one-installation lock in dir, or fails with ErrLocked.
func Lock(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	fl := flock.New(filepath.Join(dir, "install.lock"))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", fl.Path(), err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s is locked by another shir install, repair or uninstall", exitcode.ErrLocked, fl.Path())
	}
	return func() { _ = fl.Unlock() }, nil
}

// Install applies every step that is not done yet. On failure it undoes the
// steps it completed, in reverse, and returns the step error joined with any
// undo errors.
func (r *Runner) Install(ctx context.Context, env *Env) (Report, error) {
	rep := Report{Skipped: map[string]string{}}
	j := env.Journal
	for name, v := range env.Props {
		if p, _ := LookupProperty(name); !p.Secret {
			j.Props[name] = v
		}
	}
	var appliedSteps []Step
	for _, s := range r.Steps {
		if err := ctx.Err(); err != nil {
			return rep, r.rollback(ctx, env, appliedSteps, &rep, fmt.Errorf("%w: %w", exitcode.ErrCancelled, err))
		}
		if j.done(s.Name()) {
			rep.Resumed = append(rep.Resumed, s.Name())
			continue
		}
		if sk, ok := s.(Skipper); ok {
			if skip, why := sk.Skip(env); skip {
				rep.Skipped[s.Name()] = why
				env.printf(s.Name(), "skipped: %s", why)
				continue
			}
		}
		env.Log.Info("step start", "step", s.Name())
		if err := s.Apply(ctx, env); err != nil {
			err = fmt.Errorf("step %s: %w", s.Name(), err)
			env.printf(s.Name(), "failed: %v", err)
			// The failed step may have done part of its work.
			return rep, r.rollback(ctx, env, append(appliedSteps, s), &rep, err)
		}
		j.markDone(s.Name())
		if err := j.save(); err != nil {
			return rep, r.rollback(ctx, env, append(appliedSteps, s), &rep, fmt.Errorf("step %s: save journal: %w", s.Name(), err))
		}
		appliedSteps = append(appliedSteps, s)
		rep.Applied = append(rep.Applied, s.Name())
	}
	j.Completed = true
	return rep, j.save()
}

// rollback undoes steps in reverse with a context that survives cancellation.
func (r *Runner) rollback(ctx context.Context, env *Env, steps []Step, rep *Report, cause error) error {
	ctx = context.WithoutCancel(ctx)
	errs := []error{cause}
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		u, ok := s.(Undoer)
		if !ok {
			continue
		}
		if err := u.Undo(ctx, env); err != nil {
			errs = append(errs, fmt.Errorf("undo %s: %w", s.Name(), err))
			env.printf(s.Name(), "undo failed: %v", err)
			continue
		}
		env.Journal.unmark(s.Name())
		rep.Undone = append(rep.Undone, s.Name())
		env.printf(s.Name(), "undone")
	}
	if err := env.Journal.save(); err != nil {
		errs = append(errs, fmt.Errorf("save journal: %w", err))
	}
	return errors.Join(errs...)
}

// errKept is wrapped by an Undo that deliberately left its work in place
// on uninstall; its message says what was kept.
var errKept = errors.New("kept")

// Uninstall undoes every step that is recorded as done, in reverse order.
func (r *Runner) Uninstall(ctx context.Context, env *Env) ([]string, error) {
	env.uninstalling = true
	defer func() { env.uninstalling = false }()
	var undone []string
	var errs []error
	for i := len(r.Steps) - 1; i >= 0; i-- {
		s := r.Steps[i]
		if !env.Journal.done(s.Name()) {
			continue
		}
		msg := "removed"
		if u, ok := s.(Undoer); ok {
			err := u.Undo(ctx, env)
			switch {
			case errors.Is(err, errKept):
				msg = err.Error()
			case err != nil:
				errs = append(errs, fmt.Errorf("undo %s: %w", s.Name(), err))
				continue
			}
		}
		env.Journal.unmark(s.Name())
		undone = append(undone, s.Name())
		env.printf(s.Name(), "%s", msg)
	}
	env.Journal.Completed = false
	if err := env.Journal.save(); err != nil {
		errs = append(errs, err)
	}
	return undone, errors.Join(errs...)
}

// Plan lists what Install would do, without changing anything.
func (r *Runner) Plan(env *Env) []string {
	var out []string
	for _, s := range r.Steps {
		switch {
		case env.Journal.done(s.Name()):
			out = append(out, fmt.Sprintf("[%s] already done", s.Name()))
			continue
		}
		if sk, ok := s.(Skipper); ok {
			if skip, why := sk.Skip(env); skip {
				out = append(out, fmt.Sprintf("[%s] skip: %s", s.Name(), why))
				continue
			}
		}
		if p, ok := s.(Planner); ok {
			for _, line := range p.Plan(env) {
				out = append(out, fmt.Sprintf("[%s] %s", s.Name(), line))
			}
		} else {
			out = append(out, fmt.Sprintf("[%s] apply", s.Name()))
		}
	}
	return out
}
