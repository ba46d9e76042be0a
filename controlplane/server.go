package controlplane

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
	"github.com/shirhq/shir/controlplane/store"
	"github.com/shirhq/shir/controlplane/store/sqlitestore"
)

// Files in the data directory.
const (
	DBFile         = "shir.db"
	CertFile       = "tls.crt"
	KeyFile        = "tls.key"
	AdminTokenFile = "admin.token"
)

// Options configure a Server. Only DataDir is required.
type Options struct {
	// DataDir holds the database, the certificate and the admin token
	// (created 0700 if missing).
	DataDir string
	// CertFile and KeyFile, when both set, are the TLS certificate and key
	// to serve instead of the self-signed one. Keys then carry no @ca pin
	// unless PinCert is set.
	CertFile, KeyFile string
	PinCert           bool
	// Hosts are extra DNS names or IPs for the self-signed certificate.
	Hosts []string
	// PublicURL is the https URL written into authentication keys
	// (ServiceEndpoint). Default: https://<listen address> (the host name
	// when listening on all addresses).
	PublicURL string
	// HeartbeatInterval is what nodes are told to use (default 15 s); a
	// node is offline after three missed intervals.
	HeartbeatInterval time.Duration
	// SweepInterval is how often expired leases and offline nodes are
	// handled (default 1 s).
	SweepInterval time.Duration
	// FlushInterval is how often heartbeats are written to the store in
	// one batch (default 5 s). Heartbeat figures are the only state that
	// is not written before the reply: a crash loses at most this much of
	// them, never a registration, key, job or result.
	FlushInterval time.Duration
	// RegisterRate and RegisterBurst limit registrations per client IP
	// (default 10/s, burst 50).
	RegisterRate  float64
	RegisterBurst int
	// SyncFull fsyncs every commit (survives power loss, not only crashes).
	SyncFull bool
	// ClientConfigPath, when set, is where the server writes the admin
	// CLI's config (URL, token file, certificate pin), 0600.
	ClientConfigPath string
	Logger           *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Server is the control plane. Create it with New, run it with Serve, and
// Close it when done.
type Server struct {
	opts      Options
	log       *slog.Logger
	store     store.Store
	cert      tls.Certificate
	pin       []byte // nil when keys carry no @ca
	adminTok  string
	adminHash [32]byte
	now       func() time.Time
	handler   http.Handler

	mu       sync.Mutex
	url      string
	nodes    map[string]*liveNode            // by node ID
	byToken  map[string]*liveNode            // by token hash
	byRT     map[string]map[string]*liveNode // runtime ID -> node ID -> node
	runtimes map[string]store.Runtime        // cache, by ID
	queues   map[string]*rtQueue             // runtime ID -> long-poll state
	limiters map[string]*ipLimiter

	done      chan struct{} // closed by Close and on shutdown: long polls return
	doneOnce  sync.Once
	bgCancel  context.CancelFunc
	bgWG      sync.WaitGroup
	closeOnce sync.Once
}

type ipLimiter struct {
	l    *rate.Limiter
	seen time.Time
}

// New opens (or creates) the data directory, the store, the certificate and
// the admin token, and loads the nodes. It starts the sweeper and the
// heartbeat flusher; Close stops them.
func New(opts Options) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("data directory is not set")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = api.DefaultHeartbeatInterval
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = time.Second
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 5 * time.Second
	}
	if opts.RegisterRate <= 0 {
		opts.RegisterRate = 10
	}
	if opts.RegisterBurst <= 0 {
		opts.RegisterBurst = 50
	}
	if (opts.CertFile == "") != (opts.KeyFile == "") {
		return nil, errors.New("give both the certificate and the key file, or neither")
	}
	if opts.PublicURL != "" {
		u, err := url.Parse(opts.PublicURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || strings.Contains(opts.PublicURL, "@") {
			return nil, errors.New("public URL must be an https:// URL with a host (and no '@')")
		}
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	opts.DataDir = dir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	s := &Server{
		opts: opts, log: opts.Logger, now: opts.Now,
		nodes: map[string]*liveNode{}, byToken: map[string]*liveNode{}, byRT: map[string]map[string]*liveNode{},
		runtimes: map[string]store.Runtime{}, queues: map[string]*rtQueue{}, limiters: map[string]*ipLimiter{},
		done: make(chan struct{}),
	}
	if opts.CertFile != "" {
		s.cert, err = tls.LoadX509KeyPair(opts.CertFile, opts.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate: %w", err)
		}
		if opts.PinCert {
			s.pin = api.CertSHA256(s.cert.Certificate[0])
		}
	} else {
		s.cert, err = loadOrCreateCert(dir, opts.Hosts, opts.Now())
		if err != nil {
			return nil, err
		}
		s.pin = api.CertSHA256(s.cert.Certificate[0])
	}
	s.adminTok, err = loadOrCreateToken(filepath.Join(dir, AdminTokenFile))
	if err != nil {
		return nil, err
	}
	s.adminHash = sha256.Sum256([]byte(s.adminTok))
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, DBFile), sqlitestore.Options{SyncFull: opts.SyncFull})
	if err != nil {
		return nil, err
	}
	s.store = st
	if err := s.load(ctx); err != nil {
		st.Close()
		return nil, err
	}
	s.handler = s.routes()
	bg, cancel := context.WithCancel(context.Background())
	s.bgCancel = cancel
	s.bgWG.Add(2)
	go s.every(bg, s.opts.SweepInterval, s.sweep)
	go s.every(bg, s.opts.FlushInterval, s.flushTick)
	return s, nil
}

