package handler

import (
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/smallstep/pkcs7"
)

// Decrypter opens protected settings encrypted to the VM certificate with
// the given thumbprint.
type Decrypter interface {
	Decrypt(thumbprint string, der []byte) ([]byte, error)
}

// Errors a Decrypter returns (wrapped), as the Microsoft handlers tell them apart.
var (
	ErrCertNotFound = errors.New("certificate not found")
	ErrDecrypt      = errors.New("decryption failed")
)

// CertDir finds <THUMBPRINT>.crt and <THUMBPRINT>.prv (PEM) in Dir, where
// the Linux agent leaves the goal state's certificates (/var/lib/waagent),
// and decrypts with them.
type CertDir struct{ Dir string }

var _ Decrypter = CertDir{}

// Thumbprint is the agent's thumbprint of a certificate: upper-case hex of
// the SHA-1 of its DER.
func Thumbprint(cert *x509.Certificate) string {
	sum := sha1.Sum(cert.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func (d CertDir) Decrypt(thumbprint string, der []byte) ([]byte, error) {
	tp := strings.ToUpper(thumbprint)
	if !thumbprintRE.MatchString(tp) {
		return nil, fmt.Errorf("%w: thumbprint %q is not 40 hex digits", ErrCertNotFound, thumbprint)
	}
	crtPath := filepath.Join(d.Dir, tp+".crt")
	cert, err := readCert(crtPath)
	if err != nil {
		return nil, err
	}
	if got := Thumbprint(cert); got != tp {
		return nil, fmt.Errorf("%w: %s has thumbprint %s, not %s", ErrCertNotFound, crtPath, got, tp)
	}
	key, err := readKey(filepath.Join(d.Dir, tp+".prv"))
	if err != nil {
		return nil, err
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("%w: protectedSettings are not PKCS#7 data", ErrDecrypt)
	}
	out, err := p7.Decrypt(cert, key)
	if err != nil {
		return nil, fmt.Errorf("%w: with certificate %s (%s)", ErrDecrypt, tp, decryptErrKind(err))
	}
	return out, nil
}

func decryptErrKind(err error) string {
	switch {
	case errors.Is(err, pkcs7.ErrNotEncryptedContent):
		return "not enveloped data"
	case errors.Is(err, pkcs7.ErrUnsupportedAlgorithm):
		return "unsupported content cipher"
	case errors.Is(err, pkcs7.ErrUnsupportedEncryptionAlgorithm):
		return "unsupported key encryption"
	}
	return "not encrypted to this certificate, or corrupt"
}

func readCert(p string) (*x509.Certificate, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s does not exist", ErrCertNotFound, p)
		}
		return nil, fmt.Errorf("%w: %v", ErrCertNotFound, err)
	}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%w: %s holds no PEM certificate", ErrCertNotFound, p)
		}
		if blk.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrCertNotFound, p, err)
			}
			return c, nil
		}
	}
}

func readKey(p string) (crypto.PrivateKey, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: private key %s does not exist", ErrCertNotFound, p)
		}
		return nil, fmt.Errorf("%w: %v", ErrCertNotFound, err)
	}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%w: %s holds no PEM private key", ErrCertNotFound, p)
		}
		switch blk.Type {
		case "PRIVATE KEY":
			return x509.ParsePKCS8PrivateKey(blk.Bytes)
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(blk.Bytes)
		}
	}
}
