package updater

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"aead.dev/minisign"
)

// MaxDocumentSize bounds every manifest, key list and index the updater reads.
const MaxDocumentSize = 1 << 20

// KeyList is the list of signing keys, signed by a root key (keys.json and
// keys.json.minisig next to the releases). Publishing a new list rotates or
// revokes signing keys without a new binary. Issued orders lists: a node
// refuses a list older than the newest it has seen, so a revocation cannot
// be undone by replaying an old list.
type KeyList struct {
	Schema  int          `json:"schema"`
	Issued  time.Time    `json:"issued"`
	Expires time.Time    `json:"expires,omitzero"`
	Keys    []SigningKey `json:"keys"`
	Revoked []string     `json:"revoked,omitempty"` // key IDs, as KeyID prints them
}

// SigningKey is one entry of the key list.
type SigningKey struct {
	ID        string `json:"id"`
	PublicKey string `json:"publicKey"` // minisign base64 form, "RW..."
	Comment   string `json:"comment,omitempty"`
}

// ParseKeyList decodes and validates a key list without checking its signature.
func ParseKeyList(data []byte) (KeyList, error) {
	var kl KeyList
	if len(data) > MaxDocumentSize {
		return kl, fmt.Errorf("%w: larger than %d bytes", ErrKeyList, MaxDocumentSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&kl); err != nil {
		return kl, fmt.Errorf("%w: %v", ErrKeyList, err)
	}
	if dec.More() {
		return kl, fmt.Errorf("%w: trailing data after the JSON object", ErrKeyList)
	}
	if kl.Schema != 1 {
		return kl, fmt.Errorf("%w: schema: want 1, got %d", ErrKeyList, kl.Schema)
	}
	if kl.Issued.IsZero() {
		return kl, fmt.Errorf("%w: issued: missing", ErrKeyList)
	}
	for i, k := range kl.Keys {
		pub, err := ParsePublicKey(k.PublicKey)
		if err != nil {
			return kl, fmt.Errorf("%w: keys[%d].publicKey: %v", ErrKeyList, i, err)
		}
		if KeyID(pub.ID()) != k.ID {
			return kl, fmt.Errorf("%w: keys[%d].id: %q does not match its public key (%s)", ErrKeyList, i, k.ID, KeyID(pub.ID()))
		}
	}
	for i, id := range kl.Revoked {
		if _, err := ParseKeyID(id); err != nil {
			return kl, fmt.Errorf("%w: revoked[%d]: %v", ErrKeyList, i, err)
		}
	}
	return kl, nil
}

// Marshal renders the list as the JSON that gets signed.
func (kl KeyList) Marshal() []byte {
	b, _ := json.MarshalIndent(kl, "", "  ")
	return append(b, '\n')
}

// IsRevoked reports whether the key with this ID is revoked.
func (kl KeyList) IsRevoked(id uint64) bool {
	return slices.Contains(kl.Revoked, KeyID(id))
}

// Active returns the public keys that are listed and not revoked.
func (kl KeyList) Active() []minisign.PublicKey {
	var out []minisign.PublicKey
	for _, k := range kl.Keys {
		pub, err := ParsePublicKey(k.PublicKey)
		if err != nil || kl.IsRevoked(pub.ID()) {
			continue
		}
		out = append(out, pub)
	}
	return out
}

// Add appends pub (idempotent) and returns the list.
func (kl KeyList) Add(pub minisign.PublicKey, comment string) KeyList {
	id := KeyID(pub.ID())
	for _, k := range kl.Keys {
		if k.ID == id {
			return kl
		}
	}
	kl.Keys = append(kl.Keys, SigningKey{ID: id, PublicKey: pub.String(), Comment: comment})
	return kl
}

// Revoke marks the key ID revoked (idempotent) and returns the list.
func (kl KeyList) Revoke(id uint64) KeyList {
	if !kl.IsRevoked(id) {
		kl.Revoked = append(kl.Revoked, KeyID(id))
	}
	return kl
}

// VerifyKeyList checks that a root key signed data and that the list is valid
// at now and not older than lastIssued (zero: none seen yet).
func VerifyKeyList(roots []minisign.PublicKey, data, sig []byte, now, lastIssued time.Time) (KeyList, error) {
	if len(roots) == 0 {
		return KeyList{}, fmt.Errorf("%w: no root keys configured", ErrUnknownKey)
	}
	if _, err := VerifyWith(roots, data, sig); err != nil {
		return KeyList{}, fmt.Errorf("signing-key list: %w", err)
	}
	kl, err := ParseKeyList(data)
	if err != nil {
		return kl, err
	}
	if !kl.Expires.IsZero() && now.After(kl.Expires) {
		return kl, fmt.Errorf("signing-key list: %w (expired %s)", ErrExpired, kl.Expires.UTC().Format(time.RFC3339))
	}
	if kl.Issued.Before(lastIssued) {
		return kl, fmt.Errorf("%w: issued %s, already seen %s", ErrStaleKeyList,
			kl.Issued.UTC().Format(time.RFC3339), lastIssued.UTC().Format(time.RFC3339))
	}
	return kl, nil
}
