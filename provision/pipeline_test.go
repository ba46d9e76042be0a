package provision

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/prereq"
)

// fakeStep records what happens to it in a shared log.
type fakeStep struct {
	name    string
	log     *[]string
	failOn  int // fail the n-th Apply (1-based); 0 never
	applies int
	skip    string
}

func (s *fakeStep) Name() string { return s.name }
func (s *fakeStep) Apply(context.Context, *Env) error {
	s.applies++
	*s.log = append(*s.log, "apply "+s.name)
	if s.applies == s.failOn {
		return errors.New("boom")
	}
	return nil
}
func (s *fakeStep) Undo(context.Context, *Env) error {
	*s.log = append(*s.log, "undo "+s.name)
	return nil
}
func (s *fakeStep) Skip(*Env) (bool, string) { return s.skip != "", s.skip }
func (s *fakeStep) Plan(*Env) []string       { return []string{"do " + s.name} }

var (
	_ Step    = (*fakeStep)(nil)
	_ Undoer  = (*fakeStep)(nil)
	_ Skipper = (*fakeStep)(nil)
	_ Planner = (*fakeStep)(nil)
)

func newEnv(t *testing.T) *Env {
	t.Helper()
	p := RootPaths(runtime.GOOS, t.TempDir())
	if err := os.MkdirAll(p.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	j, err := LoadJournal(p.JournalFile())
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Paths: p, Props: PropertySet{}, Out: io.Discard, Log: slog.New(slog.DiscardHandler), Journal: j}
}

func steps(log *[]string, names ...string) []*fakeStep {
	var out []*fakeStep
	for _, n := range names {
		out = append(out, &fakeStep{name: n, log: log})
	}
	return out
}

func asSteps(fs []*fakeStep) []Step {
	out := make([]Step, len(fs))
	for i, f := range fs {
		out[i] = f
	}
	return out
}

func TestRunnerUndoInReverseThenResume(t *testing.T) {
	var log []string
	fs := steps(&log, "a", "b", "c", "d")
	fs[2].failOn = 1 // c fails once
	fs[1].skip = "not needed"
	env := newEnv(t)
	r := &Runner{Steps: asSteps(fs)}

	rep, err := r.Install(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "step c: boom") {
		t.Fatalf("err = %v", err)
	}
	if got, want := strings.Join(log, ","), "apply a,apply c,undo c,undo a"; got != want {
		t.Errorf("log %s, want %s", got, want)
	}
	if strings.Join(rep.Undone, ",") != "c,a" || rep.Skipped["b"] != "not needed" {
		t.Errorf("report %+v", rep)
	}

	// A second run starts over (everything was undone) and succeeds.
	log = nil
	if _, err := r.Install(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(log, ","), "apply a,apply c,apply d"; got != want {
		t.Errorf("second run %s, want %s", got, want)
	}
	// Reloading the journal shows a completed install; a third run applies nothing.
	j, err := LoadJournal(env.Paths.JournalFile())
	if err != nil || !j.Completed || strings.Join(j.Done, ",") != "a,c,d" {
		t.Fatalf("journal %+v, %v", j, err)
	}
	env.Journal = j
	log = nil
	rep, err = r.Install(context.Background(), env)
	if err != nil || len(log) != 0 || strings.Join(rep.Resumed, ",") != "a,c,d" {
		t.Errorf("idempotent re-run: log %v, report %+v, err %v", log, rep, err)
	}

	// Uninstall undoes what is done, in reverse.
	log = nil
	undone, err := r.Uninstall(context.Background(), env)
	if err != nil || strings.Join(undone, ",") != "d,c,a" || strings.Join(log, ",") != "undo d,undo c,undo a" {
		t.Errorf("uninstall: %v %v %v", undone, log, err)
	}
}

func TestRunnerResumeAfterCrash(t *testing.T) {
	var log []string
	fs := steps(&log, "a", "b", "c")
	env := newEnv(t)
	// Simulate a crash after a and b: the journal says so.
	env.Journal.markDone("a")
	env.Journal.markDone("b")
	if err := env.Journal.save(); err != nil {
		t.Fatal(err)
	}
	j, _ := LoadJournal(env.Paths.JournalFile())
	env.Journal = j
	rep, err := (&Runner{Steps: asSteps(fs)}).Install(context.Background(), env)
	if err != nil || strings.Join(log, ",") != "apply c" || strings.Join(rep.Resumed, ",") != "a,b" {
		t.Fatalf("log %v rep %+v err %v", log, rep, err)
	}
}

func TestRunnerCancelled(t *testing.T) {
	var log []string
	env := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&Runner{Steps: asSteps(steps(&log, "a"))}).Install(ctx, env)
	if exitcode.Code(err) != exitcode.Cancelled || len(log) != 0 {
		t.Fatalf("err %v log %v", err, log)
	}
}

