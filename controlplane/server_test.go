package controlplane_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/controlplane"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
)

type env struct {
	t     *testing.T
	srv   *controlplane.Server
	dir   string
	url   string
	admin *client.Client
	hc    *http.Client // pinned, no auth
	stop  func()       // idempotent: shut down and close the server
}

func start(t *testing.T, opts controlplane.Options) *env {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv, err := controlplane.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var admin *client.Client
	stop := sync.OnceFunc(func() {
		if admin != nil {
			admin.Close() // an open HTTP/2 connection delays Shutdown by its 1 s GOAWAY wait
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	t.Cleanup(stop)
	cfg := srv.ClientConfig(ln.Addr().String())
	admin, err = client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: api.PinnedTLSConfig(cfg.CASHA256), MaxIdleConns: 2000, MaxIdleConnsPerHost: 2000}
	t.Cleanup(tr.CloseIdleConnections)
	return &env{t: t, srv: srv, dir: opts.DataDir, url: cfg.URL, admin: admin, hc: &http.Client{Transport: tr, Timeout: time.Minute}, stop: stop}
}

// call sends a raw request and returns status, headers and body.
func (e *env) call(method, path, token string, body any) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// must calls and decodes a reply with the wanted status.
func (e *env) must(want int, method, path, token string, body, out any) {
	e.t.Helper()
	code, _, b := e.call(method, path, token, body)
	if code != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

func problemOf(t *testing.T, b []byte) api.Problem {
	t.Helper()
	var p api.Problem
	if err := json.Unmarshal(b, &p); err != nil || p.Type == "" {
		t.Fatalf("not a problem document: %s", b)
	}
	return p
}

func (e *env) runtime(name string, maxNodes int) (api.Runtime, register.Key) {
	e.t.Helper()
	rt, err := e.admin.CreateRuntime(context.Background(), api.CreateRuntimeRequest{Name: name, MaxNodes: maxNodes})
	if err != nil {
		e.t.Fatal(err)
	}
	keys, err := e.admin.Keys(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	k, err := register.ParseKey(keys.Key1)
	if err != nil {
		e.t.Fatalf("key1 does not parse with agent/register: %v", err)
	}
	return rt, k
}

func (e *env) register(k register.Key, name, machine string) api.RegisterResponse {
	e.t.Helper()
	var resp api.RegisterResponse
	e.must(200, "POST", api.PathRegister, "", api.RegisterRequest{RuntimeID: k.RuntimeID, KeySecret: k.Secret, NodeName: name,
		Machine: api.MachineFacts{MachineID: machine, Hostname: name, OS: "linux", CPUs: 2}, Version: "1.0.0"}, &resp)
	return resp
}

func TestFirstStartFilesAndAuth(t *testing.T) {
	e := start(t, controlplane.Options{})
	for name, perm := range map[string]os.FileMode{controlplane.AdminTokenFile: 0o600, controlplane.KeyFile: 0o600, controlplane.DBFile: 0o600} {
		fi, err := os.Stat(filepath.Join(e.dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != perm {
			t.Errorf("%s has mode %v, want %v", name, fi.Mode().Perm(), perm)
		}
	}
	tok, _ := os.ReadFile(filepath.Join(e.dir, controlplane.AdminTokenFile))
	if strings.TrimSpace(string(tok)) != e.srv.AdminToken() || len(tok) < 32 {
		t.Errorf("admin token file does not hold the admin token")
	}
	// 401 without saying which part was wrong: same body for all.
	var bodies []string
	for _, tok := range []string{"", "wrong", e.srv.AdminToken() + "x"} {
		code, hdr, b := e.call("GET", api.PathRuntimes, tok, nil)
		if code != 401 || hdr.Get("Content-Type") != api.ContentTypeProblem {
			t.Errorf("token %q: %d %s", tok, code, hdr.Get("Content-Type"))
		}
		bodies = append(bodies, string(b))
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] || strings.Contains(bodies[0], "token") {
		t.Errorf("401 bodies differ or explain: %q", bodies)
	}
	// A node token is no admin token and vice versa.
	_, k := e.runtime("rt1", 0)
	reg := e.register(k, "n1", "m1")
	if code, _, _ := e.call("GET", api.PathRuntimes, reg.NodeToken, nil); code != 401 {
		t.Errorf("node token on admin endpoint: %d", code)
	}
	if code, _, _ := e.call("POST", api.PathHeartbeat, e.srv.AdminToken(), api.HeartbeatRequest{}); code != 401 {
		t.Errorf("admin token on node endpoint: %d", code)
	}
	// The wrong pin is refused by the client.
	cfg := e.srv.ClientConfig(strings.TrimPrefix(e.url, "https://"))
	cfg.CASHA256 = bytes.Repeat([]byte{1}, 32)
	c, _ := client.New(cfg)
	if _, err := c.Runtimes(context.Background()); err == nil || !strings.Contains(err.Error(), "does not match the pinned") {
		t.Errorf("wrong pin: %v", err)
	}
	code, _, b := e.call("GET", "/v1/nope", e.srv.AdminToken(), nil)
	if code != 404 || problemOf(t, b).Type != api.ProblemNotFound {
		t.Errorf("unknown path: %d %s", code, b)
	}
}

func TestRuntimesAndKeys(t *testing.T) {
	e := start(t, controlplane.Options{})
	ctx := context.Background()
	rt, k1 := e.runtime("alpha", 0)
	if rt.MaxNodes != 4 || rt.Status != api.StatusNeedsRegistration || !strings.HasPrefix(rt.ID, "rt-") {
		t.Errorf("new runtime: %+v", rt)
	}
	if k1.RuntimeID != rt.ID || k1.RuntimeName != "alpha" || k1.Endpoint.String() != e.url || !bytes.Equal(k1.CASHA256, e.srv.CertSHA256()) {
		t.Errorf("key1 = %v, pin %x; want endpoint %s and the server's pin", k1, k1.CASHA256, e.url)
	}
	_, err := e.admin.CreateRuntime(ctx, api.CreateRuntimeRequest{Name: "alpha"})
	if !errors.Is(err, &api.Problem{Type: api.ProblemConflict}) {
		t.Errorf("duplicate name: %v", err)
	}
	e.runtime("beta", 2)
	list, err := e.admin.Runtimes(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "alpha" || list[1].MaxNodes != 2 {
		t.Errorf("list: %+v %v", list, err)
	}
	before, _ := e.admin.Keys(ctx, "alpha")
	after, err := e.admin.RegenerateKey(ctx, rt.ID, "key2")
	if err != nil || after.Key1 != before.Key1 || after.Key2 == before.Key2 {
		t.Errorf("regenerate key2 changed the wrong key: %v", err)
	}
	if _, err := e.admin.RegenerateKey(ctx, "alpha", "key3"); !errors.Is(err, &api.Problem{Type: api.ProblemValidation}) {
		t.Errorf("key3: %v", err)
	}
	desc, maxN, ver := "prod", 3, "1.4.0"
	up, err := e.admin.UpdateRuntime(ctx, "alpha", api.UpdateRuntimeRequest{Description: &desc, MaxNodes: &maxN, DesiredVersion: &ver})
	if err != nil || up.Description != "prod" || up.MaxNodes != 3 || up.DesiredVersion != "1.4.0" {
		t.Errorf("update: %+v %v", up, err)
	}
	bad := "not a version"
	if _, err := e.admin.UpdateRuntime(ctx, "alpha", api.UpdateRuntimeRequest{DesiredVersion: &bad}); err == nil || !strings.Contains(err.Error(), "desiredVersion") {
		t.Errorf("bad version: %v", err)
	}
	if err := e.admin.DeleteRuntime(ctx, "beta"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.Runtime(ctx, "beta"); !errors.Is(err, &api.Problem{Type: api.ProblemNotFound}) {
		t.Errorf("deleted runtime: %v", err)
	}
}

func TestRegistration(t *testing.T) {
	e := start(t, controlplane.Options{})
	ctx := context.Background()
	_, k := e.runtime("rt", 2)
	r1 := e.register(k, "node1", "machine-1")
	if r1.Reregistered || !strings.HasPrefix(r1.NodeToken, "shirn_") || r1.HeartbeatIntervalSeconds != 15 {
		t.Errorf("first registration: %+v", r1)
	}
	// Same machine again: same node, new token; the old token stops working.
	r1b := e.register(k, "node1", "machine-1")
	if !r1b.Reregistered || r1b.NodeID != r1.NodeID || r1b.NodeToken == r1.NodeToken {
		t.Errorf("re-registration: %+v", r1b)
	}
	if code, _, _ := e.call("POST", api.PathHeartbeat, r1.NodeToken, api.HeartbeatRequest{}); code != 401 {
		t.Errorf("old token after re-registration: %d", code)
	}
	e.must(200, "POST", api.PathHeartbeat, r1b.NodeToken, api.HeartbeatRequest{Version: "1.0.0"}, nil)

	req := api.RegisterRequest{RuntimeID: k.RuntimeID, KeySecret: k.Secret, NodeName: "node1", Machine: api.MachineFacts{MachineID: "machine-2"}}
	code, _, b := e.call("POST", api.PathRegister, "", req)
	if p := problemOf(t, b); code != 409 || p.Type != api.ProblemNodeNameTaken || !strings.Contains(p.Detail, `"node1"`) {
		t.Errorf("taken name: %d %s", code, b)
	}
	e.register(k, "node2", "machine-2")
	req.NodeName, req.Machine.MachineID = "node3", "machine-3"
	code, _, b = e.call("POST", api.PathRegister, "", req)
	if p := problemOf(t, b); code != 409 || p.Type != api.ProblemRuntimeFull || !strings.Contains(p.Detail, "maximum of 2 nodes") {
		t.Errorf("full runtime: %d %s", code, b)
	}
	// Wrong secret and unknown runtime: the same 401.
	for _, r := range []api.RegisterRequest{
		{RuntimeID: k.RuntimeID, KeySecret: k.Secret + "x", NodeName: "n", Machine: api.MachineFacts{MachineID: "m"}},
		{RuntimeID: "rt-0000", KeySecret: k.Secret, NodeName: "n", Machine: api.MachineFacts{MachineID: "m"}},
		{RuntimeID: "rt", KeySecret: k.Secret, NodeName: "n", Machine: api.MachineFacts{MachineID: "m"}}, // a name is not an ID
	} {
		code, _, b := e.call("POST", api.PathRegister, "", r)
		if code != 401 || strings.Contains(string(b), k.Secret) {
			t.Errorf("bad key %+v: %d %s", r.RuntimeID, code, b)
		}
	}
	// Regenerating key1 stops it registering, registered nodes keep working.
	if _, err := e.admin.RegenerateKey(ctx, "rt", "key1"); err != nil {
		t.Fatal(err)
	}
	if err := e.admin.RemoveNode(ctx, "rt", "node2"); err != nil {
		t.Fatal(err)
	}
	req.KeySecret = k.Secret
	if code, _, _ := e.call("POST", api.PathRegister, "", req); code != 401 {
		t.Errorf("old key1 after regeneration: %d", code)
	}
	e.must(200, "POST", api.PathHeartbeat, r1b.NodeToken, api.HeartbeatRequest{}, nil)
	keys, _ := e.admin.Keys(ctx, "rt")
	k2, _ := register.ParseKey(keys.Key2)
	e.register(k2, "node3", "machine-3")
	rt, err := e.admin.Runtime(ctx, "rt")
	if err != nil || len(rt.Nodes) != 2 || rt.Nodes[0].Name != "node1" || rt.Nodes[0].Status != api.StatusOnline || rt.Nodes[1].Status != api.StatusOffline || rt.Status != api.StatusLimited {
		t.Errorf("runtime after registrations: %+v %v", rt, err)
	}
	if err := e.admin.RemoveNode(ctx, "rt", "node1"); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := e.call("POST", api.PathHeartbeat, r1b.NodeToken, api.HeartbeatRequest{}); code != 401 {
		t.Errorf("removed node's token: %d", code)
	}
	if err := e.admin.RemoveNode(ctx, "rt", "node1"); !errors.Is(err, &api.Problem{Type: api.ProblemNotFound}) {
		t.Errorf("second remove: %v", err)
	}
}

func TestHeartbeatReply(t *testing.T) {
	e := start(t, controlplane.Options{})
	ctx := context.Background()
	_, k := e.runtime("rt", 0)
	a := e.register(k, "a", "ma")
	b := e.register(k, "b", "mb")
	var hb api.HeartbeatResponse
	e.must(200, "POST", api.PathHeartbeat, a.NodeToken, api.HeartbeatRequest{Version: "1.0.1", Concurrency: 3, RemoteAccess: "10.0.0.1:8060", RemoteFingerprint: "sha256:abababababababababababababababababababababababababababababababab",
		Metrics: api.Metrics{CPUPercent: 12.5, MemoryUsedBytes: 1 << 30, RunningJobs: 1}, Update: api.UpdateStatus{State: api.UpdateIdle}}, &hb)
	if hb.NodeID != a.NodeID || hb.Concurrency != 3 || hb.RuntimeStatus != api.StatusLimited || len(hb.Peers) != 1 || hb.Peers[0].Name != "b" {
		t.Errorf("heartbeat reply: %+v", hb)
	}
	ver := "1.2.0"
	if _, err := e.admin.UpdateRuntime(ctx, "rt", api.UpdateRuntimeRequest{DesiredVersion: &ver}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.SetConcurrency(ctx, "rt", "a", 7); err != nil {
		t.Fatal(err)
	}
	e.must(200, "POST", api.PathHeartbeat, b.NodeToken, api.HeartbeatRequest{}, &hb)
	if hb.RuntimeStatus != api.StatusOnline || hb.Peers[0].RemoteAccess != "10.0.0.1:8060" || hb.Peers[0].Fingerprint != "sha256:abababababababababababababababababababababababababababababababab" || hb.DesiredVersion != "1.2.0" {
		t.Errorf("second heartbeat reply: %+v", hb)
	}
	// A malformed fingerprint is refused, naming the field.
	if st, _, body := e.call("POST", api.PathHeartbeat, b.NodeToken, api.HeartbeatRequest{RemoteFingerprint: "sha1:00"}); st != 400 || !strings.Contains(string(body), "remoteFingerprint") {
		t.Errorf("bad fingerprint: %d %s", st, body)
	}
	e.must(200, "POST", api.PathHeartbeat, a.NodeToken, api.HeartbeatRequest{Concurrency: 3}, &hb)
	if hb.Concurrency != 7 {
		t.Errorf("admin concurrency not applied: %d", hb.Concurrency)
	}
	rt, _ := e.admin.Runtime(ctx, "rt")
	if n := rt.Nodes[0]; n.Version != "" || n.Concurrency != 7 || n.ReportedConcurrency != 3 || n.LastSeen.IsZero() {
		t.Errorf("node view: %+v", n)
	}
	if _, err := e.admin.SetConcurrency(ctx, "rt", "a", api.MaxConcurrency+1); err == nil || !strings.Contains(err.Error(), "concurrency") {
		t.Errorf("too high concurrency: %v", err)
	}
}

func TestValidation(t *testing.T) {
	e := start(t, controlplane.Options{})
	_, k := e.runtime("rt", 0)
	reg := e.register(k, "n", "m")
	adm := e.srv.AdminToken()
	big := `{"name":"` + strings.Repeat("a", api.MaxBodyBytes) + `"}`
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		code                      int
		field                     string
	}{
		{"unknown field", "POST", api.PathRuntimes, adm, `{"name":"x","color":"red"}`, 400, "color"},
		{"wrong type", "POST", api.PathRuntimes, adm, `{"name":"x","maxNodes":"4"}`, 400, "maxNodes"},
		{"trailing data", "POST", api.PathRuntimes, adm, `{"name":"x"}{}`, 400, "body"},
		{"empty body", "POST", api.PathRuntimes, adm, ``, 400, "body"},
		{"too large", "POST", api.PathRuntimes, adm, big, 413, ""},
		{"bad name", "POST", api.PathRuntimes, adm, `{"name":"a@b"}`, 400, "name"},
		{"maxNodes", "POST", api.PathRuntimes, adm, `{"name":"x","maxNodes":-1}`, 400, "maxNodes"},
		{"description", "POST", api.PathRuntimes, adm, `{"name":"x","description":"a\u0000b"}`, 400, "description"},
		{"node name", "POST", api.PathRegister, "", api.RegisterRequest{RuntimeID: k.RuntimeID, KeySecret: k.Secret, NodeName: "bad name", Machine: api.MachineFacts{MachineID: "x"}}, 400, "nodeName"},
		{"machine id", "POST", api.PathRegister, "", api.RegisterRequest{RuntimeID: k.RuntimeID, KeySecret: k.Secret, NodeName: "x"}, 400, "machine.machineId"},
		{"wait", "POST", api.PathLease, reg.NodeToken, `{"waitSeconds":31}`, 400, "waitSeconds"},
		{"cpu", "POST", api.PathHeartbeat, reg.NodeToken, `{"metrics":{"cpuPercent":101}}`, 400, "metrics"},
		{"job kind", "POST", api.PathJobs, adm, `{"runtime":"rt","kind":"rm","spec":{}}`, 400, "kind"},
		{"job runtime", "POST", api.PathJobs, adm, `{"runtime":"nope","kind":"exec","spec":{"command":"x"}}`, 400, "runtime"},
		{"job spec missing", "POST", api.PathJobs, adm, `{"runtime":"rt","kind":"exec"}`, 400, "spec"},
		{"job spec unknown", "POST", api.PathJobs, adm, `{"runtime":"rt","kind":"exec","spec":{"command":"x","shell":true}}`, 400, "spec.shell"},
		{"copy sink url", "POST", api.PathJobs, adm, `{"runtime":"rt","kind":"copy","spec":{"source":"https://x/y","sink":"http://z"}}`, 400, "spec.sink"},
		{"copy sha", "POST", api.PathJobs, adm, `{"runtime":"rt","kind":"copy","spec":{"source":"/a","sink":"/b","sha256":"zz"}}`, 400, "spec.sha256"},
		{"copy credential name", "POST", api.PathJobs, adm, `{"runtime":"rt","kind":"copy","spec":{"source":"https://h/a","sink":"/b","credential":"a b"}}`, 400, "spec.credential"},
		{"copy credential file", "POST", api.PathJobs, adm, `{"runtime":"rt","kind":"copy","spec":{"source":"/a","sink":"/b","credential":"web"}}`, 400, "spec.credential"},
		{"tcp address", "POST", api.PathJobs, adm, `{"runtime":"rt","kind":"testconnection","spec":{"protocol":"tcp","address":"host"}}`, 400, "spec.address"},
		{"protocol", "POST", api.PathJobs, adm, `{"runtime":"rt","kind":"testconnection","spec":{"protocol":"ftp","address":"h:1"}}`, 400, "spec.protocol"},
		{"attempts", "POST", api.PathJobs, adm, `{"runtime":"rt","kind":"exec","spec":{"command":"x"},"maxAttempts":50}`, 400, "maxAttempts"},
		{"lease seconds", "POST", api.PathJobs, adm, `{"runtime":"rt","kind":"exec","spec":{"command":"x"},"leaseSeconds":1}`, 400, "leaseSeconds"},
		{"list state", "GET", api.PathJobs + "?state=done", adm, nil, 400, "state"},
		{"list limit", "GET", api.PathJobs + "?limit=0", adm, nil, 400, "limit"},
		{"result outcome", "POST", api.JobPath("j-x", "result"), reg.NodeToken, `{"attempt":1,"outcome":"ok"}`, 400, "outcome"},
		{"attempt", "POST", api.JobPath("j-x", "renew"), reg.NodeToken, `{}`, 400, "attempt"},
		{"unknown job", "POST", api.JobPath("j-x", "renew"), reg.NodeToken, `{"attempt":1}`, 404, ""},
		{"unknown job show", "GET", api.JobPath("j-x"), adm, nil, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, hdr, b := e.call(tc.method, tc.path, tc.token, tc.body)
			if code != tc.code || hdr.Get("Content-Type") != api.ContentTypeProblem {
				t.Fatalf("status %d (%s), want %d: %s", code, hdr.Get("Content-Type"), tc.code, b)
			}
			if p := problemOf(t, b); p.Field != tc.field || p.Status != tc.code {
				t.Errorf("problem %+v, want field %q", p, tc.field)
			}
		})
	}
	code, _, _ := e.call("POST", api.PathRuntimes, adm, nil)
	if code != 400 {
		t.Errorf("no body: %d", code)
	}
	req, _ := http.NewRequest("POST", e.url+api.PathRuntimes, strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Authorization", "Bearer "+adm)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := e.hc.Do(req)
	if err != nil || resp.StatusCode != 415 {
		t.Errorf("text/plain body: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
}

func TestRegistrationRateLimit(t *testing.T) {
	e := start(t, controlplane.Options{RegisterRate: 0.01, RegisterBurst: 2})
	_, k := e.runtime("rt", 10)
	for i := range 2 {
		e.register(k, fmt.Sprintf("n%d", i), fmt.Sprintf("m%d", i))
	}
	code, hdr, b := e.call("POST", api.PathRegister, "", api.RegisterRequest{RuntimeID: k.RuntimeID, KeySecret: k.Secret, NodeName: "n9", Machine: api.MachineFacts{MachineID: "m9"}})
	if code != 429 || hdr.Get("Retry-After") == "" || problemOf(t, b).Type != api.ProblemRateLimited {
		t.Errorf("third registration: %d retry-after %q %s", code, hdr.Get("Retry-After"), b)
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	var tok, nodeTok, jobID string
	var pin []byte
	{
		e := start(t, controlplane.Options{DataDir: dir})
		_, k := e.runtime("rt", 0)
		r := e.register(k, "n", "m")
		e.must(200, "POST", api.PathHeartbeat, r.NodeToken, api.HeartbeatRequest{Version: "9.9.9"}, nil)
		j, err := e.admin.SubmitJob(context.Background(), api.SubmitJobRequest{Runtime: "rt", Kind: api.KindExec, Spec: json.RawMessage(`{"command":"hostname"}`)})
		if err != nil {
			t.Fatal(err)
		}
		tok, nodeTok, jobID, pin = e.srv.AdminToken(), r.NodeToken, j.ID, e.srv.CertSHA256()
		e.stop()
	}
	e2 := start(t, controlplane.Options{DataDir: dir})
	if e2.srv.AdminToken() != tok || !bytes.Equal(e2.srv.CertSHA256(), pin) {
		t.Error("admin token or certificate changed on restart")
	}
	var lr api.LeaseResponse
	e2.must(200, "POST", api.PathLease, nodeTok, api.LeaseRequest{WaitSeconds: 0}, &lr)
	if len(lr.Jobs) != 1 || lr.Jobs[0].JobID != jobID {
		t.Errorf("job after restart: %+v", lr)
	}
	rt, _ := e2.admin.Runtime(context.Background(), "rt")
	if len(rt.Nodes) != 1 || rt.Nodes[0].Version != "9.9.9" {
		t.Errorf("heartbeat not flushed on close: %+v", rt.Nodes)
	}
}

func clientFilter(rt, state string) client.JobFilter {
	return client.JobFilter{Runtime: rt, State: state}
}
