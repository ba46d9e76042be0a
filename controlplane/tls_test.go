package controlplane

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/store"
)

func TestGivenCertificate(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM, err := selfSigned([]string{"cp.example.com", "10.1.2.3"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cf, kf := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(cf, certPEM, 0o600)
	os.WriteFile(kf, keyPEM, 0o600)

	s, err := New(Options{DataDir: filepath.Join(dir, "d1"), CertFile: cf, KeyFile: kf, PublicURL: "https://cp.example.com:8443"})
	if err != nil {
		t.Fatal(err)
	}
	s.url = "https://cp.example.com:8443"
	if s.CertSHA256() != nil {
		t.Error("a given certificate is pinned without PinCert")
	}
	if k := s.keyString(store.Runtime{ID: "rt-1", Name: "a"}, strings.Repeat("s", 43)); strings.Contains(k, "@ca=") {
		t.Errorf("key with a given certificate carries a pin: %s", k)
	}
	if _, err := os.Stat(filepath.Join(dir, "d1", CertFile)); err == nil {
		t.Error("a self-signed certificate was made although one was given")
	}
	s.Close()

	s, err = New(Options{DataDir: filepath.Join(dir, "d2"), CertFile: cf, KeyFile: kf, PinCert: true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.CertSHA256(), api.CertSHA256(s.cert.Certificate[0])) {
		t.Error("PinCert does not pin the given certificate")
	}
	s.Close()

	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{DataDir: filepath.Join(dir, "d3"), CertFile: cf}, "both the certificate and the key"},
		{Options{DataDir: filepath.Join(dir, "d3"), CertFile: kf, KeyFile: cf}, "load TLS certificate"},
		{Options{DataDir: filepath.Join(dir, "d3"), PublicURL: "http://x"}, "public URL"},
		{Options{}, "data directory is not set"},
	} {
		if _, err := New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.opts, err, tc.want)
		}
	}
}

func TestSelfSignedCertificateKeptAcrossStarts(t *testing.T) {
	dir := t.TempDir()
	a, err := loadOrCreateCert(dir, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadOrCreateCert(dir, nil, time.Now())
	if err != nil || !bytes.Equal(a.Certificate[0], b.Certificate[0]) {
		t.Errorf("certificate changed on the second start: %v", err)
	}
	// A truncated token file is refused, not silently replaced.
	p := filepath.Join(dir, AdminTokenFile)
	os.WriteFile(p, []byte("short\n"), 0o600)
	if _, err := loadOrCreateToken(p); err == nil || !strings.Contains(err.Error(), "too short") || strings.Contains(err.Error(), "short\n") {
		t.Errorf("short token: %v", err)
	}
}
