package updater

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFeedSourceResume: an HTTPS feed; a download interrupted half way
// resumes with a Range request instead of starting over.
func TestFeedSourceResume(t *testing.T) {
	f := newFeed(t, newKeys(t), testNow)
	bin := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	f.release(t, PublishOptions{Version: "1.1.0"}, bin)
	var served atomic.Int64
	var ranges []string
	var mu sync.Mutex
	fs := http.FileServer(http.Dir(f.dir))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			mu.Lock()
			ranges = append(ranges, r.Header.Get("Range"))
			mu.Unlock()
		}
		cw := &countingWriter{ResponseWriter: w, n: &served}
		fs.ServeHTTP(cw, r)
	}))
	defer srv.Close()
	src, err := ParseSource(srv.URL+"/", SourceOptions{HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	target := filepath.Join(dir, exeName("shir"))
	os.WriteFile(target, []byte("old"), 0o755)
	u, err := New(Options{Source: src, Trust: f.keys.trust(), Policy: Policy{AutoUpdate: true},
		Current: "1.0.0", Target: target, StateDir: filepath.Join(dir, "state"), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	c, err := u.Check(context.Background(), Request{})
	if err != nil {
		t.Fatal(err)
	}
	// Half of the file is already there from an earlier, interrupted try.
	part := filepath.Join(dir, "state", "download", fmt.Sprintf("shir-1.1.0-%s-%s.part", u.o.Policy.GOOS, u.o.Policy.GOARCH))
	os.MkdirAll(filepath.Dir(part), 0o700)
	os.WriteFile(part, bin[:len(bin)/2], 0o600)
	served.Store(0)
	if _, err := u.ApplyCandidate(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, bin) {
		t.Fatal("target is not the new binary")
	}
	if len(ranges) != 1 || ranges[0] != fmt.Sprintf("bytes=%d-", len(bin)/2) {
		t.Fatalf("range requests %q", ranges)
	}
	if n := served.Load(); n > int64(len(bin)/2)+1024 {
		t.Fatalf("served %d bytes, want about half of %d", n, len(bin))
	}
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	c.n.Add(int64(len(b)))
	return c.ResponseWriter.Write(b)
}

// TestDownloadSizeLimit refuses an artifact larger than the limit before
// downloading anything.
func TestDownloadSizeLimit(t *testing.T) {
	err := Download(context.Background(), &DirSource{}, Release{}, Artifact{Size: 2 << 20}, filepath.Join(t.TempDir(), "p"), 1<<20, nil)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
}

// fakeGitHub serves the GitHub REST API shapes that go-github reads: the
// release list, asset metadata, and asset downloads answered with a 302 to
// a storage URL (as api.github.com does), which honours Range.
type fakeGitHub struct {
	srv      *httptest.Server
	dir      string // a feed directory: its releases become GitHub releases
	ranges   []string
	apiCalls []string
	mu       sync.Mutex
}

func newFakeGitHub(t *testing.T, feedDir string) *fakeGitHub {
	g := &fakeGitHub{dir: feedDir}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v3/repos/acme/shir/releases", g.list)
	mux.HandleFunc("GET /api/v3/repos/acme/shir/releases/assets/{id}", g.asset)
	mux.HandleFunc("GET /storage/{tag}/{name}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("X-Amz-Signature") != "sig" {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		if rg := r.Header.Get("Range"); rg != "" {
			g.mu.Lock()
			g.ranges = append(g.ranges, rg)
			g.mu.Unlock()
		}
		if r.Header.Get("Authorization") != "" {
			http.Error(w, "token leaked to storage", http.StatusBadRequest)
			return
		}
		http.ServeFile(w, r, filepath.Join(g.dir, r.PathValue("tag")[1:], r.PathValue("name")))
	})
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

type ghAssetJSON struct {
	URL                string `json:"url"`
	ID                 int64  `json:"id"`
	NodeID             string `json:"node_id"`
	Name               string `json:"name"`
	Label              string `json:"label"`
	ContentType        string `json:"content_type"`
	State              string `json:"state"`
	Size               int64  `json:"size"`
	DownloadCount      int    `json:"download_count"`
	CreatedAt          string `json:"created_at"`
	UpdatedAt          string `json:"updated_at"`
	BrowserDownloadURL string `json:"browser_download_url"`
}

// assets numbers files as tagIndex*100 + fileIndex.
func (g *fakeGitHub) releases() (tags []string, assets map[int64][2]string) {
	ix, _ := os.ReadFile(filepath.Join(g.dir, "index.json"))
	idx, _ := ParseIndex(ix)
	assets = map[int64][2]string{}
	for i, v := range idx.Releases {
		tag := "v" + v
		tags = append(tags, tag)
		ents, _ := os.ReadDir(filepath.Join(g.dir, v))
		for j, e := range ents {
			assets[int64((i+1)*100+j)] = [2]string{tag, e.Name()}
		}
		// keys.json rides along with every release.
		assets[int64((i+1)*100+90)] = [2]string{tag, "keys.json"}
		assets[int64((i+1)*100+91)] = [2]string{tag, "keys.json.minisig"}
	}
	return tags, assets
}

func (g *fakeGitHub) file(tag, name string) string {
	if strings.HasPrefix(name, "keys.json") {
		return filepath.Join(g.dir, name)
	}
	return filepath.Join(g.dir, tag[1:], name)
}

func (g *fakeGitHub) list(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.apiCalls = append(g.apiCalls, r.URL.RequestURI())
	g.mu.Unlock()
	tags, assets := g.releases()
	var out []map[string]any
	for i, tag := range tags {
		var as []ghAssetJSON
		for id := int64((i + 1) * 100); id < int64((i+2)*100); id++ {
			a, ok := assets[id]
			if !ok {
				continue
			}
			st, _ := os.Stat(g.file(a[0], a[1]))
			as = append(as, ghAssetJSON{
				URL: fmt.Sprintf("%s/api/v3/repos/acme/shir/releases/assets/%d", g.srv.URL, id), ID: id,
				NodeID: "RA_x", Name: a[1], ContentType: "application/octet-stream", State: "uploaded",
				Size: st.Size(), CreatedAt: "2026-11-25T10:00:00Z", UpdatedAt: "2026-11-25T10:00:00Z",
				BrowserDownloadURL: fmt.Sprintf("%s/acme/shir/releases/download/%s/%s", g.srv.URL, tag, a[1]),
			})
		}
		out = append(out, map[string]any{
			"url": fmt.Sprintf("%s/api/v3/repos/acme/shir/releases/%d", g.srv.URL, i+1), "id": i + 1,
			"tag_name": tag, "target_commitish": "main", "name": "shir " + tag, "draft": false,
			"prerelease": false, "created_at": "2026-11-25T10:00:00Z", "published_at": "2026-11-25T10:00:00Z",
			"assets": as, "tarball_url": "", "zipball_url": "", "body": "",
		})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(out)
}

func (g *fakeGitHub) asset(w http.ResponseWriter, r *http.Request) {
	var id int64
	fmt.Sscan(r.PathValue("id"), &id)
	_, assets := g.releases()
	a, ok := assets[id]
	if !ok {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	if r.Header.Get("Accept") != "application/octet-stream" {
		http.Error(w, "want Accept: application/octet-stream", http.StatusUnsupportedMediaType)
		return
	}
	if strings.HasPrefix(a[1], "keys.json") {
		http.ServeFile(w, r, g.file(a[0], a[1])) // served directly, without a redirect
		return
	}
	loc := fmt.Sprintf("%s/storage/%s/%s?X-Amz-Signature=sig", g.srv.URL, a[0], url.PathEscape(a[1]))
	http.Redirect(w, r, loc, http.StatusFound)
}

// TestGitHubSource: releases from the GitHub API (go-github, base URL
// configured as for GitHub Enterprise), asset downloads through a 302 to
// storage, a resumed download, and the token kept away from storage.
func TestGitHubSource(t *testing.T) {
	f := newFeed(t, newKeys(t), testNow)
	bin := bytes.Repeat([]byte("github!"), 100000)
	f.release(t, PublishOptions{Version: "1.1.0"}, bin)
	f.release(t, PublishOptions{Version: "1.0.5"}, []byte("older"))
	g := newFakeGitHub(t, f.dir)
	src, err := ParseSource("github://acme/shir", SourceOptions{HTTP: g.srv.Client(), GitHubAPI: g.srv.URL + "/api/v3/", Token: "ghp_secret"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	target := filepath.Join(dir, exeName("shir"))
	os.WriteFile(target, []byte("old"), 0o755)
	u, err := New(Options{Source: src, Trust: f.keys.trust(), Policy: Policy{AutoUpdate: true},
		Current: "1.0.0", Target: target, StateDir: filepath.Join(dir, "state"), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	c, err := u.Check(context.Background(), Request{})
	if err != nil || c.Version() != "1.1.0" || c.Release.Name != "v1.1.0" {
		t.Fatalf("check: %q %v", c.Version(), err)
	}
	part := filepath.Join(dir, "state", "download", fmt.Sprintf("shir-1.1.0-%s-%s.part", u.o.Policy.GOOS, u.o.Policy.GOARCH))
	os.MkdirAll(filepath.Dir(part), 0o700)
	os.WriteFile(part, bin[:1000], 0o600)
	if _, err := u.ApplyCandidate(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, bin) {
		t.Fatal("target is not the new binary")
	}
	if len(g.ranges) != 1 || g.ranges[0] != "bytes=1000-" {
		t.Fatalf("ranges at storage: %q", g.ranges)
	}
	if len(g.apiCalls) == 0 || !strings.Contains(g.apiCalls[0], "per_page=") {
		t.Fatalf("api calls %q", g.apiCalls)
	}
	if _, err := ParseSource("github://acme", SourceOptions{}); err == nil {
		t.Fatal("github://acme accepted")
	}
}

func TestParseSource(t *testing.T) {
	for spec, want := range map[string]string{
		"github://o/r":        "github://o/r",
		"https://example/f":   "https://example/f/",
		"file:///srv/feed":    filepath.FromSlash("/srv/feed"),
		"/srv/feed":           "/srv/feed",
		"ftp://x/y":           "error",
		"":                    "error",
		"github://o/r/extra":  "error",
		"https://":            "error",
		"http://127.0.0.1:80": "http://127.0.0.1:80/",
	} {
		s, err := ParseSource(spec, SourceOptions{})
		got := "error"
		if err == nil {
			got = s.String()
		}
		if got != want {
			t.Errorf("ParseSource(%q) = %q (%v), want %q", spec, got, err, want)
		}
	}
	if _, err := NewHTTPClient("socks://x"); err == nil {
		t.Error("proxy socks://x accepted")
	}
	c, err := NewHTTPClient("http://proxy.invalid:3128")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "https://example.com/", nil)
	p, _ := c.Transport.(*http.Transport).Proxy(req)
	if p == nil || p.Host != "proxy.invalid:3128" {
		t.Errorf("configured proxy not used: %v", p)
	}
	t.Setenv("HTTPS_PROXY", "http://envproxy.invalid:8080")
	c, _ = NewHTTPClient("system")
	if p, _ := c.Transport.(*http.Transport).Proxy(req); p == nil || p.Host != "envproxy.invalid:8080" {
		t.Errorf("environment proxy not used: %v", p)
	}
}
