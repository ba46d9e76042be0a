// Package storetest is the conformance suite of store.Store: every
// implementation (SQLite now, PostgreSQL later) runs Run against a fresh
// empty store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/store"
)

// Run runs the suite; open returns a new empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Runtimes", func(t *testing.T) { testRuntimes(t, open(t)) })
	t.Run("Register", func(t *testing.T) { testRegister(t, open(t)) })
	t.Run("Jobs", func(t *testing.T) { testJobs(t, open(t)) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, open(t)) })
	t.Run("Release", func(t *testing.T) { testRelease(t, open(t)) })
	t.Run("ConcurrentLease", func(t *testing.T) { testConcurrentLease(t, open(t)) })
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func mkRuntime(t *testing.T, s store.Store, id string, maxNodes int) store.Runtime {
	t.Helper()
	rt := store.Runtime{ID: id, Name: "name-" + id, MaxNodes: maxNodes, Key1: "k1-" + id, Key2: "k2-" + id, CreatedAt: t0}
	if err := s.CreateRuntime(context.Background(), rt); err != nil {
		t.Fatal(err)
	}
	return rt
}

func mkNode(t *testing.T, s store.Store, rt, id string) store.Node {
	t.Helper()
	n, _, err := s.Register(context.Background(), store.Registration{RuntimeID: rt, NewNodeID: id, Name: id, MachineID: "m-" + id, TokenHash: "h-" + id, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testRuntimes(t *testing.T, s store.Store) {
	ctx := context.Background()
	yes := true
	rt := store.Runtime{ID: "rt-1", Name: "alpha", Description: "d", MaxNodes: 4, Key1: "a", Key2: "b", AutoUpdate: &yes, CreatedAt: t0}
	if err := s.CreateRuntime(ctx, rt); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRuntime(ctx, store.Runtime{ID: "rt-2", Name: "alpha", MaxNodes: 4, CreatedAt: t0}); !errors.Is(err, store.ErrExists) {
		t.Errorf("duplicate name: got %v, want ErrExists", err)
	}
	for _, key := range []string{"rt-1", "alpha"} {
		got, err := s.Runtime(ctx, key)
		if err != nil || got.ID != "rt-1" || got.Key2 != "b" || got.AutoUpdate == nil || !*got.AutoUpdate || !got.CreatedAt.Equal(t0) {
			t.Errorf("Runtime(%q) = %+v, %v", key, got, err)
		}
	}
	if _, err := s.Runtime(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing runtime: %v", err)
	}
	if err := s.SetKey(ctx, "rt-1", 2, "c"); err != nil {
		t.Fatal(err)
	}
	rt.Key2, rt.MaxNodes, rt.DesiredVersion = "c", 2, "1.2.3"
	if err := s.UpdateRuntime(ctx, rt); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Runtime(ctx, "rt-1")
	if got.Key2 != "c" || got.MaxNodes != 2 || got.DesiredVersion != "1.2.3" {
		t.Errorf("after update: %+v", got)
	}
	mkNode(t, s, "rt-1", "n1")
	if _, err := s.CreateJob(ctx, store.Job{ID: "j1", RuntimeID: "rt-1", Kind: "exec", Spec: json.RawMessage(`{}`), MaxAttempts: 1, LeaseSeconds: 60, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRuntime(ctx, "rt-1"); err != nil {
		t.Fatal(err)
	}
	if nodes, _ := s.Nodes(ctx, ""); len(nodes) != 0 {
		t.Errorf("nodes survive their runtime: %d", len(nodes))
	}
	if _, err := s.Job(ctx, "j1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("jobs survive their runtime: %v", err)
	}
	if err := s.DeleteRuntime(ctx, "rt-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

func testRegister(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkRuntime(t, s, "rt", 2)
	reg := store.Registration{RuntimeID: "rt", NewNodeID: "n1", Name: "a", MachineID: "m1", TokenHash: "h1", Version: "1.0", Now: t0}
	n, rereg, err := s.Register(ctx, reg)
	if err != nil || rereg || n.ID != "n1" || n.TokenHash != "h1" {
		t.Fatalf("first: %+v %v %v", n, rereg, err)
	}
	// Same machine again: same ID, new token, not a second node.
	reg.NewNodeID, reg.TokenHash, reg.Version = "n-other", "h1b", "1.1"
	n, rereg, err = s.Register(ctx, reg)
	if err != nil || !rereg || n.ID != "n1" || n.TokenHash != "h1b" || n.Version != "1.1" {
		t.Fatalf("again: %+v %v %v", n, rereg, err)
	}
	// Another machine, same name: refused.
	_, _, err = s.Register(ctx, store.Registration{RuntimeID: "rt", NewNodeID: "n2", Name: "a", MachineID: "m2", TokenHash: "h2", Now: t0})
	if !errors.Is(err, store.ErrNodeNameUsed) {
		t.Errorf("taken name: %v", err)
	}
	mkNode(t, s, "rt", "n2")
	_, _, err = s.Register(ctx, store.Registration{RuntimeID: "rt", NewNodeID: "n3", Name: "c", MachineID: "m3", TokenHash: "h3", Now: t0})
	if !errors.Is(err, store.ErrRuntimeFull) {
		t.Errorf("full runtime: %v", err)
	}
	if err := s.SetConcurrency(ctx, "n1", 7); err != nil {
		t.Fatal(err)
	}
	seen := t0.Add(time.Minute)
	if err := s.SaveHeartbeats(ctx, []store.Heartbeat{{NodeID: "n1", LastSeen: seen, Version: "1.2", ReportedConcurrency: 3, Metrics: json.RawMessage(`{"cpuPercent":5}`)}}); err != nil {
		t.Fatal(err)
	}
	nodes, err := s.Nodes(ctx, "rt")
	if err != nil || len(nodes) != 2 {
		t.Fatalf("nodes: %v %v", nodes, err)
	}
	if n := nodes[0]; n.ID != "n1" || n.Concurrency != 7 || n.ReportedConcurrency != 3 || !n.LastSeen.Equal(seen) || n.Version != "1.2" || string(n.Metrics) != `{"cpuPercent":5}` {
		t.Errorf("node after heartbeat: %+v", n)
	}
	if _, err := s.DeleteNode(ctx, "n2", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteNode(ctx, "n2", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if _, _, err := s.Register(ctx, store.Registration{RuntimeID: "nope", NewNodeID: "x", Name: "x", MachineID: "x", TokenHash: "x", Now: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown runtime: %v", err)
	}
}

func mkJob(t *testing.T, s store.Store, rt, id string, maxAttempts int) store.Job {
	t.Helper()
	j, err := s.CreateJob(context.Background(), store.Job{ID: id, RuntimeID: rt, Kind: api.KindExec, Spec: json.RawMessage(`{"command":"x"}`), MaxAttempts: maxAttempts, LeaseSeconds: 60, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if j.State != api.JobQueued {
		t.Fatalf("new job state %q", j.State)
	}
	return j
}

func testJobs(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkRuntime(t, s, "rt", 4)
	mkNode(t, s, "rt", "n1")
	for i := range 4 {
		mkJob(t, s, "rt", fmt.Sprintf("j%d", i), 2)
	}
	got, drained, err := s.Lease(ctx, store.LeaseRequest{NodeID: "n1", RuntimeID: "rt", Limit: 2, Max: 5, Now: t0})
	if drained {
		t.Error("drained reported with two jobs still queued")
	}
	if err != nil || len(got) != 2 || got[0].ID != "j0" || got[1].ID != "j1" || got[0].Attempts != 1 || got[0].State != api.JobLeased {
		t.Fatalf("lease: %+v %v", got, err)
	}
	if !got[0].LeaseExpiresAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("lease expiry %v", got[0].LeaseExpiresAt)
	}
	if more, drained, _ := s.Lease(ctx, store.LeaseRequest{NodeID: "n1", RuntimeID: "rt", Limit: 2, Max: 5, Now: t0}); len(more) != 0 || drained {
		t.Errorf("leased beyond the limit: %d (drained %v: a full node says nothing about the queue)", len(more), drained)
	}
	if _, err := s.Renew(ctx, "j0", "n1", 2, t0); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("renew with wrong attempt: %v", err)
	}
	if _, err := s.Renew(ctx, "j0", "n2", 1, t0); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("renew by another node: %v", err)
	}
	j, err := s.Renew(ctx, "j0", "n1", 1, t0.Add(30*time.Second))
	if err != nil || !j.LeaseExpiresAt.Equal(t0.Add(90*time.Second)) {
		t.Errorf("renew: %v %v", j.LeaseExpiresAt, err)
	}
	j, err = s.ReportProgress(ctx, store.Progress{JobID: "j0", NodeID: "n1", Attempt: 1, Percent: 50, Message: "half", Bytes: 10, Now: t0})
	if err != nil || j.Progress != 50 || j.ProgressMessage != "half" {
		t.Errorf("progress: %+v %v", j, err)
	}
	j, err = s.Finish(ctx, store.Result{JobID: "j0", NodeID: "n1", Attempt: 1, Outcome: api.OutcomeSucceeded, Output: json.RawMessage(`{"exitCode":0}`), Now: t0})
	if err != nil || j.State != api.JobSucceeded || string(j.Output) != `{"exitCode":0}` || j.FinishedAt.IsZero() {
		t.Errorf("finish: %+v %v", j, err)
	}
	if _, err := s.Finish(ctx, store.Result{JobID: "j0", NodeID: "n1", Attempt: 1, Outcome: api.OutcomeSucceeded, Now: t0}); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("second finish: %v", err)
	}
	// Retryable failure: queued again, then dead after the last attempt.
	j, _ = s.Finish(ctx, store.Result{JobID: "j1", NodeID: "n1", Attempt: 1, Outcome: api.OutcomeFailed, Retryable: true, Error: "boom", Now: t0})
	if j.State != api.JobQueued || j.NodeID != "" {
		t.Errorf("retryable failure: %+v", j)
	}
	got, _, _ = s.Lease(ctx, store.LeaseRequest{NodeID: "n1", RuntimeID: "rt", Limit: 2, Max: 1, Now: t0})
	if len(got) != 1 || got[0].ID != "j1" || got[0].Attempts != 2 {
		t.Fatalf("re-lease: %+v", got)
	}
	j, _ = s.Finish(ctx, store.Result{JobID: "j1", NodeID: "n1", Attempt: 2, Outcome: api.OutcomeFailed, Retryable: true, Error: "boom", Now: t0})
	if j.State != api.JobDead || j.Error != "boom" {
		t.Errorf("last attempt: %+v", j)
	}
	// Cancel: queued at once; leased asks the node.
	j, err = s.Cancel(ctx, "j3", t0)
	if err != nil || j.State != api.JobCancelled {
		t.Errorf("cancel queued: %+v %v", j, err)
	}
	got, _, _ = s.Lease(ctx, store.LeaseRequest{NodeID: "n1", RuntimeID: "rt", Limit: 2, Max: 5, Now: t0})
	if len(got) != 1 || got[0].ID != "j2" {
		t.Fatalf("lease j2: %+v", got)
	}
	j, _ = s.Cancel(ctx, "j2", t0)
	if j.State != api.JobLeased || !j.CancelRequested {
		t.Errorf("cancel leased: %+v", j)
	}
	if j, _ = s.Renew(ctx, "j2", "n1", 1, t0); !j.CancelRequested {
		t.Error("renew does not carry the cancel request")
	}
	j, _ = s.Finish(ctx, store.Result{JobID: "j2", NodeID: "n1", Attempt: 1, Outcome: api.OutcomeCancelled, Now: t0})
	if j.State != api.JobCancelled {
		t.Errorf("cancelled by node: %+v", j)
	}
	if _, err := s.Cancel(ctx, "j0", t0); !errors.Is(err, store.ErrFinal) {
		t.Errorf("cancel finished: %v", err)
	}
	list, err := s.Jobs(ctx, store.JobFilter{RuntimeID: "rt"})
	if err != nil || len(list) != 4 || list[0].ID != "j3" {
		t.Errorf("list newest first: %v", err)
	}
	list, _ = s.Jobs(ctx, store.JobFilter{State: api.JobDead})
	if len(list) != 1 || list[0].ID != "j1" {
		t.Errorf("list dead: %+v", list)
	}
}

// testRelease: a node hands a job back (it shuts down): queued again with
// one more attempt allowed; the attempt number keeps counting, so the old
// lease no longer renews; with a cancel asked it is cancelled instead.
func testRelease(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkRuntime(t, s, "rt", 4)
	mkNode(t, s, "rt", "n1")
	mkJob(t, s, "rt", "j1", 1)
	lease := func(attempt int) {
		t.Helper()
		got, _, err := s.Lease(ctx, store.LeaseRequest{NodeID: "n1", RuntimeID: "rt", Limit: 1, Max: 1, Now: t0})
		if err != nil || len(got) != 1 || got[0].Attempts != attempt {
			t.Fatalf("lease: %+v %v, want attempt %d", got, err, attempt)
		}
	}
	lease(1)
	j, err := s.Finish(ctx, store.Result{JobID: "j1", NodeID: "n1", Attempt: 1, Outcome: api.OutcomeReleased, Error: "node shutting down", Now: t0})
	if err != nil || j.State != api.JobQueued || j.NodeID != "" || j.MaxAttempts != 2 || !j.FinishedAt.IsZero() {
		t.Fatalf("released: %+v %v", j, err)
	}
	if _, err := s.Renew(ctx, "j1", "n1", 1, t0); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("renew of a released lease: %v", err)
	}
	lease(2)
	if _, err := s.Cancel(ctx, "j1", t0); err != nil {
		t.Fatal(err)
	}
	if j, _ = s.Finish(ctx, store.Result{JobID: "j1", NodeID: "n1", Attempt: 2, Outcome: api.OutcomeReleased, Now: t0}); j.State != api.JobCancelled || j.FinishedAt.IsZero() {
		t.Errorf("released after a cancel request: %+v", j)
	}
}

func testExpiry(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkRuntime(t, s, "rt", 4)
	mkNode(t, s, "rt", "n1")
	mkNode(t, s, "rt", "n2")
	mkJob(t, s, "rt", "a", 2)
	mkJob(t, s, "rt", "b", 1)
	if got, drained, _ := s.Lease(ctx, store.LeaseRequest{NodeID: "n1", RuntimeID: "rt", Limit: 4, Max: 4, Now: t0}); len(got) != 2 || !drained {
		t.Fatalf("lease: %d, drained %v (want 2, true)", len(got), drained)
	}
	if got, _ := s.ExpireLeases(ctx, t0.Add(59*time.Second)); len(got) != 0 {
		t.Errorf("expired early: %+v", got)
	}
	got, err := s.ExpireLeases(ctx, t0.Add(61*time.Second))
	if err != nil || len(got) != 2 {
		t.Fatalf("expire: %+v %v", got, err)
	}
	states := map[string]string{}
	for _, j := range got {
		states[j.ID] = j.State
	}
	if states["a"] != api.JobQueued || states["b"] != api.JobDead {
		t.Errorf("after expiry: %v (want a queued, b dead)", states)
	}
	// The old holder's lease is gone.
	if _, err := s.Renew(ctx, "a", "n1", 1, t0); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("renew after expiry: %v", err)
	}
	// n2 takes it; n2 goes offline: a is dead now (2 of 2 attempts).
	if got, _, _ := s.Lease(ctx, store.LeaseRequest{NodeID: "n2", RuntimeID: "rt", Limit: 1, Max: 1, Now: t0}); len(got) != 1 || got[0].Attempts != 2 {
		t.Fatalf("second lease: %+v", got)
	}
	got, _ = s.RequeueNode(ctx, "n2", t0)
	if len(got) != 1 || got[0].State != api.JobDead {
		t.Errorf("requeue node: %+v", got)
	}
	// A node deleted while holding a lease releases it.
	mkJob(t, s, "rt", "c", 3)
	s.Lease(ctx, store.LeaseRequest{NodeID: "n1", RuntimeID: "rt", Limit: 1, Max: 1, Now: t0})
	got, err = s.DeleteNode(ctx, "n1", t0)
	if err != nil || len(got) != 1 || got[0].State != api.JobQueued {
		t.Errorf("delete node: %+v %v", got, err)
	}
}

// testConcurrentLease: many nodes leasing at once never share a job and
// never exceed their limit.
func testConcurrentLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkRuntime(t, s, "rt", 100)
	const nodes, jobs = 8, 200
	for i := range nodes {
		mkNode(t, s, "rt", fmt.Sprintf("n%d", i))
	}
	for i := range jobs {
		mkJob(t, s, "rt", fmt.Sprintf("j%03d", i), 1)
	}
	var mu sync.Mutex
	owner := map[string]string{}
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := fmt.Sprintf("n%d", i)
			for {
				got, _, err := s.Lease(ctx, store.LeaseRequest{NodeID: node, RuntimeID: "rt", Limit: 3, Max: 3, Now: t0})
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				if len(got) > 3 {
					t.Errorf("%s got %d jobs with limit 3", node, len(got))
				}
				for _, j := range got {
					mu.Lock()
					if prev, ok := owner[j.ID]; ok {
						t.Errorf("job %s leased to %s and %s", j.ID, prev, node)
					}
					owner[j.ID] = node
					mu.Unlock()
					if _, err := s.Finish(ctx, store.Result{JobID: j.ID, NodeID: node, Attempt: j.Attempts, Outcome: api.OutcomeSucceeded, Now: t0}); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(owner) != jobs {
		t.Errorf("%d of %d jobs leased", len(owner), jobs)
	}
}