func TestPlanAndJournalHaveNoSecrets(t *testing.T) {
	var log []string
	fs := steps(&log, "a", "b")
	fs[1].skip = "NOFIREWALL=1"
	env := newEnv(t)
	env.Props = PropertySet{"AUTHKEY": testKey, "NODENAME": "n1", "PROXYPASSWORD": "hunter2"}
	r := &Runner{Steps: asSteps(fs)}
	if got, want := strings.Join(r.Plan(env), "\n"), "[a] do a\n[b] skip: NOFIREWALL=1"; got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
	if len(log) != 0 {
		t.Errorf("plan applied steps: %v", log)
	}
	if _, err := r.Install(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(env.Paths.JournalFile())
	if strings.Contains(string(b), "abcdefghijklmnop") || strings.Contains(string(b), "hunter2") || !strings.Contains(string(b), `"NODENAME": "n1"`) {
		t.Errorf("journal:\n%s", b)
	}
}

func TestCorruptJournalIsNotReplaced(t *testing.T) {
	env := newEnv(t)
	if err := os.WriteFile(env.Paths.JournalFile(), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadJournal(env.Paths.JournalFile()); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("err = %v", err)
	}
	b, _ := os.ReadFile(env.Paths.JournalFile())
	if string(b) != "{not json" {
		t.Error("corrupt journal was changed")
	}
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(dir); exitcode.Code(err) != exitcode.Locked || exitcode.MSICode(err) != exitcode.MSIAlreadyRunning {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	unlock2, err := Lock(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}

type fakeCheck struct {
	id string
	v  prereq.Verdict
}

func (c fakeCheck) ID() string                           { return c.id }
func (c fakeCheck) Check(context.Context) prereq.Verdict { return c.v }

func TestPrereqStepStopsInstall(t *testing.T) {
	env := newEnv(t)
	var out strings.Builder
	env.Out = &out
	failing := &prereqStep{checks: func(prereq.Options) []prereq.Checker {
		return []prereq.Checker{fakeCheck{"dotnet-472", prereq.Fail(prereq.SeverityError, "install .NET 4.7.2", ".NET is too old")}}
	}}
	var log []string
	r := &Runner{Steps: append([]Step{failing}, asSteps(steps(&log, "layout"))...)}
	_, err := r.Install(context.Background(), env)
	if exitcode.Code(err) != exitcode.Prereq || len(log) != 0 {
		t.Fatalf("err %v (code %d), log %v", err, exitcode.Code(err), log)
	}
	if !strings.Contains(err.Error(), "IGNOREPREREQ=dotnet-472") {
		t.Errorf("error does not say how to install anyway: %v", err)
	}
	if !strings.Contains(out.String(), "install .NET 4.7.2") {
		t.Errorf("fix hint not shown:\n%s", out.String())
	}
	// IGNOREPREREQ turns the error into a warning.
	env.Props = PropertySet{"IGNOREPREREQ": "dotnet-472"}
	if _, err := r.Install(context.Background(), env); err != nil || strings.Join(log, ",") != "apply layout" {
		t.Fatalf("with IGNOREPREREQ: %v %v", err, log)
	}
}
