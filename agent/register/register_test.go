package register

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/internal/netproxy"
	"github.com/shirhq/shir/internal/netproxy/netproxytest"
	sec "github.com/shirhq/shir/internal/secret"
)

const tokenValue = "tok-SECRET-0123456789abcdef"

// fakeCP is an httptest TLS server speaking the registration API.
type fakeCP struct {
	*httptest.Server
	mu       sync.Mutex
	machines map[string]string // machineID -> nodeID
	names    map[string]string // name -> machineID
	last     api.RegisterRequest
}

func newFakeCP(t *testing.T) *fakeCP {
	f := &fakeCP{machines: map[string]string{}, names: map[string]string{}}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem := func(status int, typ, title string) {
			w.Header().Set("Content-Type", api.ContentTypeProblem)
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(api.Problem{Type: typ, Title: title, Status: status})
		}
		if r.URL.Path != api.PathRegister || r.Method != http.MethodPost {
			problem(404, api.ProblemNotFound, "not found")
			return
		}
		var req api.RegisterRequest
		b := make([]byte, 1<<16)
		n, _ := r.Body.Read(b)
		if err := api.DecodeStrict(b[:n], &req); err != nil {
			problem(400, api.ProblemValidation, err.Error())
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.last = req
		if req.RuntimeID != "rt1" || req.KeySecret != "abcdefghijklmnopqrstuvwxyz012345" {
			problem(401, api.ProblemUnauthorized, "unauthorized")
			return
		}
		if m, ok := f.names[req.NodeName]; ok && m != req.Machine.MachineID {
			problem(409, api.ProblemNodeNameTaken, "node name "+req.NodeName+" is taken by another machine")
			return
		}
		id, again := f.machines[req.Machine.MachineID]
		if !again {
			id = "n-" + req.NodeName
			f.machines[req.Machine.MachineID] = id
			f.names[req.NodeName] = req.Machine.MachineID
		}
		json.NewEncoder(w).Encode(api.RegisterResponse{NodeID: id, NodeToken: tokenValue, NodeName: req.NodeName,
			RuntimeID: "rt1", RuntimeName: "prod", Reregistered: again, HeartbeatIntervalSeconds: 15})
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeCP) key(t *testing.T, pin bool) Key {
	t.Helper()
	s := "SHIR@rt1@prod@ServiceEndpoint=" + f.URL + "@abcdefghijklmnopqrstuvwxyz012345"
	if pin {
		s += "@ca=sha256:" + strings.ToLower(hexOf(api.CertSHA256(f.Certificate().Raw)))
	}
	k, err := ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func noLeak(t *testing.T, err error) {
	t.Helper()
	if err != nil && (strings.Contains(err.Error(), "abcdefghijklmnop") || strings.Contains(err.Error(), tokenValue)) {
		t.Fatalf("error leaks a secret: %v", err)
	}
}

func TestRegisterPinnedAndIdempotent(t *testing.T) {
	cp := newFakeCP(t)
	dir := t.TempDir()
	opts := Options{Key: cp.key(t, true), NodeName: "node1", StateDir: dir, Version: "1.2.3"}
	id, err := Register(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if id.NodeID != "n-node1" || id.Token != tokenValue || id.RuntimeName != "prod" || id.CASHA256 == "" {
		t.Fatalf("identity %+v", id)
	}
	if strings.Contains(id.String(), tokenValue) {
		t.Fatal("Identity.String shows the token")
	}
	if cp.last.Version != "1.2.3" || cp.last.Machine.MachineID == "" || cp.last.Machine.OS == "" {
		t.Fatalf("request %+v", cp.last)
	}
	raw, err := os.ReadFile(filepath.Join(dir, IdentityFile))
	if err != nil || strings.Contains(string(raw), tokenValue) || strings.Contains(string(raw), "n-node1") {
		t.Fatalf("identity file missing or in plain text: %v", err)
	}
	p, _ := sec.ForStateDir(dir)
	loaded, err := Load(dir, p)
	if err != nil || loaded.Token != tokenValue || loaded.Endpoint != cp.URL {
		t.Fatalf("Load = %+v %v", loaded, err)
	}
	// Same installation again: same node.
	id2, err := Register(context.Background(), opts)
	if err != nil || id2.NodeID != id.NodeID {
		t.Fatalf("re-register: %+v %v", id2, err)
	}
	// Another installation (another state dir) with the same name: refused.
	opts.StateDir = t.TempDir()
	_, err = Register(context.Background(), opts)
	if !errors.Is(err, exitcode.ErrRegistration) || !strings.Contains(err.Error(), "taken") {
		t.Fatalf("taken name: %v", err)
	}
	noLeak(t, err)
	if _, err := os.Stat(filepath.Join(opts.StateDir, IdentityFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a refused registration left an identity")
	}
}

func TestRegisterRefusals(t *testing.T) {
	cp := newFakeCP(t)
	ctx := context.Background()

	// Wrong pin: refused before anything is sent.
	k := cp.key(t, true)
	k.CASHA256[0] ^= 1
	_, err := Register(ctx, Options{Key: k, NodeName: "n", StateDir: t.TempDir()})
	if !errors.Is(err, exitcode.ErrRegistration) || !strings.Contains(err.Error(), "not the one the key names") {
		t.Fatalf("wrong pin: %v", err)
	}
	noLeak(t, err)

	// No pin, self-signed server: the system roots refuse it.
	_, err = Register(ctx, Options{Key: cp.key(t, false), NodeName: "n", StateDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), cp.URL) || !strings.Contains(err.Error(), "proxy: none") {
		t.Fatalf("unpinned self-signed: %v", err)
	}

	// Wrong secret: 401 -> registration refused.
	k = cp.key(t, true)
	k.Secret = "zzzzzzzzzzzzzzzzzzzzzzzz"
	_, err = Register(ctx, Options{Key: k, NodeName: "n", StateDir: t.TempDir()})
	if !errors.Is(err, exitcode.ErrRegistration) || exitcode.Code(err) != 6 || strings.Contains(err.Error(), "zzzzzzzz") {
		t.Fatalf("wrong secret: %v", err)
	}

	// Unreachable server: names the URL and the proxy.
	u, _ := url.Parse("https://127.0.0.1:1")
	k.Endpoint = u
	_, err = Register(ctx, Options{Key: k, NodeName: "n", StateDir: t.TempDir(), Proxy: netproxy.Config{Mode: "custom", URL: "http://127.0.0.1:1", User: "u", Password: "proxypass"}})
	if err == nil || !strings.Contains(err.Error(), "https://127.0.0.1:1 unreachable (proxy: http://127.0.0.1:1 (user u))") || strings.Contains(err.Error(), "proxypass") {
		t.Fatalf("unreachable: %v", err)
	}

	// Bad node name: usage error.
	_, err = Register(ctx, Options{Key: cp.key(t, true), NodeName: "a b", StateDir: t.TempDir()})
	if !errors.Is(err, exitcode.ErrUsage) {
		t.Fatalf("bad name: %v", err)
	}
}

func TestRegisterThroughProxy(t *testing.T) {
	cp := newFakeCP(t)
	px := netproxytest.New("bob", "pw")
	defer px.Close()
	id, err := Register(context.Background(), Options{Key: cp.key(t, true), NodeName: "viaproxy", StateDir: t.TempDir(),
		Proxy: netproxy.Config{Mode: "custom", URL: px.URL, User: "bob", Password: "pw"}})
	if err != nil || id.NodeID == "" {
		t.Fatalf("via proxy: %v", err)
	}
	u, _ := url.Parse(cp.URL)
	if got := px.Targets(); len(got) != 1 || got[0] != u.Host {
		t.Fatalf("proxy saw %v, want CONNECT %s", got, u.Host)
	}
}

func TestCorruptIdentityIsKept(t *testing.T) {
	cp := newFakeCP(t)
	dir := t.TempDir()
	if _, err := Register(context.Background(), Options{Key: cp.key(t, true), NodeName: "n1", StateDir: dir}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, IdentityFile)
	raw, _ := os.ReadFile(path)
	bad := append([]byte(nil), raw...)
	bad[len(bad)-2] ^= 0xff
	os.WriteFile(path, bad, 0o600)
	p, _ := sec.ForStateDir(dir)
	if _, err := Load(dir, p); !errors.Is(err, sec.ErrCorrupt) || !strings.Contains(err.Error(), "-ibf") {
		t.Fatalf("Load corrupt: %v", err)
	}
	_, err := Register(context.Background(), Options{Key: cp.key(t, true), NodeName: "n1", StateDir: dir})
	if !errors.Is(err, sec.ErrCorrupt) {
		t.Fatalf("Register over a corrupt identity: %v", err)
	}
	if now, _ := os.ReadFile(path); string(now) != string(bad) {
		t.Fatal("corrupt identity was overwritten")
	}
	if _, err := Load(t.TempDir(), p); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("empty dir: %v", err)
	}
}

func TestMachineFacts(t *testing.T) {
	a := CollectMachineFacts(context.Background(), "/x/a")
	b := CollectMachineFacts(context.Background(), "/x/b")
	a2 := CollectMachineFacts(context.Background(), "/x/a")
	if a.MachineID == "" || a.MachineID == b.MachineID || a.MachineID != a2.MachineID || a.CPUs < 1 {
		t.Fatalf("facts %+v / %+v", a, b)
	}
	for in, want := range map[string]string{"host.example.com": "host", "-x": "node-x", "": "node", "a_b c": "a_bc"} {
		if got := shortHostname(in); got != want || api.CheckName(got) != nil {
			t.Errorf("shortHostname(%q) = %q, want %q", in, got, want)
		}
	}
}
