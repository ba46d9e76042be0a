package updater

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-version"
)

// Source is where releases come from. Every source has the same shape:
// a signed key list, signed manifests, and artifacts that a manifest names
// by absolute URL or relative to itself.
//
// The directory and HTTPS feed layout (what `shir release sign --out DIR` writes):
//
//	keys.json  keys.json.minisig
//	index.json                      {"releases": ["1.5.0", "1.4.2"]} (unsigned: it only names folders)
//	1.5.0/manifest.json  1.5.0/manifest.json.minisig  1.5.0/shir_linux_amd64  ...
//
// On GitHub, each release carries manifest.json, manifest.json.minisig, the
// artifacts, and (at least the newest) keys.json and keys.json.minisig as assets.
type Source interface {
	// KeyList returns the signed signing-key list.
	KeyList(ctx context.Context) (Signed, error)
	// Releases returns the signed manifests offered, in no particular order.
	Releases(ctx context.Context) ([]Release, error)
	// Open returns an artifact's bytes from offset on. start is where the
	// returned stream really starts: offset, or 0 when the server cannot resume.
	Open(ctx context.Context, rel Release, a Artifact, offset int64) (rc io.ReadCloser, start int64, err error)
	String() string
}

// Release is one signed manifest and where it was found.
type Release struct {
	Manifest Signed
	Location string // URL or directory that relative artifact URLs are resolved against
	Name     string // folder name or tag, for messages
	assets   map[string]ghAsset
}

// Index lists the release folders of a directory or feed.
type Index struct {
	Releases []string `json:"releases"`
}

