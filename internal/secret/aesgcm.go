package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"

	"github.com/shirhq/shir/internal/atomicfile"
)

// AESGCM is a Protector with a 256-bit key: output is nonce || ciphertext.
type AESGCM struct {
	aead cipher.AEAD
}

var _ Protector = (*AESGCM)(nil)

// NewAESGCM makes a protector from a 32-byte key.
func NewAESGCM(key []byte) (*AESGCM, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("aes-256-gcm key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &AESGCM{aead: aead}, nil
}

// LoadOrCreateKey returns the AES-256-GCM protector whose key is in path,
// making a new random key (0600, atomically) when the file does not exist.
// It refuses a key file of the wrong size, or one that group or others may
// read, rather than replace it: replacing would lose every sealed secret.
func LoadOrCreateKey(path string) (*AESGCM, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := atomicfile.Write(path, key, 0o600); err != nil {
			return nil, fmt.Errorf("create machine key: %w", err)
		}
		return NewAESGCM(key)
	}
	if err != nil {
		return nil, fmt.Errorf("read machine key: %w", err)
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("read machine key: %w", err)
		}
		if m := st.Mode().Perm(); m&0o077 != 0 {
			return nil, fmt.Errorf("machine key %s has mode %#o: others may read it; run chmod 600 %s (or restore it from a backup)", path, m, path)
		}
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: machine key %s has %d bytes, want 32; restore it from a backup (shir dmgcmd -ibf) or re-register the node", ErrCorrupt, path, len(key))
	}
	return NewAESGCM(key)
}

func (*AESGCM) Scheme() string { return "aes-256-gcm" }

func (a *AESGCM) Protect(plain []byte) ([]byte, error) {
	nonce := make([]byte, a.aead.NonceSize(), a.aead.NonceSize()+len(plain)+a.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return a.aead.Seal(nonce, nonce, plain, []byte(magic)), nil
}

func (a *AESGCM) Unprotect(sealed []byte) ([]byte, error) {
	n := a.aead.NonceSize()
	if len(sealed) < n+a.aead.Overhead() {
		return nil, errors.New("too short")
	}
	plain, err := a.aead.Open(nil, sealed[:n], sealed[n:], []byte(magic))
	if err != nil {
		return nil, errors.New("authentication failed")
	}
	return plain, nil
}
