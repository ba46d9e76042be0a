package nodecert

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shirhq/shir/internal/nodeconfig"
)

func TestSelfSignedIsMadeOnceAndRenewed(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	c1, err := SelfSigned(dir, "node-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if !IsFingerprint(c1.Fingerprint) || c1.Source != "self-signed" || c1.TLS.Leaf.Subject.CommonName != "node-1" {
		t.Fatalf("cert %+v", c1)
	}
	path := filepath.Join(dir, nodeconfig.AutoCertFile)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	c2, err := SelfSigned(dir, "node-1", now.Add(time.Hour))
	if err != nil || c2.Fingerprint != c1.Fingerprint {
		t.Errorf("second load made a new certificate: %v", err)
	}
	// Close to expiry: renewed.
	c3, err := SelfSigned(dir, "node-1", c1.TLS.Leaf.NotAfter.Add(-24*time.Hour))
	if err != nil || c3.Fingerprint == c1.Fingerprint {
		t.Errorf("not renewed near expiry: %v", err)
	}
}

func TestLoadFileKinds(t *testing.T) {
	dir := t.TempDir()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ed"}, NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	kb, _ := x509.MarshalPKCS8PrivateKey(priv)
	p := filepath.Join(dir, "ed.pem")
	// Key first, then the certificate: the order does not matter.
	os.WriteFile(p, append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...), 0o600)
	c, err := LoadFile(p, time.Now())
	if err != nil || c.Fingerprint != Fingerprint(der) {
		t.Fatalf("ed25519: %v", err)
	}
	if _, err := LoadFile(p, time.Now().Add(2*time.Hour)); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "expired on") {
		t.Errorf("expired: %v", err)
	}
	if _, err := LoadFile(p, time.Now().Add(-time.Hour)); err == nil || !strings.Contains(err.Error(), "not valid before") {
		t.Errorf("not yet valid: %v", err)
	}
}

// TestTLSHandshakeWithGeneratedCerts: two generated certificates complete
// a mutual TLS 1.2+ handshake when each side pins the other (what the agent
// does), and fail when the pin is wrong.
func TestTLSHandshakeWithGeneratedCerts(t *testing.T) {
	srvCert, err := SelfSigned(t.TempDir(), "srv", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cliCert, err := SelfSigned(t.TempDir(), "cli", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, srvCert, cliCert, srvCert.Fingerprint); err != nil {
		t.Fatalf("pinned handshake: %v", err)
	}
	if err := handshake(t, srvCert, cliCert, cliCert.Fingerprint); err == nil || !strings.Contains(err.Error(), "pin") {
		t.Fatalf("wrong pin accepted: %v", err)
	}
}

// handshake runs a mutual TLS handshake over loopback; the client pins pin.
func handshake(t *testing.T, srv, cli Cert, pin string) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		s := tls.Server(c, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{srv.TLS}, ClientAuth: tls.RequireAnyClientCert})
		err = s.Handshake()
		if err == nil && Fingerprint(s.ConnectionState().PeerCertificates[0].Raw) != cli.Fingerprint {
			err = errors.New("server saw another client certificate")
		}
		done <- err
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cli.TLS}, InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if Fingerprint(raw[0]) != pin {
				return errors.New("server certificate does not match the pin")
			}
			return nil
		}})
	if err != nil {
		<-done
		return err
	}
	c.Close()
	return <-done
}

func FuzzParsePEM(f *testing.F) {
	b, err := GenerateSelfSigned("fuzz", time.Now(), time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := ParsePEM(in, time.Now())
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY-----") {
				t.Fatal("key material in the error")
			}
			return
		}
		if !IsFingerprint(c.Fingerprint) || c.TLS.Leaf == nil {
			t.Fatalf("accepted without a leaf or fingerprint")
		}
	})
}
