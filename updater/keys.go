package updater

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"aead.dev/minisign"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/scrypt"
)

// KDFCost is the scrypt cost of an encrypted private key, in minisign's
// (libsodium's) terms: operations and memory in bytes. Both are written into
// the key file, so the minisign tool decrypts keys of any cost.
type KDFCost struct {
	Ops, Mem uint64
}

var (
	// CostSensitive is minisign's own default (1 GiB of memory, a few seconds).
	CostSensitive = KDFCost{Ops: 33554432, Mem: 1073741824}
	// CostInteractive is libsodium's interactive cost (16 MiB); tests use it.
	CostInteractive = KDFCost{Ops: 524288, Mem: 16777216}
)

// GenerateKey makes a new minisign key pair.
func GenerateKey() (minisign.PublicKey, minisign.PrivateKey, error) {
	return minisign.GenerateKey(rand.Reader)
}

// EncryptPrivateKey returns priv in minisign's encrypted secret-key format
// (scrypt + BLAKE2b checksum), readable by `minisign -S -s FILE`.
func EncryptPrivateKey(password string, priv minisign.PrivateKey, cost KDFCost) ([]byte, error) {
	if password == "" {
		return nil, fmt.Errorf("encrypt private key: empty password")
	}
	text, err := priv.MarshalText() // "untrusted comment: ...\n" + base64 of the unencrypted form
	if err != nil {
		return nil, err
	}
	raw, err := decodeKeyText(text)
	if err != nil || len(raw) != 158 {
		return nil, fmt.Errorf("encrypt private key: unexpected key encoding")
	}
	// raw: alg(2) kdf(2) cksum(2) salt(32) ops(8) mem(8) | keyid(8) sk(64) checksum(32)
	out := make([]byte, 158)
	copy(out[0:2], raw[0:2])
	binary.LittleEndian.PutUint16(out[2:], 0x6353) // "Sc": scrypt
	binary.LittleEndian.PutUint16(out[4:], 0x3242) // "B2": BLAKE2b
	salt := out[6:38]
	if _, err := io.ReadFull(rand.Reader, salt); err != nil {
		return nil, err
	}
	binary.LittleEndian.PutUint64(out[38:], cost.Ops)
	binary.LittleEndian.PutUint64(out[46:], cost.Mem)
	plain := raw[54:126] // key id + secret key
	msg := append([]byte{raw[0], raw[1]}, plain...)
	sum := blake2b.Sum256(msg)
	n, r, p := scryptParams(cost.Ops, cost.Mem)
	stream, err := scrypt.Key([]byte(password), salt, n, r, p, 104)
	if err != nil {
		return nil, fmt.Errorf("encrypt private key: %w", err)
	}
	copy(out[54:], plain)
	copy(out[126:], sum[:])
	for i := range stream {
		out[54+i] ^= stream[i]
	}
	var b bytes.Buffer
	b.WriteString("untrusted comment: minisign encrypted secret key\n")
	b.WriteString(base64.StdEncoding.EncodeToString(out))
	b.WriteString("\n")
	return b.Bytes(), nil
}

// DecryptPrivateKey reads an encrypted minisign secret key (made by shir or by
// `minisign -G`). A wrong password gives an error that says so and nothing else.
func DecryptPrivateKey(password string, data []byte) (minisign.PrivateKey, error) {
	if !minisign.IsEncrypted(data) {
		var k minisign.PrivateKey
		if err := k.UnmarshalText(data); err != nil {
			return k, fmt.Errorf("read private key: %w", err)
		}
		return k, nil
	}
	k, err := minisign.DecryptKey(password, data)
	if err != nil {
		return k, fmt.Errorf("decrypt private key: wrong password or damaged key file")
	}
	return k, nil
}

