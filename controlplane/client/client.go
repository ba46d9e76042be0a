// Package client is the admin client of the control plane API, shared by the
// `shir runtime` / `shir job` commands and `shir quickstart`. It also reads
// and writes the small config file that `shir server` leaves for the local
// user (server URL, admin token file, certificate pin), so that admin
// commands work with no flags on the server's machine.
//
// Resolution order for each setting: explicit value (flag), environment
// (SHIR_SERVER, SHIR_TOKEN_FILE, SHIR_CA_SHA256), then the config file. The
// certificate is pinned by its SHA-256 (the key's @ca=sha256: part); without
// a pin, the system roots verify it.
package client

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shirhq/shir/controlplane/api"
)

// Config says how to reach the control plane as an admin.
type Config struct {
	URL       string // https://host:port
	Token     string // admin token (secret); read from TokenFile when empty
	TokenFile string
	CASHA256  []byte // certificate pin, nil: system roots
}

// Client calls the admin endpoints.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
}

// New checks cfg, reads the token file if needed, and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.URL == "" {
		return nil, errors.New("control plane URL is not set (flag --server, SHIR_SERVER, or run shir server on this machine)")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, errors.New("control plane URL must be https://host:port")
	}
	tok := cfg.Token
	if tok == "" {
		if cfg.TokenFile == "" {
			return nil, errors.New("admin token is not set (flag --token-file, SHIR_TOKEN_FILE, or the server's config file)")
		}
		b, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("read admin token file: %w", err)
		}
		tok = strings.TrimSpace(string(b))
		if tok == "" {
			return nil, fmt.Errorf("admin token file %s is empty", cfg.TokenFile)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = api.PinnedTLSConfig(cfg.CASHA256)
	tr.Proxy = nil // the control plane is reached directly
	return &Client{base: u, token: tok, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}, nil
}

// Close closes the client's idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// do sends a request with the admin token and decodes a 2xx JSON reply into
// out (if not nil); other replies become *api.Problem errors.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	full := strings.TrimSuffix(c.base.String(), "/") + path
	if len(query) > 0 {
		full += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, full, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return api.ReadProblem(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode reply: %w", method, path, err)
	}
	return nil
}

func (c *Client) CreateRuntime(ctx context.Context, req api.CreateRuntimeRequest) (api.Runtime, error) {
	var rt api.Runtime
	return rt, c.do(ctx, http.MethodPost, api.PathRuntimes, nil, req, &rt)
}

func (c *Client) Runtimes(ctx context.Context) ([]api.Runtime, error) {
	var l api.RuntimeList
	err := c.do(ctx, http.MethodGet, api.PathRuntimes, nil, nil, &l)
	return l.Runtimes, err
}

func (c *Client) Runtime(ctx context.Context, ref string) (api.Runtime, error) {
	var rt api.Runtime
	return rt, c.do(ctx, http.MethodGet, api.RuntimePath(ref), nil, nil, &rt)
}

func (c *Client) UpdateRuntime(ctx context.Context, ref string, req api.UpdateRuntimeRequest) (api.Runtime, error) {
	var rt api.Runtime
	return rt, c.do(ctx, http.MethodPatch, api.RuntimePath(ref), nil, req, &rt)
}

func (c *Client) DeleteRuntime(ctx context.Context, ref string) error {
	return c.do(ctx, http.MethodDelete, api.RuntimePath(ref), nil, nil, nil)
}

func (c *Client) Keys(ctx context.Context, ref string) (api.Keys, error) {
	var k api.Keys
	return k, c.do(ctx, http.MethodGet, api.RuntimePath(ref, "keys"), nil, nil, &k)
}

// RegenerateKey replaces "key1" or "key2".
func (c *Client) RegenerateKey(ctx context.Context, ref, slot string) (api.Keys, error) {
	var k api.Keys
	return k, c.do(ctx, http.MethodPost, api.RuntimePath(ref, "keys", slot, "regenerate"), nil, nil, &k)
}

func (c *Client) RemoveNode(ctx context.Context, ref, node string) error {
	return c.do(ctx, http.MethodDelete, api.RuntimePath(ref, "nodes", node), nil, nil, nil)
}

