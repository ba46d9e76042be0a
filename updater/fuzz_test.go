package updater

import (
	"testing"
	"time"
)

func FuzzParseManifest(f *testing.F) {
	k := newKeys(f)
	fd := newFeed(f, k, time.Now())
	m := fd.release(f, PublishOptions{Version: "1.2.3"}, []byte("bin"))
	f.Add(m.Marshal())
	f.Add([]byte(`{"schema":1}`))
	f.Add([]byte(`{"schema":1,"version":"1.0.0","channel":"beta","artifacts":{"x/y":{}}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		// A manifest that parses renders and parses again to the same thing.
		m2, err := ParseManifest(m.Marshal())
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if m2.Version != m.Version || len(m2.Artifacts) != len(m.Artifacts) {
			t.Fatalf("round trip changed the manifest")
		}
	})
}

func FuzzParseSignature(f *testing.F) {
	_, priv, _ := GenerateKey()
	f.Add(Sign(priv, []byte("x"), "comment"))
	f.Add([]byte("untrusted comment: x\nRUQ=\ntrusted comment: y\nAAAA\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSignature(data)
		if err != nil {
			return
		}
		if _, err := s.MarshalText(); err != nil {
			t.Fatalf("parsed signature does not render: %v", err)
		}
		_, _ = VerifyWith(nil, []byte("x"), data)
	})
}

func FuzzParseKeyList(f *testing.F) {
	k := newKeys(f)
	f.Add(KeyList{Schema: 1, Issued: time.Now()}.Add(k.signingPub, "c").Revoke(42).Marshal())
	f.Add([]byte(`{"schema":1,"issued":"2026-01-01T00:00:00Z","keys":[{"id":"x","publicKey":"y"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		kl, err := ParseKeyList(data)
		if err != nil {
			return
		}
		if len(kl.Active()) > len(kl.Keys) {
			t.Fatal("more active keys than keys")
		}
	})
}

func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"Sun 02:00-04:00", "Mon-Fri 22:00-02:00", "daily 00:00-24:00", "Sat,Sun 1:00-2:00", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWindow(s)
		if err != nil {
			return
		}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if next := w.NextOpen(now); !w.Contains(next) {
			t.Fatalf("%q: NextOpen %v is not inside the window", s, next)
		}
	})
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(`{"releases":["1.0.0","2.0.0-beta.1"]}`))
	f.Add([]byte(`{"releases":["../../etc"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := ParseIndex(data)
		if err != nil {
			return
		}
		for _, r := range ix.Releases {
			if r == ".." || r == "." || len(r) == 0 {
				t.Fatalf("index accepted %q", r)
			}
		}
	})
}
