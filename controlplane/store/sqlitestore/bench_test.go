package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/store"
)

func benchStore(b *testing.B) *Store {
	s, err := Open(context.Background(), b.TempDir()+"/shir.db", Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	s.CreateRuntime(ctx, store.Runtime{ID: "rt", Name: "rt", MaxNodes: 4, Key1: "a", Key2: "b"})
	s.Register(ctx, store.Registration{RuntimeID: "rt", NewNodeID: "n", Name: "n", MachineID: "m", TokenHash: "h"})
	return s
}

// BenchmarkSubmitLeaseFinish is one job's three write transactions.
func BenchmarkSubmitLeaseFinish(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	now := time.Now()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("j%d", i)
		if _, err := s.CreateJob(ctx, store.Job{ID: id, RuntimeID: "rt", Kind: api.KindExec, Spec: json.RawMessage(`{"command":"x"}`), MaxAttempts: 3, LeaseSeconds: 60, CreatedAt: now}); err != nil {
			b.Fatal(err)
		}
		got, _, err := s.Lease(ctx, store.LeaseRequest{NodeID: "n", RuntimeID: "rt", Limit: 1, Max: 1, Now: now})
		if err != nil || len(got) != 1 {
			b.Fatal(err, len(got))
		}
		if _, err := s.Finish(ctx, store.Result{JobID: id, NodeID: "n", Attempt: 1, Outcome: api.OutcomeSucceeded, Now: now}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLeaseEmpty is a poll that finds nothing.
func BenchmarkLeaseEmpty(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := s.Lease(ctx, store.LeaseRequest{NodeID: "n", RuntimeID: "rt", Limit: 1, Max: 1, Now: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
}
