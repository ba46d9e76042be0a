package updater

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/hashicorp/go-version"
)

// Manifest describes one release. It is published as manifest.json with a
// minisign signature (manifest.json.minisig) made by a signing key.
//
//	{
//	  "schema": 1,
//	  "version": "1.5.0",
//	  "channel": "stable",
//	  "published": "2026-11-25T10:00:00Z",
//	  "notBefore": "2026-11-25T10:00:00Z",
//	  "expires": "2026-12-25T10:00:00Z",
//	  "rollout": 25,
//	  "rollback": false,
//	  "artifacts": {
//	    "linux/amd64": {"url": "shir_linux_amd64", "size": 123, "sha256": "…", "minisig": "untrusted comment: …"}
//	  }
//	}
//
// Artifact URLs are absolute or relative to the manifest. Rollback marks a
// release that may replace a newer installed version (a signed downgrade).
type Manifest struct {
	Schema    int                 `json:"schema"`
	Version   string              `json:"version"`
	Channel   string              `json:"channel"`
	Published time.Time           `json:"published"`
	NotBefore time.Time           `json:"notBefore"`
	Expires   time.Time           `json:"expires"`
	Rollout   int                 `json:"rollout"`
	Rollback  bool                `json:"rollback,omitempty"`
	Artifacts map[string]Artifact `json:"artifacts"`
}

// Artifact is one binary of a release.
type Artifact struct {
	URL     string `json:"url"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	Minisig string `json:"minisig"` // minisign signature of the binary, by the manifest's signing key
}

// Channels the updater knows.
var Channels = []string{"stable", "beta"}

var platformRE = regexp.MustCompile(`^(linux|windows|darwin)/(amd64|arm64|386|arm)$`)

// ParseManifest decodes and validates a manifest without checking its signature.
func ParseManifest(data []byte) (Manifest, error) {
	var m Manifest
	if len(data) > MaxDocumentSize {
		return m, fmt.Errorf("%w: larger than %d bytes", ErrManifest, MaxDocumentSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	if dec.More() {
		return m, fmt.Errorf("%w: trailing data after the JSON object", ErrManifest)
	}
	return m, m.Validate()
}

// Validate checks every field and names the first one that is wrong.
func (m Manifest) Validate() error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrManifest, field, fmt.Sprintf(format, a...))
	}
	if m.Schema != 1 {
		return bad("schema", "want 1, got %d", m.Schema)
	}
	if v, err := version.NewSemver(m.Version); err != nil || v.String() != m.Version {
		return bad("version", "%q is not a semantic version in the form 1.2.3", m.Version)
	}
	if m.Channel != "stable" && m.Channel != "beta" {
		return bad("channel", "want stable or beta, got %q", m.Channel)
	}
	if m.Published.IsZero() {
		return bad("published", "missing")
	}
	if m.NotBefore.IsZero() {
		return bad("notBefore", "missing")
	}
	if m.Expires.IsZero() {
		return bad("expires", "missing")
	}
	if !m.Expires.After(m.NotBefore) {
		return bad("expires", "must be after notBefore")
	}
	if m.Rollout < 0 || m.Rollout > 100 {
		return bad("rollout", "want 0 to 100 percent, got %d", m.Rollout)
	}
	if len(m.Artifacts) == 0 {
		return bad("artifacts", "empty")
	}
	for _, p := range m.Platforms() {
		a := m.Artifacts[p]
		field := "artifacts[" + p + "]"
		if !platformRE.MatchString(p) {
			return bad(field, "platform must be os/arch, e.g. linux/amd64")
		}
		if a.URL == "" {
			return bad(field+".url", "missing")
		}
		if a.Size <= 0 {
			return bad(field+".size", "must be positive, got %d", a.Size)
		}
		if b, err := hex.DecodeString(a.SHA256); err != nil || len(b) != 32 {
			return bad(field+".sha256", "want 64 hex digits")
		}
		if _, err := ParseSignature([]byte(a.Minisig)); err != nil {
			return bad(field+".minisig", "%v", err)
		}
	}
	return nil
}

// Platforms returns the artifact platforms, sorted.
func (m Manifest) Platforms() []string {
	out := make([]string, 0, len(m.Artifacts))
	for p := range m.Artifacts {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Artifact returns the artifact for goos/goarch.
func (m Manifest) Artifact(goos, goarch string) (Artifact, error) {
	a, ok := m.Artifacts[goos+"/"+goarch]
	if !ok {
		return a, fmt.Errorf("%w: release %s has none for %s/%s", ErrNoArtifact, m.Version, goos, goarch)
	}
	return a, nil
}

// SemVer returns the parsed version (valid after Validate).
func (m Manifest) SemVer() *version.Version {
	v, err := version.NewSemver(m.Version)
	if err != nil {
		return version.Must(version.NewSemver("0.0.0"))
	}
	return v
}

// Marshal renders the manifest as the JSON that gets signed.
func (m Manifest) Marshal() []byte {
	b, _ := json.MarshalIndent(m, "", "  ")
	return append(b, '\n')
}
