package secret

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// DPAPI is a Protector using CryptProtectData with machine scope: any process
// on this machine may open the data (the files' ACL keeps others out), no
// other machine can.
type DPAPI struct{}

var _ Protector = DPAPI{}

// entropy binds the blobs to shir: another program calling CryptUnprotectData
// on them without it fails.
var entropy = []byte("shir node secret v1")

// ForStateDir returns the machine's default protector: DPAPI, machine scope.
// The state directory is not used on Windows.
func ForStateDir(string) (Protector, error) { return DPAPI{}, nil }

func (DPAPI) Scheme() string { return "dpapi-machine" }

func blob(b []byte) *windows.DataBlob {
	if len(b) == 0 {
		return &windows.DataBlob{}
	}
	return &windows.DataBlob{Size: uint32(len(b)), Data: &b[0]}
}

func takeBlob(out *windows.DataBlob) []byte {
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return append([]byte(nil), unsafe.Slice(out.Data, out.Size)...)
}

// Protect seals SHA-256(plain) || plain: the digest makes every damage to the
// blob visible even where a DPAPI implementation (Wine's) authenticates less
// than Windows does, and it keeps the input non-empty, which DPAPI requires.
func (DPAPI) Protect(plain []byte) ([]byte, error) {
	sum := sha256.Sum256(plain)
	in := append(sum[:], plain...)
	var out windows.DataBlob
	err := windows.CryptProtectData(blob(in), nil, blob(entropy), 0, nil,
		windows.CRYPTPROTECT_LOCAL_MACHINE|windows.CRYPTPROTECT_UI_FORBIDDEN, &out)
	if err != nil {
		return nil, fmt.Errorf("CryptProtectData: %w", err)
	}
	return takeBlob(&out), nil
}

func (DPAPI) Unprotect(sealed []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, fmt.Errorf("empty blob")
	}
	var out windows.DataBlob
	err := windows.CryptUnprotectData(blob(sealed), nil, blob(entropy), 0, nil,
		windows.CRYPTPROTECT_UI_FORBIDDEN, &out)
	if err != nil {
		return nil, fmt.Errorf("CryptUnprotectData: %w", err)
	}
	if out.Data == nil {
		return nil, fmt.Errorf("empty result")
	}
	b := takeBlob(&out)
	if len(b) < sha256.Size {
		return nil, fmt.Errorf("too short")
	}
	if sum := sha256.Sum256(b[sha256.Size:]); !bytes.Equal(sum[:], b[:sha256.Size]) {
		return nil, fmt.Errorf("digest mismatch")
	}
	return b[sha256.Size:], nil
}
