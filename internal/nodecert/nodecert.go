// Package nodecert loads the TLS certificate of a node's remote-access
// channel (credential sync between the nodes of a runtime), from one of
// three sources chosen by nodeconfig.RemoteAccess:
//
//   - CERTFILE: a PEM file with the certificate (chain) and its private key
//     (RSA, ECDSA or Ed25519; PKCS#1, SEC 1 or PKCS#8), on Linux and Windows;
//   - CERTTHUMBPRINT (Windows only): the SHA-1 thumbprint of a certificate
//     in the LocalMachine\My store whose private key is reachable through
//     CNG (NCrypt); the key never leaves the store, signatures are made by
//     NCryptSignHash. Thumbprints are a Windows certificate-store concept:
//     on Linux the same argument must be a PEM path;
//   - neither: a self-signed ECDSA P-256 certificate that the node generates
//     once in its state directory (nodeconfig.AutoCertFile, 0600, private
//     DACL on Windows through internal/atomicfile) and renews when fewer
//     than 30 days are left.
//
// Check validates a source before anything is written (file readable and
// parseable, key matches, certificate valid now; store entry found with a
// private key); its errors name the property (CERTFILE, CERTTHUMBPRINT) and
// never contain key material. Peers trust each other by the SHA-256
// fingerprint of the leaf certificate (Fingerprint), relayed by the control
// plane; no CA is needed, so self-signed certificates are fine.
package nodecert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shirhq/shir/internal/atomicfile"
	"github.com/shirhq/shir/internal/nodeconfig"
)

// Cert is a loaded certificate.
type Cert struct {
	TLS         tls.Certificate
	Fingerprint string // "sha256:<hex>" of the leaf
	Source      string // "file <path>", "store <thumbprint>" or "self-signed"
}

// ErrInvalid is wrapped by every validation error of a certificate source.
var ErrInvalid = errors.New("invalid remote-access certificate")

// Fingerprint returns "sha256:<lower-case hex>" of a DER certificate.
func Fingerprint(der []byte) string {
	s := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(s[:])
}

// IsFingerprint reports whether s has the form Fingerprint returns.
func IsFingerprint(s string) bool {
	h, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil && strings.ToLower(h) == h
}

// Check validates the certificate source of ra at time now without
// creating anything. A setting without a certificate is always fine.
func Check(ra nodeconfig.RemoteAccess, now time.Time) error {
	switch {
	case ra.CertFile != "":
		_, err := LoadFile(ra.CertFile, now)
		return err
	case ra.Thumbprint != "":
		_, err := LoadStore(ra.Thumbprint, now)
		return err
	}
	return nil
}

// Load returns the certificate of ra: its file, its store entry, or the
// node's self-signed one in stateDir (made when missing or near expiry).
func Load(ra nodeconfig.RemoteAccess, stateDir, name string, now time.Time) (Cert, error) {
	switch {
	case ra.CertFile != "":
		return LoadFile(ra.CertFile, now)
	case ra.Thumbprint != "":
		return LoadStore(ra.Thumbprint, now)
	}
	return SelfSigned(stateDir, name, now)
}

// LoadFile reads and validates a PEM file with certificate and key.
func LoadFile(path string, now time.Time) (Cert, error) {
	bad := func(format string, a ...any) (Cert, error) {
		return Cert{}, fmt.Errorf("%w: CERTFILE %s: %s", ErrInvalid, path, fmt.Sprintf(format, a...))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return bad("cannot be read: %v", err)
	}
	return parsePEM(b, now, bad)
}

// ParsePEM validates PEM content (certificate chain and key) at now.
func ParsePEM(b []byte, now time.Time) (Cert, error) {
	return parsePEM(b, now, func(format string, a ...any) (Cert, error) {
		return Cert{}, fmt.Errorf("%w: CERTFILE: %s", ErrInvalid, fmt.Sprintf(format, a...))
	})
}

func parsePEM(b []byte, now time.Time, bad func(string, ...any) (Cert, error)) (Cert, error) {
	var hasCert, hasKey bool
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		switch {
		case blk.Type == "CERTIFICATE":
			hasCert = true
		case strings.HasSuffix(blk.Type, "PRIVATE KEY"):
			hasKey = true
		}
	}
	switch {
	case !hasCert && !hasKey:
		return bad("is not a PEM file with a CERTIFICATE and a PRIVATE KEY block")
	case !hasCert:
		return bad("has no CERTIFICATE block")
	case !hasKey:
		return bad("has no PRIVATE KEY block (the file must hold the certificate and its key)")
	}
	c, err := tls.X509KeyPair(b, b)
	if err != nil {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "does not match"):
			return bad("the private key does not match the certificate")
		case strings.Contains(msg, "failed to parse private key"), strings.Contains(msg, "unknown private key type"):
			return bad("the private key cannot be parsed (want an unencrypted RSA, ECDSA or Ed25519 key in PKCS#1, SEC 1 or PKCS#8)")
		default:
			return bad("the certificate cannot be parsed")
		}
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return bad("the certificate cannot be parsed")
		}
	}
	if err := checkValidity(c.Leaf, now); err != nil {
		return bad("%v", err)
	}
	return Cert{TLS: c, Fingerprint: Fingerprint(c.Certificate[0]), Source: "file"}, nil
}

func checkValidity(leaf *x509.Certificate, now time.Time) error {
	if now.After(leaf.NotAfter) {
		return fmt.Errorf("the certificate expired on %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return fmt.Errorf("the certificate is not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// Renewal: a self-signed certificate is made again when less is left.
const (
	selfSignedLife = 5 * 365 * 24 * time.Hour
	renewBefore    = 30 * 24 * time.Hour
)

// SelfSigned returns the node's generated certificate in stateDir, making
// (or renewing) it when it is missing, unreadable or near expiry.
func SelfSigned(stateDir, name string, now time.Time) (Cert, error) {
	path := filepath.Join(stateDir, nodeconfig.AutoCertFile)
	if b, err := os.ReadFile(path); err == nil {
		if c, err := ParsePEM(b, now); err == nil && c.TLS.Leaf.NotAfter.Sub(now) > renewBefore {
			c.Source = "self-signed"
			return c, nil
		}
	}
	b, err := GenerateSelfSigned(name, now, selfSignedLife)
	if err != nil {
		return Cert{}, err
	}
	if err := atomicfile.Write(path, b, 0o600); err != nil {
		return Cert{}, fmt.Errorf("self-signed remote-access certificate: %w", err)
	}
	c, err := ParsePEM(b, now)
	c.Source = "self-signed"
	return c, err
}

// GenerateSelfSigned returns PEM (certificate then PKCS#8 key) of a new
// ECDSA P-256 certificate for name, valid from an hour before now for life,
// usable for TLS server and client authentication.
func GenerateSelfSigned(name string, now time.Time, life time.Duration) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = "shir-node"
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"shir remote access"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(life),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     []string{name},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})...), nil
}
