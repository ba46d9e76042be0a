package agent_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shirhq/shir/agent"
	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/internal/credstore"
	"github.com/shirhq/shir/internal/nodecert"
	"github.com/shirhq/shir/internal/nodeconfig"
	"github.com/shirhq/shir/internal/secret"
)

// logBuf collects the log lines of all nodes (to look for secrets).
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// pemCert makes a certificate and key PEM file (RSA when rsaKey).
func pemCert(t *testing.T, dir, name string, rsaKey bool) string {
	t.Helper()
	var key any
	var pub any
	if rsaKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		key, pub = k, &k.PublicKey
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key, pub = k, &k.PublicKey
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	path := filepath.Join(dir, name+".pem")
	b := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})...)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (n *node) startRemote(t *testing.T, logs *logBuf) chan register.Identity {
	t.Helper()
	ready := make(chan register.Identity, 1)
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan error, 1)
	go func() {
		n.done <- agent.Run(ctx, agent.Options{
			Root: n.root, Config: &nodeconfig.Config{}, Version: "0.0.0-test", LeaseWait: 2 * time.Second,
			Backoff:    agent.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond},
			Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", n.name),
			Ready:      func(id register.Identity) { ready <- id },
			RemotePoll: 50 * time.Millisecond,
			// Long: propagation must come from the change triggers, not the timer.
			SyncInterval: time.Hour,
		})
	}()
	t.Cleanup(func() { n.stop(t) })
	return ready
}

