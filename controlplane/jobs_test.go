package controlplane_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/shirhq/shir/controlplane"
	"github.com/shirhq/shir/controlplane/api"
)

func TestJobLifecycle(t *testing.T) {
	e := start(t, controlplane.Options{})
	ctx := context.Background()
	_, k := e.runtime("rt", 0)
	n := e.register(k, "n1", "m1")
	e.must(200, "POST", api.PathHeartbeat, n.NodeToken, api.HeartbeatRequest{Concurrency: 1}, nil)

	// A long poll with nothing queued returns an empty list after the wait,
	// and is woken by a submit.
	var lr api.LeaseResponse
	e.must(200, "POST", api.PathLease, n.NodeToken, api.LeaseRequest{WaitSeconds: 0}, &lr)
	if lr.Jobs == nil || len(lr.Jobs) != 0 {
		t.Fatalf("empty lease: %+v", lr)
	}
	got := make(chan api.LeaseResponse, 1)
	go func() {
		var lr api.LeaseResponse
		e.must(200, "POST", api.PathLease, n.NodeToken, api.LeaseRequest{WaitSeconds: 30}, &lr)
		got <- lr
	}()
	time.Sleep(50 * time.Millisecond) // let the poll start waiting (the test passes either way)
	j, err := e.admin.SubmitJob(ctx, api.SubmitJobRequest{Runtime: "rt", Kind: api.KindCopy, MaxAttempts: 2,
		Spec: json.RawMessage(`{ "source": "https://example.com/a.csv", "sink": "/tmp/a.csv" }`)})
	if err != nil || j.State != api.JobQueued || string(j.Spec) != `{"source":"https://example.com/a.csv","sink":"/tmp/a.csv"}` {
		t.Fatalf("submit: %+v %v", j, err)
	}
	select {
	case lr = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("long poll not woken by the submit")
	}
	if len(lr.Jobs) != 1 || lr.Jobs[0].JobID != j.ID || lr.Jobs[0].Attempt != 1 || lr.Jobs[0].Kind != api.KindCopy {
		t.Fatalf("lease: %+v", lr)
	}
	// Limit 1: a second job is not handed out while the first is held.
	j2, _ := e.admin.SubmitJob(ctx, api.SubmitJobRequest{Runtime: "rt", Kind: api.KindExec, Spec: json.RawMessage(`{"command":"hostname"}`)})
	var lr2 api.LeaseResponse
	e.must(200, "POST", api.PathLease, n.NodeToken, api.LeaseRequest{WaitSeconds: 0, Max: 5}, &lr2)
	if len(lr2.Jobs) != 0 {
		t.Errorf("lease beyond concurrency 1: %+v", lr2)
	}
	var rr api.RenewResponse
	e.must(200, "POST", api.JobPath(j.ID, "renew"), n.NodeToken, api.RenewRequest{Attempt: 1}, &rr)
	if rr.Cancel || rr.LeaseExpiresAt.Before(time.Now()) {
		t.Errorf("renew: %+v", rr)
	}
	e.must(200, "POST", api.JobPath(j.ID, "progress"), n.NodeToken, api.ProgressRequest{Attempt: 1, Percent: 40, Message: "copying", Bytes: 400}, &rr)
	show, _ := e.admin.Job(ctx, j.ID)
	if show.State != api.JobLeased || show.NodeID != n.NodeID || show.Progress != 40 || show.ProgressBytes != 400 {
		t.Errorf("show while running: %+v", show)
	}
	// A stale attempt is refused with lease-lost.
	code, _, b := e.call("POST", api.JobPath(j.ID, "result"), n.NodeToken, api.ResultRequest{Attempt: 2, Outcome: api.OutcomeSucceeded})
	if code != 409 || problemOf(t, b).Type != api.ProblemLeaseLost {
		t.Errorf("stale attempt: %d %s", code, b)
	}
	// Retryable failure: queued again, attempt 2; then dead.
	var done api.Job
	e.must(200, "POST", api.JobPath(j.ID, "result"), n.NodeToken, api.ResultRequest{Attempt: 1, Outcome: api.OutcomeFailed, Retryable: true, Error: "connection reset"}, &done)
	if done.State != api.JobQueued {
		t.Errorf("after retryable failure: %+v", done)
	}
	e.must(200, "POST", api.PathLease, n.NodeToken, api.LeaseRequest{WaitSeconds: 1}, &lr)
	if len(lr.Jobs) != 1 || lr.Jobs[0].JobID != j.ID || lr.Jobs[0].Attempt != 2 {
		t.Fatalf("retry lease: %+v", lr)
	}
	e.must(200, "POST", api.JobPath(j.ID, "result"), n.NodeToken, api.ResultRequest{Attempt: 2, Outcome: api.OutcomeFailed, Retryable: true, Error: "connection reset"}, &done)
	if done.State != api.JobDead || done.Attempts != 2 || done.Error != "connection reset" {
		t.Errorf("after last attempt: %+v", done)
	}
	// j2 now; the admin cancels it while leased; the node learns it on renew.
	e.must(200, "POST", api.PathLease, n.NodeToken, api.LeaseRequest{WaitSeconds: 1}, &lr)
	if len(lr.Jobs) != 1 || lr.Jobs[0].JobID != j2.ID {
		t.Fatalf("lease j2: %+v", lr)
	}
	c, err := e.admin.CancelJob(ctx, j2.ID)
	if err != nil || !c.CancelRequested || c.State != api.JobLeased {
		t.Errorf("cancel leased: %+v %v", c, err)
	}
	e.must(200, "POST", api.JobPath(j2.ID, "renew"), n.NodeToken, api.RenewRequest{Attempt: 1}, &rr)
	if !rr.Cancel {
		t.Error("renew does not pass the cancel on")
	}
	e.must(200, "POST", api.JobPath(j2.ID, "result"), n.NodeToken, api.ResultRequest{Attempt: 1, Outcome: api.OutcomeCancelled}, &done)
	if done.State != api.JobCancelled {
		t.Errorf("cancelled: %+v", done)
	}
	if _, err := e.admin.CancelJob(ctx, j2.ID); !errors.Is(err, &api.Problem{Type: api.ProblemConflict}) {
		t.Errorf("cancel a finished job: %v", err)
	}
	// Success with output.
	j3, _ := e.admin.SubmitJob(ctx, api.SubmitJobRequest{Runtime: "rt", Kind: api.KindTestConnection, Spec: json.RawMessage(`{"protocol":"tcp","address":"db:5432"}`)})
	e.must(200, "POST", api.PathLease, n.NodeToken, api.LeaseRequest{WaitSeconds: 1}, &lr)
	e.must(200, "POST", api.JobPath(j3.ID, "result"), n.NodeToken, api.ResultRequest{Attempt: 1, Outcome: api.OutcomeSucceeded, Output: json.RawMessage(`{"reachable":true,"latencyMs":3}`)}, &done)
	if done.State != api.JobSucceeded || string(done.Output) != `{"reachable":true,"latencyMs":3}` || done.FinishedAt.IsZero() {
		t.Errorf("succeeded: %+v", done)
	}
	list, err := e.admin.Jobs(ctx, clientFilter("rt", ""))
	if err != nil || len(list) != 3 || list[0].ID != j3.ID {
		t.Errorf("list: %d %v", len(list), err)
	}
	dead, _ := e.admin.Jobs(ctx, clientFilter("", api.JobDead))
	if len(dead) != 1 || dead[0].ID != j.ID {
		t.Errorf("dead list: %+v", dead)
	}
}