// ParsePublicKey reads a minisign public key: either the two-line file that
// `minisign -G` writes or the bare base64 line ("RW...").
func ParsePublicKey(text string) (minisign.PublicKey, error) {
	var k minisign.PublicKey
	text = strings.TrimSpace(text)
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = strings.TrimSpace(text[i+1:])
	}
	if err := k.UnmarshalText([]byte(text)); err != nil {
		return k, fmt.Errorf("public key %q: not a minisign public key", abbreviate(text))
	}
	return k, nil
}

// PublicKeyFile renders pub as minisign's public key file.
func PublicKeyFile(pub minisign.PublicKey) []byte {
	return fmt.Appendf(nil, "untrusted comment: minisign public key %s\n%s\n", KeyID(pub.ID()), pub.String())
}

// KeyID formats a minisign key ID as minisign prints it (16 upper-case hex digits).
func KeyID(id uint64) string {
	return fmt.Sprintf("%016X", id)
}

// ParseKeyID reads a key ID as KeyID prints it.
func ParseKeyID(s string) (uint64, error) {
	if len(s) != 16 {
		return 0, fmt.Errorf("key id %q: want 16 hex digits", abbreviate(s))
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("key id %q: want 16 hex digits", abbreviate(s))
	}
	return v, nil
}

// Sign signs message with priv in minisign's pre-hashed (BLAKE2b-512) mode,
// the default of minisign 0.10 and later, with trustedComment signed too.
func Sign(priv minisign.PrivateKey, message []byte, trustedComment string) []byte {
	r := minisign.NewReader(bytes.NewReader(message))
	_, _ = io.Copy(io.Discard, r)
	return r.SignWithComments(priv, trustedComment, "signature from shir secret key "+KeyID(priv.ID()))
}

// ParseSignature reads a minisign signature (".minisig" text).
func ParseSignature(sig []byte) (minisign.Signature, error) {
	var s minisign.Signature
	if len(sig) > 4096 {
		return s, fmt.Errorf("%w: signature longer than 4096 bytes", ErrBadSignature)
	}
	if err := s.UnmarshalText(sig); err != nil {
		return s, fmt.Errorf("%w: malformed minisign signature: %v", ErrBadSignature, err)
	}
	return s, nil
}

// VerifyWith checks sig over message with the key among keys whose ID the
// signature names. It returns that key's ID.
func VerifyWith(keys []minisign.PublicKey, message, sig []byte) (uint64, error) {
	s, err := ParseSignature(sig)
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if k.ID() != s.KeyID {
			continue
		}
		if !minisign.Verify(k, message, sig) {
			return s.KeyID, fmt.Errorf("%w: key %s does not verify it", ErrBadSignature, KeyID(s.KeyID))
		}
		return s.KeyID, nil
	}
	return s.KeyID, fmt.Errorf("%w: key %s", ErrUnknownKey, KeyID(s.KeyID))
}

func decodeKeyText(text []byte) ([]byte, error) {
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	return base64.StdEncoding.DecodeString(strings.TrimSpace(lines[len(lines)-1]))
}

// scryptParams converts libsodium's ops/mem limits to scrypt's N, r, p as
// libsodium's crypto_pwhash_scryptsalsa208sha256 (and so minisign) does.
func scryptParams(ops, mem uint64) (n, r, p int) {
	const minOps, maxRP = 1 << 15, 0x3fffffff
	if ops < minOps {
		ops = minOps
	}
	r = 8
	if ops < mem/32 {
		p = 1
		maxN := ops / (4 * uint64(r))
		for log := 1; log < 63; log++ {
			if uint64(1)<<log > maxN/2 {
				return 1 << log, r, p
			}
		}
	}
	maxN := mem / (uint64(r) * 128)
	log := 1
	for ; log < 63; log++ {
		if uint64(1)<<log > maxN/2 {
			break
		}
	}
	n = 1 << log
	rp := (ops / 4) / uint64(n)
	if rp > maxRP {
		rp = maxRP
	}
	p = int(rp) / r
	if p < 1 {
		p = 1
	}
	return n, r, p
}

func abbreviate(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}
