package controlplane_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/controlplane"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/store"
)

// fakeNode speaks the node side of the API over real HTTPS.
type fakeNode struct {
	hc    *http.Client
	url   string
	token string
}

func (n *fakeNode) post(ctx context.Context, path string, in, out any) (int, error) {
	b, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, "POST", n.url+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if n.token != "" {
		req.Header.Set("Authorization", "Bearer "+n.token)
	}
	resp, err := n.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 && out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}

// TestSimulatedFleet: hundreds of nodes register, heartbeat and take jobs
// over a real listener; a tenth of them crash while holding leases. Every
// job must succeed exactly once and never run on two nodes at the same time.
func TestSimulatedFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("simulated fleet: skipped in -short mode")
	}
	const runtimes, perRuntime = 60, 4
	jobsPerRuntime := 25
	if raceEnabled {
		jobsPerRuntime = 5
	}
	e := start(t, controlplane.Options{HeartbeatInterval: 2 * time.Second, SweepInterval: 100 * time.Millisecond,
		FlushInterval: 2 * time.Second, RegisterRate: 10000, RegisterBurst: 10000})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	keys := make([]register.Key, runtimes)
	for i := range runtimes {
		_, keys[i] = e.runtime(fmt.Sprintf("rt%02d", i), perRuntime)
	}
	var (
		mu        sync.Mutex
		running   = map[string]string{} // job ID -> node running it now
		successes = map[string]int{}    // accepted success results per job
		overlaps  []string
		crashes   atomic.Int32
		lost      atomic.Int32
	)
	var wg sync.WaitGroup
	for i := range runtimes * perRuntime {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := keys[i/perRuntime]
			name := fmt.Sprintf("node%03d", i)
			n := &fakeNode{hc: e.hc, url: e.url}
			var reg api.RegisterResponse
			code, err := n.post(ctx, api.PathRegister, api.RegisterRequest{RuntimeID: k.RuntimeID, KeySecret: k.Secret, NodeName: name,
				Machine: api.MachineFacts{MachineID: "machine-" + name, CPUs: 2}, Version: "1.0.0"}, &reg)
			if code != 200 || err != nil {
				t.Errorf("%s: register: %d %v", name, code, err)
				return
			}
			n.token = reg.NodeToken
			nctx, crash := context.WithCancel(ctx)
			defer crash()
			crasher := i%10 == 0
			go func() { // heartbeat until the node "crashes"
				for nctx.Err() == nil {
					n.post(nctx, api.PathHeartbeat, api.HeartbeatRequest{Version: "1.0.0", Concurrency: 2}, nil)
					select {
					case <-nctx.Done():
					case <-time.After(time.Duration(reg.HeartbeatIntervalSeconds) * time.Second):
					}
				}
			}()
			var jobs sync.WaitGroup
			defer jobs.Wait()
			for nctx.Err() == nil {
				var lr api.LeaseResponse
				code, err := n.post(nctx, api.PathLease, api.LeaseRequest{WaitSeconds: 2, Max: 2}, &lr)
				if err != nil || code != 200 {
					if nctx.Err() == nil {
						t.Errorf("%s: lease: %d %v", name, code, err)
					}
					return
				}
				if crasher && len(lr.Jobs) > 0 {
					crashes.Add(1)
					crash() // holds its leases and disappears
					return
				}
				for _, l := range lr.Jobs {
					jobs.Add(1)
					go func() {
						defer jobs.Done()
						mu.Lock()
						if other, ok := running[l.JobID]; ok {
							overlaps = append(overlaps, fmt.Sprintf("%s on %s and %s", l.JobID, other, name))
						}
						running[l.JobID] = name
						mu.Unlock()
						time.Sleep(time.Duration(1+rand.IntN(5)) * time.Millisecond)
						mu.Lock()
						delete(running, l.JobID)
						mu.Unlock()
						var j api.Job
						code, err := n.post(ctx, api.JobPath(l.JobID, "result"), api.ResultRequest{Attempt: l.Attempt, Outcome: api.OutcomeSucceeded}, &j)
						if code == 409 {
							// Lease lost: the node was late and counted offline (a
							// loaded machine); the protocol says drop the result.
							lost.Add(1)
							return
						}
						if err != nil || code != 200 {
							t.Errorf("%s: result of %s: %d %v", name, l.JobID, code, err)
							return
						}
						mu.Lock()
						successes[l.JobID]++
						mu.Unlock()
					}()
				}
			}
		}()
	}
	t0 := time.Now()
	// Submit while the fleet runs.
	var submitted []string
	for r := range runtimes {
		for range jobsPerRuntime {
			j, err := e.admin.SubmitJob(ctx, api.SubmitJobRequest{Runtime: fmt.Sprintf("rt%02d", r), Kind: api.KindExec,
				Spec: json.RawMessage(`{"command":"hostname"}`), MaxAttempts: 5})
			if err != nil {
				t.Fatal(err)
			}
			submitted = append(submitted, j.ID)
		}
	}
	t.Logf("submitted %d jobs in %v", len(submitted), time.Since(t0))
	st := e.srv.Store()
	deadline := time.Now().Add(5 * time.Minute) // only bounds a failure; CI machines are slow under -race
	for {
		done, err := st.Jobs(ctx, store.JobFilter{State: api.JobSucceeded, Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if len(done) == len(submitted) {
			break
		}
		if time.Now().After(deadline) {
			left, _ := st.Jobs(ctx, store.JobFilter{Limit: 1 << 20})
			states := map[string]int{}
			for _, j := range left {
				states[j.State]++
			}
			t.Fatalf("only %d of %d jobs succeeded: %v", len(done), len(submitted), states)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("all succeeded after %v", time.Since(t0))
	cancel()
	wg.Wait()
	t.Logf("fleet stopped after %v", time.Since(t0))
	mu.Lock()
	defer mu.Unlock()
	for _, o := range overlaps {
		t.Errorf("ran twice at once: %s", o)
	}
	for _, id := range submitted {
		if successes[id] != 1 {
			t.Errorf("job %s: %d accepted results, want 1", id, successes[id])
		}
	}
	if crashes.Load() == 0 {
		t.Error("no node crashed holding a lease: the requeue path was not exercised")
	}
	requeued := 0
	all, _ := st.Jobs(context.Background(), store.JobFilter{Limit: 1 << 20})
	for _, j := range all {
		if j.Attempts > 1 {
			requeued++
		}
	}
	if requeued == 0 {
		t.Error("no job needed a second attempt although nodes crashed holding leases")
	}
	t.Logf("%d nodes, %d jobs, %d crashes, %d jobs requeued, %d results dropped after a lost lease", runtimes*perRuntime, len(submitted), crashes.Load(), requeued, lost.Load())
}
