package updater

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sandbox is a node laid out under a --root directory, with the host running
// as a real child process from the binary that the updater replaces.
type sandbox struct {
	root, target, state string
	host                *ProcessHost
	feed                *feed
}

func newSandbox(t testing.TB, current string) *sandbox {
	t.Helper()
	root := t.TempDir()
	paths := SandboxPaths(root)
	s := &sandbox{root: root, target: paths.Binary, state: paths.StateDir}
	if err := os.MkdirAll(filepath.Dir(s.target), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.target, hostBinary(t, current, false, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	s.host = &ProcessHost{Path: s.target, Env: []string{
		"SHIR_UPDATER_TEST_HOST=1", "SHIR_TEST_HEALTH=" + filepath.Join(s.state, HealthFileName)},
		Output: t.Output()}
	if err := s.host.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.host.Stop() })
	if err := WaitHealthy(context.Background(), filepath.Join(s.state, HealthFileName), current, time.Time{}, 30*time.Second, s.host); err != nil {
		t.Fatalf("initial host: %v", err)
	}
	s.feed = newFeed(t, newKeys(t), time.Now())
	return s
}

func (s *sandbox) updater(t testing.TB, current string, timeout time.Duration) *Updater {
	t.Helper()
	u, err := New(Options{
		Source: &DirSource{Dir: s.feed.dir}, Trust: s.feed.keys.trust(),
		Policy:  Policy{Channel: "stable", AutoUpdate: true, NodeID: "node-1"},
		Current: current, Target: s.target, StateDir: s.state,
		Host: s.host, HealthTimeout: timeout, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func readReport(t *testing.T, state string) Report {
	t.Helper()
	var r Report
	b, err := os.ReadFile(filepath.Join(state, "last-update.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEndToEndGoodUpdate: the running host (1.0.0) is replaced by 1.1.0,
// restarted, and reports healthy on the new version. On Windows (Wine) this
// replaces the exe while it runs (renamed aside).
func TestEndToEndGoodUpdate(t *testing.T) {
	s := newSandbox(t, "1.0.0")
	s.feed.release(t, PublishOptions{Version: "1.1.0"}, hostBinary(t, "1.1.0", false, 0))
	u := s.updater(t, "1.0.0", 60*time.Second)
	res, err := u.Apply(context.Background(), Request{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeUpdated || res.To != "1.1.0" {
		t.Fatalf("result %+v", res)
	}
	h, err := ReadHealth(filepath.Join(s.state, HealthFileName))
	if err != nil || h.Version != "1.1.0" || h.PID != s.host.cmd.Process.Pid {
		t.Fatalf("health %+v %v (host pid %d)", h, err, s.host.cmd.Process.Pid)
	}
	if _, err := os.Stat(OldBinaryPath(s.target)); err != nil {
		t.Fatalf("old binary not kept: %v", err)
	}
	if r := readReport(t, s.state); r.Outcome != OutcomeUpdated || r.From != "1.0.0" || r.To != "1.1.0" {
		t.Fatalf("report %+v", r)
	}
}

// TestEndToEndBrokenRollsBack: 1.1.0 exits at start; the updater restores
// 1.0.0, restarts it, sees it healthy, marks 1.1.0 bad and never retries it.
func TestEndToEndBrokenRollsBack(t *testing.T) {
	s := newSandbox(t, "1.0.0")
	s.feed.release(t, PublishOptions{Version: "1.1.0"}, hostBinary(t, "1.1.0", true, 0))
	u := s.updater(t, "1.0.0", 60*time.Second)
	_, err := u.Apply(context.Background(), Request{})
	if !errors.Is(err, ErrRolledBack) || !errors.Is(err, ErrUnhealthy) {
		t.Fatalf("got %v, want a rollback", err)
	}
	h, herr := ReadHealth(filepath.Join(s.state, HealthFileName))
	if herr != nil || h.Version != "1.0.0" || s.host.Exited() {
		t.Fatalf("after rollback: health %+v %v, exited %v; apply: %v", h, herr, s.host.Exited(), err)
	}
	st, _ := LoadState(filepath.Join(s.state, "updater.json"))
	if !st.IsBad("1.1.0") {
		t.Fatalf("1.1.0 not marked bad: %+v", st)
	}
	if r := readReport(t, s.state); r.Outcome != OutcomeRolledBack || r.To != "1.1.0" || r.Error == "" {
		t.Fatalf("report %+v", r)
	}
	if _, err := u.Apply(context.Background(), Request{}); !errors.Is(err, ErrMarkedBad) {
		t.Fatalf("retry: %v, want ErrMarkedBad", err)
	}
	if _, err := os.Stat(s.target + ".bad"); err != nil {
		t.Fatalf("failed binary not kept for diagnosis: %v", err)
	}
}

// TestEndToEndNoHeartbeat: a host that starts but never reports healthy
// (here: it reports the wrong version) is rolled back after the timeout.
func TestEndToEndNoHeartbeat(t *testing.T) {
	s := newSandbox(t, "1.0.0")
	s.feed.release(t, PublishOptions{Version: "1.1.0"}, hostBinary(t, "1.0.9", false, 0))
	u := s.updater(t, "1.0.0", 2*time.Second)
	_, err := u.Apply(context.Background(), Request{})
	if !errors.Is(err, ErrRolledBack) {
		t.Fatalf("got %v", err)
	}
	if h, _ := ReadHealth(filepath.Join(s.state, HealthFileName)); h.Version != "1.0.0" {
		t.Fatalf("health after rollback: %+v", h)
	}
}
