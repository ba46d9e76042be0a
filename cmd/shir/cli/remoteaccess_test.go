package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shirhq/shir/internal/nodeconfig"
	"github.com/shirhq/shir/provision"
)

// certPEM returns a certificate valid from nb to na and its key, PEM.
func certPEM(t *testing.T, nb, na time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "node"}, NotBefore: nb, NotAfter: na}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}

// TestDmgcmdRemoteAccessCertificates: -era checks the certificate (file
// readable, parseable, key matching, valid now) and the port before it
// writes anything; errors name the field and exit 2.
func TestDmgcmdRemoteAccessCertificates(t *testing.T) {
	root := t.TempDir()
	paths := provision.RootPaths(runtime.GOOS, root)
	if code, out, errOut := run(t, "shir", "install", "--root", root, "--no-service", "NODENAME=n1", "IGNOREPREREQ=all"); code != 0 {
		t.Fatalf("install: %d\n%s%s", code, out, errOut)
	}
	dir := t.TempDir()
	now := time.Now()
	c1, k1 := certPEM(t, now.Add(-time.Hour), now.Add(time.Hour))
	_, k2 := certPEM(t, now.Add(-time.Hour), now.Add(time.Hour))
	cOld, kOld := certPEM(t, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	write := func(name string, parts ...[]byte) string {
		p := filepath.Join(dir, name)
		var b []byte
		for _, x := range parts {
			b = append(b, x...)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.pem", c1, k1)
	raPath := filepath.Join(paths.StateDir, nodeconfig.RemoteAccessFile)
	autoPath := filepath.Join(paths.StateDir, nodeconfig.AutoCertFile)

	bad := []struct {
		name string
		args []string
		want []string
	}{
		{"missing file", []string{"-era", "8061", filepath.Join(dir, "nope.pem")}, []string{"CERTFILE", "nope.pem", "cannot be read"}},
		{"not PEM", []string{"-era", "8061", write("junk.pem", []byte("hello"))}, []string{"CERTFILE", "not a PEM file"}},
		{"no key", []string{"-era", "8061", write("nokey.pem", c1)}, []string{"CERTFILE", "no PRIVATE KEY"}},
		{"mismatched key", []string{"-era", "8061", write("mismatch.pem", c1, k2)}, []string{"CERTFILE", "private key does not match the certificate"}},
		{"expired", []string{"-erac", "8061", write("expired.pem", cOld, kOld)}, []string{"CERTFILE", "expired on"}},
		{"bad port", []string{"-era", "0"}, []string{"port", "1 to 65535"}},
		{"port not a number", []string{"-era", "http", good}, []string{"port"}},
		{"relative path", []string{"-era", "8061", "cert.pem"}, []string{"thumbprint|certFile", "absolute path"}},
	}
	if runtime.GOOS != "windows" {
		bad = append(bad, struct {
			name string
			args []string
			want []string
		}{"thumbprint on Linux", []string{"-era", "8061", strings.Repeat("ab", 20)}, []string{"CERTTHUMBPRINT", "Windows certificate store", "PEM file"}})
	} else {
		bad = append(bad, struct {
			name string
			args []string
			want []string
		}{"unknown thumbprint", []string{"-era", "8061", strings.Repeat("0", 40)}, []string{"CERTTHUMBPRINT", "no certificate with this thumbprint"}})
	}
	for _, c := range bad {
		code, out, errOut := run(t, append([]string{"dmgcmd", "--root", root}, c.args...)...)
		if code != 2 {
			t.Errorf("%s: exit %d, want 2\n%s%s", c.name, code, out, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: error %q lacks %q", c.name, errOut, w)
			}
		}
		if strings.Contains(errOut, "PRIVATE KEY-----") || strings.Contains(errOut, string(k1[30:60])) {
			t.Errorf("%s: key material in the error", c.name)
		}
		for _, p := range []string{raPath, autoPath} {
			if _, err := os.Stat(p); err == nil {
				t.Fatalf("%s: %s was written", c.name, p)
			}
		}
	}

	// A good PEM file: the setting names it; the fingerprint is printed.
	code, out, errOut := run(t, "dmgcmd", "--root", root, "-era", "8061", good)
	if code != 0 || !strings.Contains(out, "enabled on port 8061") || !strings.Contains(out, "sha256:") {
		t.Fatalf("-era with a PEM file: %d %s%s", code, out, errOut)
	}
	ra, err := nodeconfig.LoadRemoteAccess(paths.StateDir)
	if err != nil || !ra.Enabled || ra.Port != 8061 || ra.CertFile != good || ra.Thumbprint != "" {
		t.Fatalf("setting %+v %v", ra, err)
	}
	// A failed -era leaves the working setting alone.
	if code, _, _ := run(t, "dmgcmd", "--root", root, "-era", "8062", filepath.Join(dir, "mismatch.pem")); code != 2 {
		t.Fatalf("mismatch after a good setting: %d", code)
	}
	if ra2, _ := nodeconfig.LoadRemoteAccess(paths.StateDir); ra2 != ra {
		t.Fatalf("setting changed by a failed -era: %+v", ra2)
	}

	// No certificate: a self-signed one, private, in the state dir.
	code, out, errOut = run(t, "dmgcmd", "--root", root, "-erac", "8063")
	if code != 0 || !strings.Contains(out, "self-signed") {
		t.Fatalf("-erac without a certificate: %d %s%s", code, out, errOut)
	}
	st, err := os.Stat(autoPath)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("self-signed certificate mode %v", st.Mode().Perm())
	}
	if ra, _ = nodeconfig.LoadRemoteAccess(paths.StateDir); !ra.InContainer || ra.CertFile != "" || ra.Port != 8063 {
		t.Errorf("setting %+v", ra)
	}
	if code, _, _ = run(t, "dmgcmd", "--root", root, "-dra"); code != 0 {
		t.Fatal("-dra")
	}
	if ra, _ = nodeconfig.LoadRemoteAccess(paths.StateDir); ra.Enabled {
		t.Errorf("still enabled: %+v", ra)
	}
}

// TestInstallWithCertFile: CERTFILE at install enables remote access on
// PORT; a bad CERTFILE fails the install naming the property and leaves no
// setting behind.
func TestInstallWithCertFile(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	c1, k1 := certPEM(t, now.Add(-time.Hour), now.Add(time.Hour))
	_, k2 := certPEM(t, now.Add(-time.Hour), now.Add(time.Hour))
	good, bad := filepath.Join(dir, "good.pem"), filepath.Join(dir, "bad.pem")
	os.WriteFile(good, append(c1, k1...), 0o600)
	os.WriteFile(bad, append(c1, k2...), 0o600)

	root := t.TempDir()
	paths := provision.RootPaths(runtime.GOOS, root)
	code, out, errOut := run(t, "shir", "install", "--root", root, "--no-service", "NODENAME=n1", "IGNOREPREREQ=all", "NOFIREWALL=1", "CERTFILE="+bad)
	if code == 0 || !strings.Contains(errOut, "CERTFILE") || !strings.Contains(errOut, "does not match") {
		t.Fatalf("install with a bad CERTFILE: %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(paths.StateDir, nodeconfig.RemoteAccessFile)); err == nil {
		t.Fatal("remote-access.json left by a failed install")
	}
	root = t.TempDir()
	paths = provision.RootPaths(runtime.GOOS, root)
	code, out, errOut = run(t, "shir", "install", "--root", root, "--no-service", "NODENAME=n1", "IGNOREPREREQ=all", "NOFIREWALL=1", "PORT=8077", "CERTFILE="+good)
	if code != 0 {
		t.Fatalf("install with CERTFILE: %d\n%s%s", code, out, errOut)
	}
	ra, err := nodeconfig.LoadRemoteAccess(paths.StateDir)
	if err != nil || !ra.Enabled || ra.Port != 8077 || ra.CertFile != good {
		t.Fatalf("setting after install: %+v %v", ra, err)
	}
}