func (c *Client) SetConcurrency(ctx context.Context, ref, node string, n int) (api.Node, error) {
	var out api.Node
	return out, c.do(ctx, http.MethodPut, api.RuntimePath(ref, "nodes", node, "concurrency"), nil, api.SetConcurrencyRequest{Concurrency: n}, &out)
}

func (c *Client) SubmitJob(ctx context.Context, req api.SubmitJobRequest) (api.Job, error) {
	var j api.Job
	return j, c.do(ctx, http.MethodPost, api.PathJobs, nil, req, &j)
}

// JobFilter selects jobs for Jobs; empty fields match all.
type JobFilter struct {
	Runtime, State, Node string
	Limit                int
}

func (c *Client) Jobs(ctx context.Context, f JobFilter) ([]api.Job, error) {
	q := url.Values{}
	for k, v := range map[string]string{"runtime": f.Runtime, "state": f.State, "node": f.Node} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var l api.JobList
	err := c.do(ctx, http.MethodGet, api.PathJobs, q, nil, &l)
	return l.Jobs, err
}

func (c *Client) Job(ctx context.Context, id string) (api.Job, error) {
	var j api.Job
	return j, c.do(ctx, http.MethodGet, api.JobPath(id), nil, nil, &j)
}

func (c *Client) CancelJob(ctx context.Context, id string) (api.Job, error) {
	var j api.Job
	return j, c.do(ctx, http.MethodPost, api.JobPath(id, "cancel"), nil, nil, &j)
}

// ---- config file ----

// FileConfig is the JSON the server writes for the local user.
type FileConfig struct {
	Server    string `json:"server"`
	TokenFile string `json:"tokenFile"`
	CASHA256  string `json:"caSha256,omitempty"` // "sha256:<hex>"
}

// DefaultConfigPath is <user config dir>/shir/server.json.
func DefaultConfigPath() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user config directory: %w", err)
	}
	return filepath.Join(d, "shir", "server.json"), nil
}

// WriteConfig writes fc to path atomically (0600, directory 0700).
func WriteConfig(path string, fc FileConfig) error {
	b, err := json.MarshalIndent(fc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write client config: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".server.json.tmp*")
	if err != nil {
		return fmt.Errorf("write client config: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(append(b, '\n'))
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write client config: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write client config: %w", err)
	}
	return nil
}

// ReadConfig reads a config file; a missing file gives a zero FileConfig and
// no error.
func ReadConfig(path string) (FileConfig, error) {
	var fc FileConfig
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fc, nil
	}
	if err != nil {
		return fc, fmt.Errorf("read client config: %w", err)
	}
	if err := api.DecodeStrict(b, &fc); err != nil {
		return fc, fmt.Errorf("client config %s: %w", path, err)
	}
	return fc, nil
}

// Resolve builds a Config from explicit values (flags; "" = unset), the
// environment (getenv) and the config file at path ("" = none).
// When no pin is given but the token file's directory holds the server's
// tls.crt (a data directory), that certificate is pinned.
func Resolve(server, tokenFile, pin string, getenv func(string) string, path string) (Config, error) {
	var fc FileConfig
	if path != "" {
		var err error
		if fc, err = ReadConfig(path); err != nil {
			return Config{}, err
		}
	}
	first := func(vals ...string) string {
		for _, v := range vals {
			if v != "" {
				return v
			}
		}
		return ""
	}
	cfg := Config{
		URL:       strings.TrimSuffix(first(server, getenv("SHIR_SERVER"), fc.Server), "/"),
		TokenFile: first(tokenFile, getenv("SHIR_TOKEN_FILE"), fc.TokenFile),
	}
	p := first(pin, getenv("SHIR_CA_SHA256"))
	if p == "" && cfg.TokenFile == fc.TokenFile {
		p = fc.CASHA256
	}
	if p != "" {
		b, err := api.ParsePin(p)
		if err != nil {
			return cfg, fmt.Errorf("certificate pin: %w", err)
		}
		cfg.CASHA256 = b
	} else if cfg.TokenFile != "" {
		if b, err := pinFromCertFile(filepath.Join(filepath.Dir(cfg.TokenFile), "tls.crt")); err == nil {
			cfg.CASHA256 = b
		}
	}
	return cfg, nil
}

// PinString renders a pin as "sha256:<hex>".
func PinString(pin []byte) string { return "sha256:" + hex.EncodeToString(pin) }

func pinFromCertFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return api.CertSHA256(blk.Bytes), nil
}