func (n *node) store(t *testing.T) *credstore.Store {
	t.Helper()
	p, err := secret.ForStateDir(n.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	return credstore.Open(n.stateDir, p) // a second handle, as `shir agent credential` has
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func secretOf(t *testing.T, n *node, name string) string {
	c, err := n.store(t).Get(name)
	if err != nil {
		return ""
	}
	return c.Secret
}

// TestCredentialSyncOverRemoteAccess: three real agents against a real
// control plane, remote access on 127.0.0.1 with two PEM certificates and
// one self-signed; credentials put, deleted and updated concurrently on one
// node reach the others; strangers and wrong fingerprints are refused; -dra
// (the setting turned off) closes the listener; no secret is ever logged.
func TestCredentialSyncOverRemoteAccess(t *testing.T) {
	c, _, key := setup(t)
	logs := &logBuf{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node logs:\n%s", logs)
		}
	})
	certDir := t.TempDir()
	a := registerNode(t, c, key, "node-a")
	b := registerNode(t, c, key, "node-b")
	cn := registerNode(t, c, key, "node-c")
	ports := map[string]int{}
	for _, x := range []struct {
		n    *node
		cert string
	}{{a, pemCert(t, certDir, "a", true)}, {b, pemCert(t, certDir, "b", false)}, {cn, ""}} {
		ports[x.n.name] = freePort(t)
		if err := nodeconfig.SaveRemoteAccess(x.n.stateDir, nodeconfig.RemoteAccess{Enabled: true, Port: ports[x.n.name], CertFile: x.cert}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []*node{a, b, cn} {
		<-n.startRemote(t, logs)
	}
	// node-c generates its own certificate, private (the listener starts
	// beside the first heartbeat, so wait for it).
	eventually(t, "node-c's self-signed certificate", func() bool {
		_, err := os.Stat(filepath.Join(cn.stateDir, nodeconfig.AutoCertFile))
		return err == nil
	})
	if st, _ := os.Stat(filepath.Join(cn.stateDir, nodeconfig.AutoCertFile)); os.PathSeparator == '/' && st.Mode().Perm()&0o077 != 0 {
		t.Errorf("self-signed certificate mode %v", st.Mode().Perm())
	}

	secrets := []string{"pa55-from-node-a", "rotated-on-node-c", "older-on-node-a"}

	// A credential put on A appears on B and C.
	if err := a.store(t).Put("sql-prod", "sa", secrets[0]); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node{b, cn} {
		eventually(t, "sql-prod on "+n.name, func() bool { return secretOf(t, n, "sql-prod") == secrets[0] })
	}
	if got, _ := b.store(t).Get("sql-prod"); got.User != "sa" {
		t.Errorf("user on node-b: %q", got.User)
	}

	// A delete on B reaches A and C.
	if err := b.store(t).Delete("sql-prod"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node{a, cn} {
		eventually(t, "delete on "+n.name, func() bool {
			_, err := n.store(t).Get("sql-prod")
			return errors.Is(err, credstore.ErrNotFound)
		})
	}

	// Concurrent updates converge to the newest.
	if err := a.store(t).Put("api", "", secrets[2]); err != nil {
		t.Fatal(err)
	}
	if err := cn.store(t).Put("api", "", secrets[1]); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node{a, b, cn} {
		eventually(t, "api converges on "+n.name, func() bool { return secretOf(t, n, "api") == secrets[1] })
	}

	// A client whose certificate is no peer's is refused at the handshake.
	stranger, err := nodecert.ParsePEM(mustRead(t, pemCert(t, certDir, "stranger", false)), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		Certificates: []tls.Certificate{stranger.TLS}, InsecureSkipVerify: true}}}
	resp, err := hc.Get("https://127.0.0.1:" + strconv.Itoa(ports["node-a"]) + agent.PathCredentials)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("a stranger got %s", resp.Status)
	}
	eventually(t, "the refusal in node-a's log", func() bool {
		return strings.Contains(logs.String(), stranger.Fingerprint+" is not a current peer of this runtime")
	})
	// Without any client certificate: refused too.
	hc.Transport.(*http.Transport).TLSClientConfig.Certificates = nil
	if resp, err := hc.Get("https://127.0.0.1:" + strconv.Itoa(ports["node-a"]) + agent.PathCredentials); err == nil {
		resp.Body.Close()
		t.Fatalf("no client certificate: got %s", resp.Status)
	}

	// A peer that advertises a wrong fingerprint (here: node-a's address
	// with another certificate's fingerprint) is refused by the clients.
	d := registerNode(t, c, key, "node-d")
	fakeHeartbeats(t, d, "127.0.0.1:"+strconv.Itoa(ports["node-a"]), stranger.Fingerprint)
	eventually(t, "the wrong fingerprint refused", func() bool {
		return strings.Contains(logs.String(), "peer node-d presented certificate") && strings.Contains(logs.String(), "the control plane advertises "+stranger.Fingerprint)
	})

	// Remote access off on A (what -dra writes): the listener closes.
	if err := nodeconfig.SaveRemoteAccess(a.stateDir, nodeconfig.RemoteAccess{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node-a's listener closed", func() bool {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(ports["node-a"]), time.Second)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})

	for _, n := range []*node{a, b, cn} {
		n.stop(t)
	}
	out := logs.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("secret %q in the logs", s)
		}
	}
	if !strings.Contains(out, "remote access listening") || !strings.Contains(out, "certificate=self-signed") {
		t.Errorf("logs lack the listener lines:\n%s", out)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeHeartbeats heartbeats as n (no agent) advertising addr and fp, until
// the test ends.
func fakeHeartbeats(t *testing.T, n *node, addr, fp string) {
	t.Helper()
	p, err := secret.ForStateDir(n.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	id, err := register.Load(n.stateDir, p)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: id.TLSConfig()}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	beat := func() {
		body, _ := json.Marshal(api.HeartbeatRequest{Version: "0.0.0-test", RemoteAccess: addr, RemoteFingerprint: fp})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(id.Endpoint, "/")+api.PathHeartbeat, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+id.Token)
		req.Header.Set("Content-Type", "application/json")
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK && ctx.Err() == nil {
				t.Errorf("fake heartbeat: %s", resp.Status)
			}
		}
	}
	beat()
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(300 * time.Millisecond):
				beat()
			}
		}
	}()
}
