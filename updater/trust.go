package updater

import (
	"fmt"
	"strings"
	"time"

	"aead.dev/minisign"
)

// RootKeys are the compiled-in root public keys (minisign base64 form,
// separated by commas). Private builds replace them at link time:
//
//	go build -ldflags "-X github.com/shirhq/shir/updater.RootKeys=RWQ...,RWQ..."
//
// and tests pass their own roots in Trust.Roots. The default below is a
// placeholder whose private key was not kept: a build that has not set its
// own roots trusts no release at all, which is the safe failure.
var RootKeys = "RWR+Sd3sP74T7nUryaxqCUiEK6B5hpWLzblRcD3fHP7bsHmUcojyN9xG"

// DefaultRoots parses RootKeys.
func DefaultRoots() ([]minisign.PublicKey, error) {
	var out []minisign.PublicKey
	for _, s := range strings.Split(RootKeys, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		k, err := ParsePublicKey(s)
		if err != nil {
			return nil, fmt.Errorf("compiled-in root key: %w", err)
		}
		out = append(out, k)
	}
	return out, nil
}

// Trust is the chain a release is checked against.
type Trust struct {
	Roots []minisign.PublicKey
}

// Signed is a document and its minisign signature.
type Signed struct {
	Data, Sig []byte
}

// Verified is a release whose key list and manifest verified.
type Verified struct {
	Manifest Manifest
	Keys     KeyList
	SignedBy uint64 // the signing key of the manifest
	Raw      Signed // the manifest as published
}

// VerifyRelease checks the chain root → key list → manifest and returns the
// manifest. It checks signatures, revocation and structure only; time and
// version rules are policy (see Decide).
func (t Trust) VerifyRelease(keys, manifest Signed, now, lastKeyListIssued time.Time) (Verified, error) {
	kl, err := VerifyKeyList(t.Roots, keys.Data, keys.Sig, now, lastKeyListIssued)
	if err != nil {
		return Verified{}, err
	}
	return verifyManifest(kl, manifest)
}

func verifyManifest(kl KeyList, manifest Signed) (Verified, error) {
	s, err := ParseSignature(manifest.Sig)
	if err != nil {
		return Verified{}, fmt.Errorf("manifest: %w", err)
	}
	if kl.IsRevoked(s.KeyID) {
		return Verified{}, fmt.Errorf("manifest: %w: %s", ErrRevokedKey, KeyID(s.KeyID))
	}
	id, err := VerifyWith(kl.Active(), manifest.Data, manifest.Sig)
	if err != nil {
		return Verified{}, fmt.Errorf("manifest: %w", err)
	}
	m, err := ParseManifest(manifest.Data)
	if err != nil {
		return Verified{}, err
	}
	for _, p := range m.Platforms() {
		as, _ := ParseSignature([]byte(m.Artifacts[p].Minisig))
		if as.KeyID != id {
			return Verified{}, fmt.Errorf("%w: artifacts[%s].minisig: signed by key %s, manifest by %s",
				ErrManifest, p, KeyID(as.KeyID), KeyID(id))
		}
	}
	return Verified{Manifest: m, Keys: kl, SignedBy: id, Raw: manifest}, nil
}

// SigningKey returns the public key of the manifest's signer.
func (v Verified) SigningKey() minisign.PublicKey {
	for _, k := range v.Keys.Active() {
		if k.ID() == v.SignedBy {
			return k
		}
	}
	return minisign.PublicKey{}
}
