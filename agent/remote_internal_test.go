package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/internal/credstore"
	"github.com/shirhq/shir/internal/nodeconfig"
	"github.com/shirhq/shir/internal/secret"
)

// pair starts two remotes (no control plane) that know each other as peers.
func pair(tb testing.TB) (a, b *remote) {
	tb.Helper()
	mk := func(name string) *remote {
		dir := tb.TempDir()
		p, err := secret.ForStateDir(dir)
		if err != nil {
			tb.Fatal(err)
		}
		if err := nodeconfig.SaveRemoteAccess(dir, nodeconfig.RemoteAccess{Enabled: true, Port: freeTCPPort(tb)}); err != nil {
			tb.Fatal(err)
		}
		r := newRemote(dir, name, "127.0.0.1", "https://127.0.0.1:1", credstore.Open(dir, p), slog.New(slog.DiscardHandler), time.Hour, time.Hour)
		r.reload()
		tb.Cleanup(r.stop)
		if r.srv == nil {
			tb.Fatalf("%s: listener not started", name)
		}
		return r
	}
	a, b = mk("a"), mk("b")
	peer := func(r *remote) api.Peer {
		addr, fp := r.advertise()
		return api.Peer{NodeID: r.name, Name: r.name, Status: api.StatusOnline, RemoteAccess: addr, Fingerprint: fp}
	}
	a.setPeers([]api.Peer{peer(b)})
	b.setPeers([]api.Peer{peer(a)})
	return a, b
}

func freeTCPPort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestSyncPeerBothWays: one exchange brings each side the other's newer
// entries (pull, then push).
func TestSyncPeerBothWays(t *testing.T) {
	a, b := pair(t)
	if err := a.creds.Put("only-a", "", "secret-a"); err != nil {
		t.Fatal(err)
	}
	if err := b.creds.Put("only-b", "", "secret-b"); err != nil {
		t.Fatal(err)
	}
	a.syncAll(context.Background())
	for _, r := range []*remote{a, b} {
		for _, n := range []string{"only-a", "only-b"} {
			if _, err := r.creds.Get(n); err != nil {
				t.Errorf("%s lacks %s: %v", r.name, n, err)
			}
		}
	}
}

// BenchmarkSyncPeer: one node pulls 100 changed credentials from a peer
// over the mTLS channel on loopback (handshake, GET, merge, re-seal).
func BenchmarkSyncPeer(b *testing.B) {
	x, y := pair(b)
	cert := *x.cert
	var peer api.Peer
	for _, p := range x.peers {
		peer = p
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		set := make([]credstore.Credential, 100)
		now := time.Now().UTC()
		for j := range set {
			set[j] = credstore.Credential{Name: fmt.Sprintf("cred-%03d", j), User: "u", Secret: fmt.Sprintf("secret-%d-%d", i, j), Updated: now}
		}
		if _, err := y.creds.MergeFrom(set); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := x.syncPeer(ctx, cert.TLS, peer); err != nil {
			b.Fatal(err)
		}
	}
}
