package agent_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shirhq/shir/agent"
	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/controlplane"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
	"github.com/shirhq/shir/internal/netproxy"
	"github.com/shirhq/shir/internal/netproxy/netproxytest"
	"github.com/shirhq/shir/internal/nodeconfig"
	"github.com/shirhq/shir/internal/secret"
)

// cp is a real control plane (controlplane.Server, SQLite, TLS with a
// self-signed certificate) on 127.0.0.1.
type cp struct {
	t     *testing.T
	dir   string
	addr  string
	admin *client.Client
	stop  func()
}

func startCP(t *testing.T, dir, addr string) *cp {
	t.Helper()
	srv, err := controlplane.New(controlplane.Options{
		DataDir: dir, HeartbeatInterval: time.Second, SweepInterval: 100 * time.Millisecond,
		FlushInterval: 100 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; ; i++ { // a restart re-binds the same port
		ln, err = net.Listen("tcp", addr)
		if err == nil || i > 50 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	c := &cp{t: t, dir: dir, addr: ln.Addr().String()}
	c.stop = sync.OnceFunc(func() {
		cancel()
		<-done
		srv.Close()
	})
	t.Cleanup(c.stop)
	c.admin, err = client.New(srv.ClientConfig(c.addr))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type node struct {
	name     string
	root     string
	stateDir string
	cancel   context.CancelFunc
	done     chan error
}

func registerNode(t *testing.T, c *cp, key, name string) *node {
	t.Helper()
	k, err := register.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	n := &node{name: name, root: root, stateDir: nodeconfig.DefaultPaths(root).StateDir}
	if _, err := register.Register(t.Context(), register.Options{Key: k, NodeName: name, StateDir: n.stateDir, Version: "0.0.0-test"}); err != nil {
		t.Fatal(err)
	}
	return n
}

func (n *node) start(t *testing.T, cfg nodeconfig.Config) (ready chan register.Identity) {
	t.Helper()
	ready = make(chan register.Identity, 1)
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan error, 1)
	go func() {
		n.done <- agent.Run(ctx, agent.Options{
			Root: n.root, Config: &cfg, Version: "0.0.0-test", LeaseWait: 2 * time.Second,
			Backoff: agent.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond},
			Logger:  slog.New(slog.NewTextHandler(t.Output(), nil)).With("node", n.name),
			Ready:   func(id register.Identity) { ready <- id },
		})
	}()
	t.Cleanup(func() { n.stop(t) })
	return ready
}

func (n *node) stop(t *testing.T) {
	if n.cancel == nil {
		return
	}
	n.cancel()
	if err := <-n.done; err != nil {
		t.Errorf("%s: Run: %v", n.name, err)
	}
	n.cancel = nil
}

func waitJob(t *testing.T, c *cp, id string, states ...string) api.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := c.admin.Job(t.Context(), id)
		if err == nil {
			for _, s := range states {
				if j.State == s {
					return j
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: state %q (err %v), want %v", id, j.State, err, states)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func submit(t *testing.T, c *cp, rt, kind string, spec any) api.Job {
	t.Helper()
	b, _ := json.Marshal(spec)
	j, err := c.admin.SubmitJob(t.Context(), api.SubmitJobRequest{Runtime: rt, Kind: kind, Spec: b, LeaseSeconds: 10})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func setup(t *testing.T) (*cp, string, string) {
	c := startCP(t, t.TempDir(), "127.0.0.1:0")
	rt, err := c.admin.CreateRuntime(t.Context(), api.CreateRuntimeRequest{Name: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := c.admin.Keys(t.Context(), rt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(keys.Key1, "@ca=sha256:") {
		t.Fatalf("key without a pin")
	}
	return c, rt.ID, keys.Key1
}

// TestAgentAgainstRealControlPlane: register two nodes, heartbeat, run a
// copy and a testconnection job, see both nodes online.
func TestAgentAgainstRealControlPlane(t *testing.T) {
	c, rtID, key := setup(t)
	a := registerNode(t, c, key, "node-a")
	b := registerNode(t, c, key, "node-b")
	<-a.start(t, nodeconfig.Config{})
	<-b.start(t, nodeconfig.Config{})

	rt, err := c.admin.Runtime(t.Context(), rtID)
	if err != nil || rt.Status != api.StatusOnline || len(rt.Nodes) != 2 {
		t.Fatalf("runtime %+v %v", rt, err)
	}
	for _, n := range rt.Nodes {
		if n.Status != api.StatusOnline || n.Version != "0.0.0-test" || n.Metrics.MemoryTotalBytes == 0 {
			t.Errorf("node %+v", n)
		}
	}
	// The health contract of the updater.
	var h struct {
		Version string
		PID     int
	}
	hb, err := os.ReadFile(filepath.Join(a.stateDir, agent.HealthFile))
	if err != nil || json.Unmarshal(hb, &h) != nil || h.Version != "0.0.0-test" || h.PID != os.Getpid() {
		t.Fatalf("health file %s: %v", hb, err)
	}

	data := []byte(strings.Repeat("0123456789", 50000))
	src := filepath.Join(t.TempDir(), "src")
	os.WriteFile(src, data, 0o644)
	sum := sha256.Sum256(data)
	sink := filepath.Join(t.TempDir(), "sink", "copied")
	cj := submit(t, c, rtID, api.KindCopy, api.CopySpec{Source: src, Sink: sink, SHA256: hex.EncodeToString(sum[:])})
	tj := submit(t, c, rtID, api.KindTestConnection, api.TestConnectionSpec{Protocol: "tcp", Address: c.addr})

	done := waitJob(t, c, cj.ID, api.JobSucceeded, api.JobFailed, api.JobDead)
	var co api.CopyOutput
	if done.State != api.JobSucceeded || json.Unmarshal(done.Output, &co) != nil || co.Bytes != int64(len(data)) || co.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("copy job %+v", done)
	}
	if got, _ := os.ReadFile(sink); string(got) != string(data) {
		t.Fatal("sink content differs")
	}
	done = waitJob(t, c, tj.ID, api.JobSucceeded, api.JobFailed, api.JobDead)
	var to api.TestConnectionOutput
	if done.State != api.JobSucceeded || json.Unmarshal(done.Output, &to) != nil || !to.Reachable {
		t.Fatalf("testconnection job %+v", done)
	}
	// Exec is off by default: the job fails, not retried.
	ej := submit(t, c, rtID, api.KindExec, api.ExecSpec{Command: "/bin/true"})
	done = waitJob(t, c, ej.ID, api.JobSucceeded, api.JobFailed, api.JobDead)
	if done.State != api.JobFailed || !strings.Contains(done.Error, "exec jobs are off") {
		t.Fatalf("exec job %+v", done)
	}
}

// gatedOrigin serves "payload" over HTTP once open is closed (or the
// request is cancelled), so a copy job runs for as long as the test wants.
func gatedOrigin(t *testing.T) (url string, open func()) {
	gate := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
			w.Write([]byte("payload"))
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, sync.OnceFunc(func() { close(gate) })
}

// TestResultSurvivesControlPlaneOutage: a job finishes while the control
// plane is down; its result waits in the state dir across a node restart
// and is delivered when the control plane is back (same data dir and port).
func TestResultSurvivesControlPlaneOutage(t *testing.T) {
	c, rtID, key := setup(t)
	a := registerNode(t, c, key, "node-a")
	<-a.start(t, nodeconfig.Config{})
	origin, open := gatedOrigin(t)
	sink := filepath.Join(t.TempDir(), "out")
	j := submit(t, c, rtID, api.KindCopy, api.CopySpec{Source: origin, Sink: sink})
	waitJob(t, c, j.ID, api.JobLeased)

	c.stop() // outage
	open()   // the job finishes during it
	res := filepath.Join(a.stateDir, agent.ResultsDir)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ents, _ := os.ReadDir(res)
		if len(ents) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pending result in %s", res)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got, _ := os.ReadFile(sink); string(got) != "payload" {
		t.Fatalf("sink %q", got)
	}
	a.stop(t) // node restarts too; the result stays on disk
	if ents, _ := os.ReadDir(res); len(ents) != 1 {
		t.Fatalf("pending results after shutdown: %d, want 1", len(ents))
	}

	c2 := startCP(t, c.dir, c.addr)
	<-a.start(t, nodeconfig.Config{})
	got := waitJob(t, c2, j.ID, api.JobSucceeded)
	if got.Attempts != 1 {
		t.Fatalf("job %+v: want the first attempt's result delivered", got)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		if ents, _ := os.ReadDir(res); len(ents) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("acknowledged result not removed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestShutdownHandsJobBackToOtherNode (HA): node A stops while its job
// runs; after shutdown_timeout the job is handed back and node B runs it.
func TestShutdownHandsJobBackToOtherNode(t *testing.T) {
	c, rtID, key := setup(t)
	a := registerNode(t, c, key, "node-a")
	b := registerNode(t, c, key, "node-b")
	<-a.start(t, nodeconfig.Config{ShutdownTimeout: nodeconfig.Duration{Duration: 200 * time.Millisecond}})
	origin, open := gatedOrigin(t)
	j := submit(t, c, rtID, api.KindCopy, api.CopySpec{Source: origin, Sink: filepath.Join(t.TempDir(), "out")})
	leased := waitJob(t, c, j.ID, api.JobLeased)
	a.stop(t)
	open()
	<-b.start(t, nodeconfig.Config{})
	got := waitJob(t, c, j.ID, api.JobSucceeded, api.JobFailed, api.JobDead)
	if got.State != api.JobSucceeded || got.Attempts != 2 || got.NodeID == leased.NodeID {
		t.Fatalf("job %+v: want succeeded on the other node in attempt 2 (first node %s)", got, leased.NodeID)
	}
	// Handed back, not failed: the first attempt did not count.
	if got.MaxAttempts != leased.MaxAttempts+1 {
		t.Errorf("maxAttempts %d after a hand-back, want %d (released attempts do not count)", got.MaxAttempts, leased.MaxAttempts+1)
	}
}

// TestConcurrencyFromControlPlane: the admin's per-node limit reaches the
// node with the next heartbeat reply; the node then holds at most that many
// leases.
func TestConcurrencyFromControlPlane(t *testing.T) {
	c, rtID, key := setup(t)
	a := registerNode(t, c, key, "node-a")
	<-a.start(t, nodeconfig.Config{Concurrency: 3})
	if _, err := c.admin.SetConcurrency(t.Context(), rtID, "node-a", 1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // two heartbeat intervals of this server
	origin, open := gatedOrigin(t)
	var ids []string
	for i := range 3 {
		ids = append(ids, submit(t, c, rtID, api.KindCopy, api.CopySpec{Source: origin, Sink: filepath.Join(t.TempDir(), "o"+string(rune('a'+i)))}).ID)
	}
	waitJob(t, c, ids[0], api.JobLeased)
	time.Sleep(500 * time.Millisecond)
	leased := 0
	for _, id := range ids {
		j, _ := c.admin.Job(t.Context(), id)
		if j.State == api.JobLeased {
			leased++
		}
	}
	open()
	if leased != 1 {
		t.Fatalf("%d jobs leased at once with concurrency 1", leased)
	}
	for _, id := range ids {
		waitJob(t, c, id, api.JobSucceeded)
	}
}

// TestRemovedNodeStops: when an admin removes the node, its token is
// refused and Run ends with an error saying to register again.
func TestRemovedNodeStops(t *testing.T) {
	c, rtID, key := setup(t)
	a := registerNode(t, c, key, "node-a")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- agent.Run(ctx, agent.Options{Root: a.root, Config: &nodeconfig.Config{}, LeaseWait: time.Second,
			Backoff: agent.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond},
			Ready:   func(register.Identity) { close(ready) }})
	}()
	<-ready
	if err := c.admin.RemoveNode(t.Context(), rtID, "node-a"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "register it again") {
			t.Fatalf("Run after removal: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not stop after the node was removed")
	}
}

// TestAgentThroughProxy: with [proxy] mode = "custom" and a sealed password,
// heartbeats, leases and results go through the proxy (CONNECT to the
// control plane), authenticated.
func TestAgentThroughProxy(t *testing.T) {
	c, rtID, key := setup(t)
	a := registerNode(t, c, key, "node-a")
	px := netproxytest.New("proxyuser", "proxy-pw")
	defer px.Close()
	prot, err := secret.ForStateDir(a.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := netproxy.SavePassword(a.stateDir, prot, "proxy-pw"); err != nil {
		t.Fatal(err)
	}
	<-a.start(t, nodeconfig.Config{Proxy: nodeconfig.Proxy{Mode: "custom", URL: px.URL, User: "proxyuser"}})
	j := submit(t, c, rtID, api.KindTestConnection, api.TestConnectionSpec{Protocol: "tcp", Address: c.addr})
	waitJob(t, c, j.ID, api.JobSucceeded)
	if px.Denied() != 0 || len(px.Targets()) == 0 {
		t.Fatalf("proxy: denied %d, targets %v", px.Denied(), px.Targets())
	}
	for _, tg := range px.Targets() {
		if tg != c.addr {
			t.Fatalf("proxy target %s, want only the control plane %s", tg, c.addr)
		}
	}
}

// TestCorruptIdentityRefusesToStart: a damaged identity stops Run with a
// recovery hint and stays as it was.
func TestCorruptIdentityRefusesToStart(t *testing.T) {
	c, _, key := setup(t)
	a := registerNode(t, c, key, "node-a")
	p := filepath.Join(a.stateDir, register.IdentityFile)
	os.WriteFile(p, []byte("SHIRSEC1garbage"), 0o600)
	err := agent.Run(t.Context(), agent.Options{Root: a.root, Config: &nodeconfig.Config{}})
	if err == nil || !strings.Contains(err.Error(), "restore the state directory from a backup") {
		t.Fatalf("Run with a corrupt identity: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "SHIRSEC1garbage" {
		t.Fatal("corrupt identity was changed")
	}
}
