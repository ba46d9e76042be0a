package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/shirhq/shir/controlplane/api"
)

// CopySpec is the spec of a copy job. Credential names a stored
// linked-service credential used as HTTP basic auth for an http(s) source.
type CopySpec = api.CopySpec

// runCopy streams source to a temporary file next to the sink while hashing
// it, checks the SHA-256 when the spec gives one, syncs, and renames it over
// the sink: the sink holds the old content or the complete new one.
func runCopy(ctx context.Context, env *jobEnv, raw json.RawMessage) (any, error) {
	var spec CopySpec
	if err := decodeSpec(raw, &spec); err != nil {
		return nil, err
	}
	if spec.Source == "" {
		return nil, permanent("spec.source is empty")
	}
	if spec.Sink == "" || !filepath.IsAbs(spec.Sink) {
		return nil, permanent("spec.sink must be an absolute path on the node, got %q", spec.Sink)
	}
	var want []byte
	if spec.SHA256 != "" {
		b, err := hex.DecodeString(strings.TrimPrefix(spec.SHA256, "sha256:"))
		if err != nil || len(b) != sha256.Size {
			return nil, permanent("spec.sha256 must be 64 hex digits")
		}
		want = b
	}
	src, err := openSource(ctx, env, spec)
	if err != nil {
		return nil, err
	}
	defer src.Close()

	dir := filepath.Dir(spec.Sink)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, permanent("sink directory: %v", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(spec.Sink)+".part*")
	if err != nil {
		return nil, permanent("sink: %v", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), &countingReader{ctx: ctx, r: src, n: &env.bytes})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, retryable("copy %s: %v", redactURL(spec.Source), err)
	}
	sum := h.Sum(nil)
	if want != nil && !equalBytes(sum, want) {
		return nil, permanent("sha256 mismatch: source has %x, spec wants %x; the sink was not changed", sum, want)
	}
	if err := tmp.Sync(); err != nil {
		return nil, retryable("sync sink: %v", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, retryable("close sink: %v", err)
	}
	if err := os.Rename(tmp.Name(), spec.Sink); err != nil {
		return nil, permanent("sink: %v", err)
	}
	done = true
	return api.CopyOutput{Bytes: n, SHA256: hex.EncodeToString(sum)}, nil
}

func equalBytes(a, b []byte) bool { return string(a) == string(b) }

// openSource opens a local path (or file:// URL) or GETs an http(s) URL
// through the proxy-aware job client, with basic auth from a credential.
func openSource(ctx context.Context, env *jobEnv, spec CopySpec) (io.ReadCloser, error) {
	u, err := url.Parse(spec.Source)
	isURL := err == nil && (u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "file")
	if !isURL {
		if !filepath.IsAbs(spec.Source) {
			return nil, permanent("spec.source must be an absolute path or an http(s) or file URL")
		}
		f, err := os.Open(spec.Source)
		if err != nil {
			return nil, permanent("source: %v", err)
		}
		return f, nil
	}
	if u.Scheme == "file" {
		p := u.Path
		if len(p) > 2 && p[0] == '/' && p[2] == ':' { // file:///C:/x on Windows
			p = p[1:]
		}
		f, err := os.Open(filepath.FromSlash(p))
		if err != nil {
			return nil, permanent("source: %v", err)
		}
		return f, nil
	}
	if u.User != nil {
		return nil, permanent("spec.source must not contain a user or password; store them with shir agent credential put and name it in spec.credential")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, permanent("spec.source: %v", err)
	}
	if spec.Credential != "" {
		if env.creds == nil {
			return nil, permanent("credential %s: no credential store", spec.Credential)
		}
		c, err := env.creds.Get(spec.Credential)
		if err != nil {
			return nil, permanent("spec.credential: %v", err)
		}
		req.SetBasicAuth(c.User, c.Secret)
	}
	resp, err := env.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, retryable("GET %s: %v", redactURL(spec.Source), errors.Unwrap(err))
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return nil, retryable("GET %s: %s", redactURL(spec.Source), resp.Status)
		}
		return nil, permanent("GET %s: %s", redactURL(spec.Source), resp.Status)
	}
	return resp.Body, nil
}

// redactURL drops the query (it may hold a token) for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return s
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// countingReader counts bytes for progress and stops on cancellation.
type countingReader struct {
	ctx context.Context
	r   io.Reader
	n   interface{ Add(int64) int64 }
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
