// Package secret protects small secrets at rest on one machine: the node
// token, linked-service credentials and the proxy password.
//
// A Protector seals and opens byte strings. The platform default (ForStateDir)
// is DPAPI with machine scope on Windows (CryptProtectData with
// CRYPTPROTECT_LOCAL_MACHINE, so the service account and an administrator can
// open it, on this machine only) and AES-256-GCM with a random machine key on
// other systems; the key lives in the state directory as machine.key, mode
// 0600, and is refused when group or others can read it.
//
// Sealed files (WriteFile, ReadFile) start with a small header that names the
// scheme, so a file sealed on another machine or damaged on disk is reported
// as ErrCorrupt instead of being overwritten. Files are written with
// atomicfile (temporary file + rename, 0600 / private DACL).
package secret

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/shirhq/shir/internal/atomicfile"
)

// Protector seals and opens secrets. Implementations never log their input.
type Protector interface {
	// Scheme names the protection, e.g. "aes-256-gcm" or "dpapi-machine".
	Scheme() string
	Protect(plain []byte) ([]byte, error)
	Unprotect(sealed []byte) ([]byte, error)
}

// ErrCorrupt is wrapped when sealed data cannot be opened: damaged, truncated,
// sealed with another key or on another machine.
var ErrCorrupt = errors.New("sealed data is corrupt or was sealed with another key")

// KeyFile is the name of the machine key in the state directory (Linux).
const KeyFile = "machine.key"

const magic = "SHIRSEC1"

// Seal returns data in the sealed-file format: magic, scheme length, scheme,
// then the protector's output.
func Seal(p Protector, plain []byte) ([]byte, error) {
	blob, err := p.Protect(plain)
	if err != nil {
		return nil, fmt.Errorf("protect with %s: %w", p.Scheme(), err)
	}
	s := p.Scheme()
	out := make([]byte, 0, len(magic)+1+len(s)+len(blob))
	out = append(out, magic...)
	out = append(out, byte(len(s)))
	out = append(out, s...)
	return append(out, blob...), nil
}

// Open reverses Seal. Errors wrap ErrCorrupt and never contain the data.
func Open(p Protector, sealed []byte) ([]byte, error) {
	scheme, blob, err := parseHeader(sealed)
	if err != nil {
		return nil, err
	}
	if scheme != p.Scheme() {
		return nil, fmt.Errorf("%w: sealed with %q, this machine uses %q", ErrCorrupt, scheme, p.Scheme())
	}
	plain, err := p.Unprotect(blob)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, scheme, err)
	}
	return plain, nil
}

// parseHeader splits the sealed format into scheme and blob (pure; fuzzed).
func parseHeader(b []byte) (scheme string, blob []byte, err error) {
	if !bytes.HasPrefix(b, []byte(magic)) {
		return "", nil, fmt.Errorf("%w: missing %s header", ErrCorrupt, magic)
	}
	b = b[len(magic):]
	if len(b) < 1 || int(b[0]) == 0 || len(b) < 1+int(b[0]) {
		return "", nil, fmt.Errorf("%w: truncated header", ErrCorrupt)
	}
	n := int(b[0])
	scheme = string(b[1 : 1+n])
	for _, r := range scheme {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return "", nil, fmt.Errorf("%w: bad scheme name", ErrCorrupt)
		}
	}
	return scheme, b[1+n:], nil
}

// WriteFile seals plain and writes it to path atomically, mode 0600.
func WriteFile(path string, p Protector, plain []byte) error {
	b, err := Seal(p, plain)
	if err != nil {
		return fmt.Errorf("seal %s: %w", path, err)
	}
	return atomicfile.Write(path, b, 0o600)
}

// ReadFile reads and opens a sealed file. A missing file gives an error for
// which errors.Is(err, os.ErrNotExist) holds; damage gives ErrCorrupt.
func ReadFile(path string, p Protector) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	plain, err := Open(p, b)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return plain, nil
}
