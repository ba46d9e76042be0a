package updater

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"aead.dev/minisign"
	"github.com/hashicorp/go-version"
)

// PublishOptions describe a release to sign (`shir release sign`).
type PublishOptions struct {
	Artifacts string // directory with shir_OS_ARCH[.exe] files or shir_OS_ARCH/shir[.exe] folders (make build)
	Out       string // feed directory: OUT/VERSION/ gets the manifest and the artifacts, OUT/index.json is updated
	Version   string
	Channel   string
	URLBase   string // absolute URL prefix for artifacts; empty: relative to the manifest
	Rollout   int
	Rollback  bool
	NotBefore time.Time
	Expires   time.Time
	Key       minisign.PrivateKey
	Now       time.Time
}

var artifactRE = regexp.MustCompile(`^shir_(linux|windows|darwin)_(amd64|arm64|386|arm)(\.exe)?$`)

// FindArtifacts maps os/arch to the binary files under dir.
func FindArtifacts(dir string) (map[string]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("artifacts: %w", err)
	}
	out := map[string]string{}
	for _, e := range ents {
		m := artifactRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			bin := "shir"
			if m[1] == "windows" {
				bin = "shir.exe"
			}
			p = filepath.Join(p, bin)
			if _, err := os.Stat(p); err != nil {
				continue
			}
		}
		out[m[1]+"/"+m[2]] = p
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("artifacts: no shir_OS_ARCH binaries in %s", dir)
	}
	return out, nil
}

// artifactName is the published file name of a platform's binary.
func artifactName(platform string) string {
	name := "shir_" + strings.ReplaceAll(platform, "/", "_")
	if strings.HasPrefix(platform, "windows/") {
		name += ".exe"
	}
	return name
}

// SignRelease writes OUT/VERSION/{manifest.json,manifest.json.minisig,
// artifacts} and adds VERSION to OUT/index.json. It returns the manifest.
func SignRelease(o PublishOptions) (Manifest, error) {
	if _, err := version.NewSemver(o.Version); err != nil {
		return Manifest{}, fmt.Errorf("--version %q: not a semantic version", o.Version)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = o.Now
	}
	if o.Expires.IsZero() {
		o.Expires = o.NotBefore.Add(30 * 24 * time.Hour)
	}
	bins, err := FindArtifacts(o.Artifacts)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{
		Schema: 1, Version: o.Version, Channel: o.Channel,
		Published: o.Now.UTC().Truncate(time.Second), NotBefore: o.NotBefore.UTC().Truncate(time.Second),
		Expires: o.Expires.UTC().Truncate(time.Second), Rollout: o.Rollout, Rollback: o.Rollback,
		Artifacts: map[string]Artifact{},
	}
	relDir := filepath.Join(o.Out, o.Version)
	if err := os.MkdirAll(relDir, 0o755); err != nil {
		return m, fmt.Errorf("release dir: %w", err)
	}
	for platform, path := range bins {
		name := artifactName(platform)
		bin, err := os.ReadFile(path)
		if err != nil {
			return m, fmt.Errorf("artifact %s: %w", platform, err)
		}
		sum := sha256.Sum256(bin)
		u := name
		if o.URLBase != "" {
			u = strings.TrimSuffix(o.URLBase, "/") + "/" + name
		}
		m.Artifacts[platform] = Artifact{
			URL: u, Size: int64(len(bin)), SHA256: hex.EncodeToString(sum[:]),
			Minisig: string(Sign(o.Key, bin, fmt.Sprintf("shir %s %s %s", o.Version, platform, name))),
		}
		if err := writeFileAtomic(filepath.Join(relDir, name), bin, 0o755); err != nil {
			return m, err
		}
	}
	if err := m.Validate(); err != nil {
		return m, err
	}
	data := m.Marshal()
	sig := Sign(o.Key, data, fmt.Sprintf("shir manifest %s %s", m.Version, m.Channel))
	if err := writeFileAtomic(filepath.Join(relDir, "manifest.json"), data, 0o644); err != nil {
		return m, err
	}
	if err := writeFileAtomic(filepath.Join(relDir, "manifest.json.minisig"), sig, 0o644); err != nil {
		return m, err
	}
	return m, AddToIndex(o.Out, o.Version)
}

// AddToIndex adds v to DIR/index.json (newest first).
func AddToIndex(dir, v string) error {
	path := filepath.Join(dir, "index.json")
	var ix Index
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read index: %w", err)
	default:
		if ix, err = ParseIndex(b); err != nil {
			return err
		}
	}
	if !slices.Contains(ix.Releases, v) {
		ix.Releases = append(ix.Releases, v)
	}
	sort.SliceStable(ix.Releases, func(i, j int) bool {
		a, _ := version.NewSemver(ix.Releases[i])
		b, _ := version.NewSemver(ix.Releases[j])
		return a.GreaterThan(b)
	})
	out := []byte("{\n  \"releases\": [")
	for i, r := range ix.Releases {
		if i > 0 {
			out = append(out, ',')
		}
		out = fmt.Appendf(out, "\n    %q", r)
	}
	out = append(out, "\n  ]\n}\n"...)
	return writeFileAtomic(path, out, 0o644)
}

// SignKeyList signs kl with a root key and writes DIR/keys.json and keys.json.minisig.
func SignKeyList(dir string, kl KeyList, root minisign.PrivateKey) error {
	if kl.Schema == 0 {
		kl.Schema = 1
	}
	data := kl.Marshal()
	if _, err := ParseKeyList(data); err != nil {
		return err
	}
	sig := Sign(root, data, "shir signing keys issued "+kl.Issued.UTC().Format(time.RFC3339))
	if err := writeFileAtomic(filepath.Join(dir, "keys.json"), data, 0o644); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "keys.json.minisig"), sig, 0o644)
}

// ReadKeyList reads DIR/keys.json without verifying it (publisher side);
// a missing file is an empty list.
func ReadKeyList(dir string) (KeyList, error) {
	b, err := os.ReadFile(filepath.Join(dir, "keys.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return KeyList{Schema: 1}, nil
	}
	if err != nil {
		return KeyList{}, err
	}
	return ParseKeyList(b)
}
