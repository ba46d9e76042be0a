package controlplane_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/controlplane"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
	"github.com/shirhq/shir/controlplane/store"
	"github.com/shirhq/shir/controlplane/store/sqlitestore"
)

// TestMain doubles as the real server process of TestKill9LosesNoAcknowledgedWrite.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SHIR_CP_TEST_CHILD"); dir != "" {
		os.Exit(childServer(dir))
	}
	os.Exit(m.Run())
}

func childServer(dir string) int {
	srv, err := controlplane.New(controlplane.Options{DataDir: dir, RegisterRate: 1000, RegisterBurst: 1000})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tmp := filepath.Join(dir, "addr.tmp")
	os.WriteFile(tmp, []byte(ln.Addr().String()), 0o600)
	os.Rename(tmp, filepath.Join(dir, "addr"))
	if err := srv.Serve(context.Background(), ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startChild starts the server as a separate process and returns it with an
// admin client.
func startChild(t *testing.T, dir string) (*exec.Cmd, *client.Client, string) {
	t.Helper()
	os.Remove(filepath.Join(dir, "addr"))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SHIR_CP_TEST_CHILD="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	var addr []byte
	for {
		var err error
		if addr, err = os.ReadFile(filepath.Join(dir, "addr")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server process did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	url := "https://" + string(addr)
	cfg, err := client.Resolve(url, filepath.Join(dir, controlplane.AdminTokenFile), "", func(string) string { return "" }, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CASHA256 == nil {
		t.Fatal("no pin from the data directory's certificate")
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cmd, c, url
}

// TestKill9LosesNoAcknowledgedWrite kills the real server process with
// SIGKILL in the middle of a load of submits, leases and results, three
// times, and checks in the store that every acknowledged write is there.
func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test: skipped in -short mode")
	}
	dir := t.TempDir()
	var (
		mu        sync.Mutex
		ackedJobs []string
		succeeded = map[string]bool{}
		runtimes  []string
	)
	for round := range 3 {
		cmd, admin, url := startChild(t, dir)
		ctx, cancel := context.WithCancel(context.Background())
		rtName := fmt.Sprintf("rt%d", round)
		if _, err := admin.CreateRuntime(ctx, api.CreateRuntimeRequest{Name: rtName}); err != nil {
			t.Fatal(err)
		}
		runtimes = append(runtimes, rtName)
		keys, err := admin.Keys(ctx, rtName)
		if err != nil {
			t.Fatal(err)
		}
		k, err := register.ParseKey(keys.Key1)
		if err != nil {
			t.Fatal(err)
		}
		secret := k.Secret
		node := &fakeNode{hc: e2eHTTP(t, dir), url: url}
		var reg api.RegisterResponse
		if code, err := node.post(ctx, api.PathRegister, api.RegisterRequest{RuntimeID: keys.RuntimeID, KeySecret: secret, NodeName: "n",
			Machine: api.MachineFacts{MachineID: "m"}}, &reg); code != 200 || err != nil {
			t.Fatalf("register: %d %v", code, err)
		}
		node.token = reg.NodeToken
		node.post(ctx, api.PathHeartbeat, api.HeartbeatRequest{Concurrency: 8}, nil)
		var wg sync.WaitGroup
		for range 4 { // submitters
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					j, err := admin.SubmitJob(ctx, api.SubmitJobRequest{Runtime: rtName, Kind: api.KindExec, Spec: json.RawMessage(`{"command":"x"}`)})
					if err != nil {
						return // the server is gone
					}
					mu.Lock()
					ackedJobs = append(ackedJobs, j.ID)
					mu.Unlock()
				}
			}()
		}
		wg.Add(1)
		go func() { // a worker
			defer wg.Done()
			for ctx.Err() == nil {
				var lr api.LeaseResponse
				if code, err := node.post(ctx, api.PathLease, api.LeaseRequest{WaitSeconds: 1, Max: 8}, &lr); err != nil || code != 200 {
					return
				}
				for _, l := range lr.Jobs {
					var j api.Job
					code, err := node.post(ctx, api.JobPath(l.JobID, "result"), api.ResultRequest{Attempt: l.Attempt, Outcome: api.OutcomeSucceeded}, &j)
					if err != nil || code != 200 {
						return
					}
					mu.Lock()
					succeeded[l.JobID] = true
					mu.Unlock()
				}
			}
		}()
		// Kill after some acknowledged writes, at a moment the load chooses.
		deadline := time.Now().Add(60 * time.Second)
		for {
			mu.Lock()
			n := len(succeeded)
			mu.Unlock()
			if n >= 150*(round+1) || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix, TerminateProcess on Windows
			t.Fatal(err)
		}
		cmd.Wait()
		cancel()
		wg.Wait()
		node.hc.CloseIdleConnections()
	}
	st, err := sqlitestore.Open(context.Background(), filepath.Join(dir, controlplane.DBFile), sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for _, rt := range runtimes {
		if _, err := st.Runtime(ctx, rt); err != nil {
			t.Errorf("acknowledged runtime %s lost: %v", rt, err)
		}
	}
	if nodes, _ := st.Nodes(ctx, ""); len(nodes) != len(runtimes) {
		t.Errorf("%d nodes in the store, want %d", len(nodes), len(runtimes))
	}
	mu.Lock()
	defer mu.Unlock()
	lost, notDone := 0, 0
	for _, id := range ackedJobs {
		j, err := st.Job(ctx, id)
		if err != nil {
			lost++
			continue
		}
		if succeeded[id] && j.State != api.JobSucceeded {
			notDone++
		}
	}
	if lost > 0 || notDone > 0 {
		t.Errorf("of %d acknowledged jobs %d are missing; of %d acknowledged results %d are not recorded", len(ackedJobs), lost, len(succeeded), notDone)
	}
	if len(succeeded) < 450 {
		t.Errorf("only %d results acknowledged: the load did not run", len(succeeded))
	}
	all, _ := st.Jobs(ctx, store.JobFilter{Limit: 1 << 20})
	t.Logf("3 kills; %d jobs acknowledged, %d results acknowledged, %d jobs in the store", len(ackedJobs), len(succeeded), len(all))
}

// e2eHTTP is an HTTPS client pinned to the data directory's certificate.
func e2eHTTP(t *testing.T, dir string) *http.Client {
	cfg, err := client.Resolve("https://x", filepath.Join(dir, controlplane.AdminTokenFile), "", func(string) string { return "" }, "")
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: api.PinnedTLSConfig(cfg.CASHA256)}, Timeout: 30 * time.Second}
}