// Handler returns the HTTP handler (for tests that bring their own server).
func (s *Server) Handler() http.Handler { return s.handler }

// AdminToken returns the admin token (a secret).
func (s *Server) AdminToken() string { return s.adminTok }

// CertSHA256 returns the certificate pin carried in keys, or nil.
func (s *Server) CertSHA256() []byte { return s.pin }

// Store returns the server's store (for tests and tools in the module).
func (s *Server) Store() store.Store { return s.store }

// URL returns the service endpoint written into keys: PublicURL, or derived
// from the listener of the last Serve call ("" before that).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// ClientConfig returns the configuration an admin client needs to talk to
// this server through the listener at addr (e.g. ln.Addr().String()).
func (s *Server) ClientConfig(addr string) client.Config {
	return client.Config{
		URL:       "https://" + dialAddr(addr),
		Token:     s.adminTok,
		TokenFile: filepath.Join(s.opts.DataDir, AdminTokenFile),
		CASHA256:  api.CertSHA256(s.cert.Certificate[0]),
	}
}

// dialAddr turns a listen address into one a local client can dial.
func dialAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// Serve serves the API over TLS on ln until ctx is cancelled, then shuts
// down gracefully (long polls return at once). It does not Close the server.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	addr := ln.Addr().String()
	u := strings.TrimSuffix(s.opts.PublicURL, "/")
	if u == "" {
		host, port, _ := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			if h, err := os.Hostname(); err == nil && h != "" {
				host = h
			} else {
				host = "127.0.0.1"
			}
		}
		u = "https://" + net.JoinHostPort(host, port)
	}
	if s.opts.ClientConfigPath != "" {
		if err := client.WriteConfig(s.opts.ClientConfigPath, client.FileConfig{
			Server:    "https://" + dialAddr(addr),
			TokenFile: filepath.Join(s.opts.DataDir, AdminTokenFile),
			CASHA256:  "sha256:" + hex.EncodeToString(api.CertSHA256(s.cert.Certificate[0])),
		}); err != nil {
			return err
		}
	}
	// URL() turns non-empty only now: callers may wait for it.
	s.mu.Lock()
	s.url = u
	s.mu.Unlock()
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      api.MaxLeaseWait + 15*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12},
	}
	hs.RegisterOnShutdown(s.stopPolls)
	errc := make(chan error, 1)
	go func() { errc <- hs.ServeTLS(ln, "", "") }()
	s.log.Info("control plane listening", "addr", addr, "url", s.URL())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func (s *Server) stopPolls() { s.doneOnce.Do(func() { close(s.done) }) }

// Close stops the background work, writes the pending heartbeats and closes
// the store.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.stopPolls()
		s.bgCancel()
		s.bgWG.Wait()
		err = errors.Join(s.flush(context.Background()), s.store.Close())
	})
	return err
}

// ---- secrets ----

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomID(prefix string) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b)
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func (s *Server) isAdmin(r *http.Request) bool {
	tok, ok := bearer(r)
	if !ok {
		return false
	}
	h := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(h[:], s.adminHash[:]) == 1
}

func bearer(r *http.Request) (string, bool) {
	v := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > 256 {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// allowRegister applies the per-IP registration rate limit.
func (s *Server) allowRegister(r *http.Request) (bool, time.Duration) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.limiters[ip]
	if l == nil {
		if len(s.limiters) > 10000 { // forget idle clients
			for k, v := range s.limiters {
				if now.Sub(v.seen) > time.Minute {
					delete(s.limiters, k)
				}
			}
		}
		l = &ipLimiter{l: rate.NewLimiter(rate.Limit(s.opts.RegisterRate), s.opts.RegisterBurst)}
		s.limiters[ip] = l
	}
	l.seen = now
	res := l.l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// keyString renders a runtime's key in the format agent/register parses.
func (s *Server) keyString(rt store.Runtime, secret string) string {
	k := fmt.Sprintf("SHIR@%s@%s@ServiceEndpoint=%s@%s", rt.ID, rt.Name, s.URL(), secret)
	if s.pin != nil {
		k += "@ca=sha256:" + hex.EncodeToString(s.pin)
	}
	return k
}
