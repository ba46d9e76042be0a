package updater

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchUpdate measures one full update of a 20 MB binary on loopback: check
// (HTTPS feed: key list, index, manifest, signatures), download, verify,
// selfupdate apply, restart of the real host process and its healthy
// heartbeat; with broken, the rollback path instead (new binary exits at
// start, old one restored, restarted and healthy).
func benchUpdate(b *testing.B, broken bool) {
	const size = 20 << 20
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := newSandbox(b, "1.0.0")
		s.feed.release(b, PublishOptions{Version: "1.1.0"}, hostBinary(b, "1.1.0", broken, size))
		srv := httptest.NewTLSServer(http.FileServer(http.Dir(s.feed.dir)))
		src, err := ParseSource(srv.URL+"/", SourceOptions{HTTP: srv.Client()})
		if err != nil {
			b.Fatal(err)
		}
		u, err := New(Options{Source: src, Trust: s.feed.keys.trust(),
			Policy: Policy{AutoUpdate: true, NodeID: "n"}, Current: "1.0.0", Target: s.target, StateDir: s.state,
			Host: s.host, HealthTimeout: 30 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		_, err = u.Apply(context.Background(), Request{})
		b.StopTimer()
		if broken != errors.Is(err, ErrRolledBack) || (!broken && err != nil) {
			b.Fatalf("apply: %v", err)
		}
		if h, _ := ReadHealth(filepath.Join(s.state, HealthFileName)); (broken && h.Version != "1.0.0") || (!broken && h.Version != "1.1.0") {
			b.Fatalf("health %+v", h)
		}
		srv.Close()
		s.host.Stop()
		os.RemoveAll(s.root)
	}
}

func BenchmarkUpdate20MB(b *testing.B)   { benchUpdate(b, false) }
func BenchmarkRollback20MB(b *testing.B) { benchUpdate(b, true) }