// ParseIndex decodes index.json; each entry must be a version.
func ParseIndex(data []byte) (Index, error) {
	var ix Index
	if len(data) > MaxDocumentSize {
		return ix, fmt.Errorf("index.json: larger than %d bytes", MaxDocumentSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ix); err != nil {
		return ix, fmt.Errorf("index.json: %w", err)
	}
	for i, r := range ix.Releases {
		if _, err := version.NewSemver(r); err != nil || strings.ContainsAny(r, `/\`) {
			return ix, fmt.Errorf("index.json: releases[%d]: %q is not a version", i, abbreviate(r))
		}
	}
	return ix, nil
}

// SourceOptions configures ParseSource.
type SourceOptions struct {
	HTTP      *http.Client // default: NewHTTPClient("system")
	GitHubAPI string       // GitHub API base URL (GitHub Enterprise, tests); default api.github.com
	Token     string       // GitHub token; optional, never logged
}

// ParseSource makes a Source from its spec: github://OWNER/REPO, an https://
// (or http://) feed URL, file:///dir, or a directory path.
func ParseSource(spec string, o SourceOptions) (Source, error) {
	if o.HTTP == nil {
		c, err := NewHTTPClient("system")
		if err != nil {
			return nil, err
		}
		o.HTTP = c
	}
	switch {
	case spec == "":
		return nil, fmt.Errorf("source: empty (want github://owner/repo, https://feed/ or a directory)")
	case strings.HasPrefix(spec, "github://"):
		owner, repo, ok := strings.Cut(strings.TrimPrefix(spec, "github://"), "/")
		if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
			return nil, fmt.Errorf("source %q: want github://owner/repo", spec)
		}
		return newGitHubSource(owner, repo, o)
	case strings.HasPrefix(spec, "https://"), strings.HasPrefix(spec, "http://"):
		u, err := url.Parse(spec)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("source %q: not a URL", spec)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		return &FeedSource{Base: u, HTTP: o.HTTP}, nil
	case strings.HasPrefix(spec, "file://"):
		u, err := url.Parse(spec)
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", spec, err)
		}
		return &DirSource{Dir: filepath.FromSlash(u.Path)}, nil
	case strings.Contains(spec, "://"):
		return nil, fmt.Errorf("source %q: unknown scheme (want github://, https://, file:// or a directory)", spec)
	default:
		return &DirSource{Dir: spec}, nil
	}
}

// NewHTTPClient returns a client that honours proxy: "system" or "" (the
// HTTPS_PROXY/HTTP_PROXY/NO_PROXY environment), "none", or a proxy URL.
func NewHTTPClient(proxy string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	switch proxy {
	case "", "system":
		tr.Proxy = http.ProxyFromEnvironment
	case "none":
		tr.Proxy = nil
	default:
		u, err := url.Parse(proxy)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("proxy %q: want none, system or http://host:port", proxy)
		}
		tr.Proxy = http.ProxyURL(u)
	}
	return &http.Client{Transport: tr}, nil
}

// DirSource reads releases from a local folder.
type DirSource struct{ Dir string }

func (s *DirSource) String() string { return s.Dir }

func (s *DirSource) KeyList(context.Context) (Signed, error) {
	return readSignedFile(filepath.Join(s.Dir, "keys.json"))
}

func (s *DirSource) Releases(context.Context) ([]Release, error) {
	b, err := readSmallFile(filepath.Join(s.Dir, "index.json"))
	if err != nil {
		return nil, err
	}
	ix, err := ParseIndex(b)
	if err != nil {
		return nil, err
	}
	var out []Release
	for _, name := range ix.Releases {
		dir := filepath.Join(s.Dir, name)
		sg, err := readSignedFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			return nil, err
		}
		out = append(out, Release{Manifest: sg, Location: dir, Name: name})
	}
	return out, nil
}

func (s *DirSource) Open(_ context.Context, rel Release, a Artifact, offset int64) (io.ReadCloser, int64, error) {
	p := a.URL
	if !filepath.IsAbs(p) {
		if strings.Contains(p, "://") || strings.Contains(p, "..") {
			return nil, 0, fmt.Errorf("artifact url %q: a directory source takes a file name or an absolute path", p)
		}
		p = filepath.Join(rel.Location, filepath.FromSlash(p))
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, fmt.Errorf("open artifact: %w", err)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open artifact: %w", err)
	}
	return f, offset, nil
}

func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > MaxDocumentSize {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, MaxDocumentSize)
	}
	return b, nil
}

func readSignedFile(path string) (Signed, error) {
	d, err := readSmallFile(path)
	if err != nil {
		return Signed{}, err
	}
	sig, err := readSmallFile(path + ".minisig")
	if err != nil {
		return Signed{}, err
	}
	return Signed{Data: d, Sig: sig}, nil
}

// FeedSource reads releases from a plain HTTPS feed laid out as a directory.
type FeedSource struct {
	Base *url.URL // ends in "/"
	HTTP *http.Client
}

func (s *FeedSource) String() string { return s.Base.String() }

func (s *FeedSource) KeyList(ctx context.Context) (Signed, error) {
	return s.getSigned(ctx, s.Base.JoinPath("keys.json").String())
}

func (s *FeedSource) Releases(ctx context.Context) ([]Release, error) {
	b, err := httpGetSmall(ctx, s.HTTP, s.Base.JoinPath("index.json").String(), nil)
	if err != nil {
		return nil, err
	}
	ix, err := ParseIndex(b)
	if err != nil {
		return nil, err
	}
	var out []Release
	for _, name := range ix.Releases {
		loc := s.Base.JoinPath(name).String() + "/"
		sg, err := s.getSigned(ctx, loc+"manifest.json")
		if err != nil {
			return nil, err
		}
		out = append(out, Release{Manifest: sg, Location: loc, Name: name})
	}
	return out, nil
}

func (s *FeedSource) getSigned(ctx context.Context, u string) (Signed, error) {
	d, err := httpGetSmall(ctx, s.HTTP, u, nil)
	if err != nil {
		return Signed{}, err
	}
	sig, err := httpGetSmall(ctx, s.HTTP, u+".minisig", nil)
	if err != nil {
		return Signed{}, err
	}
	return Signed{Data: d, Sig: sig}, nil
}

func (s *FeedSource) Open(ctx context.Context, rel Release, a Artifact, offset int64) (io.ReadCloser, int64, error) {
	base, err := url.Parse(rel.Location)
	if err != nil {
		return nil, 0, err
	}
	ref, err := url.Parse(a.URL)
	if err != nil {
		return nil, 0, fmt.Errorf("artifact url %q: %w", a.URL, err)
	}
	return httpOpen(ctx, s.HTTP, base.ResolveReference(ref).String(), nil, offset)
}

// httpGetSmall fetches a document of at most MaxDocumentSize bytes.
func httpGetSmall(ctx context.Context, c *http.Client, u string, hdr http.Header) ([]byte, error) {
	rc, _, err := httpOpen(ctx, c, u, hdr, 0)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", redactURL(u), err)
	}
	if len(b) > MaxDocumentSize {
		return nil, fmt.Errorf("get %s: larger than %d bytes", redactURL(u), MaxDocumentSize)
	}
	return b, nil
}

// httpOpen GETs u from offset (a Range request when offset > 0).
func httpOpen(ctx context.Context, c *http.Client, u string, hdr http.Header, offset int64) (io.ReadCloser, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("get %s: %w", redactURL(u), err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	if req.Header.Get("Authorization") != "" {
		// Redirect targets (pre-signed storage URLs) never get the token,
		// even on the same host.
		cc := *c
		cc.CheckRedirect = func(r *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return fmt.Errorf("stopped after 10 redirects")
			}
			r.Header.Del("Authorization")
			return nil
		}
		c = &cc
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("get %s: %w", redactURL(u), err)
	}
	switch {
	case resp.StatusCode == http.StatusPartialContent && offset > 0:
		return resp.Body, offset, nil
	case resp.StatusCode == http.StatusOK:
		return resp.Body, 0, nil
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && offset > 0:
		resp.Body.Close()
		return httpOpen(ctx, c, u, hdr, 0)
	default:
		resp.Body.Close()
		return nil, 0, fmt.Errorf("get %s: %s", redactURL(u), resp.Status)
	}
}

// redactURL drops the query (signed download URLs carry tokens) and user info.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(bad url)"
	}
	p.User = nil
	if p.RawQuery != "" {
		p.RawQuery = "..."
	}
	return p.String()
}