// A node that stops heartbeating goes offline after three intervals and its
// leased job goes to another node; the runtime turns Limited.
func TestOfflineNodeJobsRequeued(t *testing.T) {
	e := start(t, controlplane.Options{HeartbeatInterval: 200 * time.Millisecond, SweepInterval: 20 * time.Millisecond})
	ctx := context.Background()
	_, k := e.runtime("rt", 0)
	a := e.register(k, "a", "ma")
	b := e.register(k, "b", "mb")
	e.must(200, "POST", api.PathHeartbeat, a.NodeToken, api.HeartbeatRequest{}, nil)
	e.must(200, "POST", api.PathHeartbeat, b.NodeToken, api.HeartbeatRequest{}, nil)
	j, _ := e.admin.SubmitJob(ctx, api.SubmitJobRequest{Runtime: "rt", Kind: api.KindExec, Spec: json.RawMessage(`{"command":"x"}`), LeaseSeconds: 3600})
	var lr api.LeaseResponse
	e.must(200, "POST", api.PathLease, a.NodeToken, api.LeaseRequest{}, &lr)
	if len(lr.Jobs) != 1 {
		t.Fatalf("a got no job")
	}
	// b keeps heartbeating and polls; a is silent.
	deadline := time.Now().Add(20 * time.Second)
	for {
		e.must(200, "POST", api.PathHeartbeat, b.NodeToken, api.HeartbeatRequest{}, nil)
		e.must(200, "POST", api.PathLease, b.NodeToken, api.LeaseRequest{WaitSeconds: 0}, &lr)
		if len(lr.Jobs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the offline node's job was never requeued")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if lr.Jobs[0].JobID != j.ID || lr.Jobs[0].Attempt != 2 {
		t.Errorf("requeued lease: %+v", lr.Jobs[0])
	}
	rt, _ := e.admin.Runtime(ctx, "rt")
	if rt.Status != api.StatusLimited || rt.Nodes[0].Status != api.StatusOffline || rt.Nodes[1].Status != api.StatusOnline {
		t.Errorf("status: %s, nodes %s/%s", rt.Status, rt.Nodes[0].Status, rt.Nodes[1].Status)
	}
	// a comes back: its old lease is lost.
	code, _, _ := e.call("POST", api.JobPath(j.ID, "renew"), a.NodeToken, api.RenewRequest{Attempt: 1})
	if code != 409 {
		t.Errorf("old holder renews: %d", code)
	}
}

func TestLeaseExpiryRequeues(t *testing.T) {
	e := start(t, controlplane.Options{SweepInterval: 50 * time.Millisecond})
	ctx := context.Background()
	_, k := e.runtime("rt", 0)
	a := e.register(k, "a", "ma")
	e.must(200, "POST", api.PathHeartbeat, a.NodeToken, api.HeartbeatRequest{Concurrency: 4}, nil)
	j, _ := e.admin.SubmitJob(ctx, api.SubmitJobRequest{Runtime: "rt", Kind: api.KindExec, Spec: json.RawMessage(`{"command":"x"}`), LeaseSeconds: 10, MaxAttempts: 1})
	var lr api.LeaseResponse
	e.must(200, "POST", api.PathLease, a.NodeToken, api.LeaseRequest{}, &lr)
	if len(lr.Jobs) != 1 {
		t.Fatal("no lease")
	}
	// Not renewed: after 10 s the single attempt is used up: dead.
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _ := e.admin.Job(ctx, j.ID)
		if got.State == api.JobDead {
			if got.Error != "lease expired" {
				t.Errorf("dead job error %q", got.Error)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease never expired: %+v", got)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
