package packaging

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/shirhq/shir/internal/exitcode"
)

// testCert makes a self-signed code-signing certificate (crypto/x509) and
// returns the PEM certificate and key files.
func testCert(t *testing.T, cn string) (certFile, keyFile string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// stubExe builds a small windows/amd64 Go program.
func stubExe(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() { println(\"shir stub\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "shir.exe")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", exe, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=windows", "GOARCH=amd64", "GOFLAGS=")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build stub exe: %v\n%s", err, out)
	}
	return exe
}

func TestAuthenticodeSignVerify(t *testing.T) {
	needTool(t, "osslsigncode", "osslsigncode")
	ctx := context.Background()
	cert, key := testCert(t, "shir test signing")
	otherCert, _ := testCert(t, "someone else")
	exe := stubExe(t)
	signed := filepath.Join(t.TempDir(), "signed.exe")

	if err := Verify(ctx, exe, cert, ""); !errors.Is(err, ErrNotSigned) {
		t.Errorf("unsigned exe: Verify = %v, want ErrNotSigned", err)
	}
	if err := Sign(ctx, SignOptions{In: exe, Out: signed, Cert: cert, Key: key}); err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, signed, cert, ""); err != nil {
		t.Errorf("signed exe: %v", err)
	}
	if err := Verify(ctx, signed, otherCert, ""); !errors.Is(err, ErrNotSigned) {
		t.Errorf("signed exe against another CA: Verify = %v, want ErrNotSigned", err)
	}
	// One changed byte in the code breaks the signature.
	b, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 0xff
	tampered := filepath.Join(t.TempDir(), "tampered.exe")
	if err := os.WriteFile(tampered, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, tampered, cert, ""); !errors.Is(err, ErrNotSigned) {
		t.Errorf("tampered exe: Verify = %v, want ErrNotSigned", err)
	}
	// In place (Out empty) works too.
	inPlace := filepath.Join(t.TempDir(), "shir.exe")
	orig, _ := os.ReadFile(exe)
	if err := os.WriteFile(inPlace, orig, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Sign(ctx, SignOptions{In: inPlace, Cert: cert, Key: key}); err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, inPlace, cert, ""); err != nil {
		t.Errorf("signed in place: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(inPlace)); len(ents) != 1 {
		t.Errorf("signing left temporary files: %v", ents)
	}
}

func TestSignBadInput(t *testing.T) {
	ctx := context.Background()
	cert, key := testCert(t, "x")
	for name, o := range map[string]SignOptions{
		"no input":    {Cert: cert, Key: key},
		"missing in":  {In: filepath.Join(t.TempDir(), "nope.exe"), Cert: cert, Key: key},
		"no key":      {In: cert, Cert: cert},
		"missing key": {In: cert, Cert: cert, Key: filepath.Join(t.TempDir(), "nope.pem")},
	} {
		if err := Sign(ctx, o); !errors.Is(err, exitcode.ErrUsage) {
			t.Errorf("%s: err = %v, want a usage error", name, err)
		}
	}
	if err := Sign(ctx, SignOptions{In: cert, Cert: cert, Key: key, Tool: "no-such-osslsigncode"}); !errors.Is(err, exitcode.ErrPrereq) {
		t.Errorf("missing tool: err = %v, want a prerequisite error", err)
	}
}
