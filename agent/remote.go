package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/internal/credstore"
	"github.com/shirhq/shir/internal/nodecert"
	"github.com/shirhq/shir/internal/nodeconfig"
)

// Remote-access defaults (Options.RemotePoll, Options.SyncInterval).
const (
	DefaultRemotePoll   = 500 * time.Millisecond
	DefaultSyncInterval = 2 * time.Minute
	// PathCredentials is the one endpoint of the remote-access channel:
	// GET returns the node's credential set (tombstones and secrets
	// included), POST merges the caller's set.
	PathCredentials = "/v1/credentials"
	maxSyncBody     = 32 << 20
	syncTimeout     = 30 * time.Second
)

// credentialSet is the body of PathCredentials.
type credentialSet struct {
	Credentials []credstore.Credential `json:"credentials"`
}

// remote runs the remote-access listener and the credential sync of one
// node (see the package doc, "Remote access").
type remote struct {
	stateDir     string
	name         string
	hostOverride string
	endpoint     string
	creds        *credstore.Store
	log          *slog.Logger
	poll         time.Duration
	syncEvery    time.Duration

	kick chan struct{}
	// refresh asks the heartbeat loop for an early heartbeat: a client
	// presented an unknown certificate, perhaps a node that joined since
	// the last reply.
	refresh chan struct{}

	mu        sync.Mutex
	setting   nodeconfig.RemoteAccess
	cert      *nodecert.Cert
	srv       *http.Server
	port      int
	localHost string
	peers     []api.Peer
	peerSig   string
	byFP      map[string]api.Peer
}

func newRemote(stateDir, name, hostOverride, endpoint string, creds *credstore.Store, log *slog.Logger, poll, syncEvery time.Duration) *remote {
	if poll <= 0 {
		poll = DefaultRemotePoll
	}
	if syncEvery <= 0 {
		syncEvery = DefaultSyncInterval
	}
	return &remote{stateDir: stateDir, name: name, hostOverride: hostOverride, endpoint: endpoint, creds: creds,
		log: log.With("component", "remote-access"), poll: poll, syncEvery: syncEvery, kick: make(chan struct{}, 1), refresh: make(chan struct{}, 1), byFP: map[string]api.Peer{}}
}

// advertise returns host:port and the certificate fingerprint for the
// heartbeat; both empty when the listener is off.
func (r *remote) advertise() (addr, fingerprint string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv == nil || r.cert == nil {
		return "", ""
	}
	host := r.hostOverride
	if host == "" {
		host = r.localHost
	}
	if host == "" {
		host = guessLocalHost(r.endpoint)
	}
	if host == "" {
		return "", ""
	}
	return net.JoinHostPort(host, strconv.Itoa(r.port)), r.cert.Fingerprint
}

// setLocalHost records the local address of the control-plane connection.
func (r *remote) setLocalHost(h string) {
	r.mu.Lock()
	r.localHost = h
	r.mu.Unlock()
}

// setPeers takes the peer list of a heartbeat reply; a change (a peer,
// its address or its fingerprint) starts a sync.
func (r *remote) setPeers(peers []api.Peer) {
	var sb strings.Builder
	byFP := map[string]api.Peer{}
	for _, p := range peers {
		fmt.Fprintf(&sb, "%s|%s|%s;", p.NodeID, p.RemoteAccess, p.Fingerprint)
		if p.Fingerprint != "" {
			byFP[p.Fingerprint] = p
		}
	}
	r.mu.Lock()
	changed := sb.String() != r.peerSig
	r.peers, r.peerSig, r.byFP = peers, sb.String(), byFP
	r.mu.Unlock()
	if changed {
		r.trigger()
	}
}

func (r *remote) trigger() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *remote) peerByFP(fp string) (api.Peer, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.byFP[fp]
	return p, ok
}

type stamp struct {
	mod  time.Time
	size int64
	ok   bool
}

func stampOf(path string) stamp {
	st, err := os.Stat(path)
	if err != nil {
		return stamp{}
	}
	return stamp{st.ModTime(), st.Size(), true}
}

// run watches the setting and the credential file until ctx ends, and
// syncs on a kick, on a local change and every syncEvery. A sync that
// failed with some peer is retried after a backoff (poll, doubling, up to
// syncEvery): a peer that restarts, or that has not yet heard of this node
// from the control plane, is caught up within seconds.
func (r *remote) run(ctx context.Context) {
	defer r.stop()
	settingPath := filepath.Join(r.stateDir, nodeconfig.RemoteAccessFile)
	credPath := filepath.Join(r.stateDir, credstore.File)
	var setStamp, credStamp stamp
	var lastTry time.Time
	first := true
	tick := time.NewTicker(r.poll)
	defer tick.Stop()
	lastSync := time.Now()
	var retryAt time.Time
	retry := time.Duration(0)
	doSync := func() {
		// The stamp from before the sync: a change made while it runs is
		// seen by the next check (and a merge written by this sync costs
		// one more, empty, round).
		credStamp = stampOf(credPath)
		ok := r.syncAll(ctx)
		lastSync = time.Now()
		if ok {
			retry, retryAt = 0, time.Time{}
			return
		}
		retry = min(max(2*retry, r.poll), r.syncEvery)
		retryAt = time.Now().Add(retry)
	}
	for {
		if s := stampOf(settingPath); first || s != setStamp || (r.failed() && time.Since(lastTry) > 10*r.poll) {
			setStamp, lastTry = s, time.Now()
			r.reload()
		}
		if s := stampOf(credPath); !first && s != credStamp {
			r.trigger()
			credStamp = s
		} else if first {
			credStamp = s
		}
		first = false
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
			doSync()
		case <-tick.C:
			if time.Since(lastSync) >= r.syncEvery || !retryAt.IsZero() && time.Now().After(retryAt) {
				doSync()
			}
		}
	}
}

// failed: remote access is on in the file but the listener is not up.
func (r *remote) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.setting.Enabled && r.srv == nil
}

// reload applies the setting file: start, restart or stop the listener.
func (r *remote) reload() {
	ra, err := nodeconfig.LoadRemoteAccess(r.stateDir)
	if err != nil {
		r.log.Error("remote-access setting unreadable; listener stays as it is", "err", err)
		return
	}
	r.mu.Lock()
	same := ra == r.setting && (r.srv != nil) == ra.Enabled
	r.mu.Unlock()
	if same {
		return
	}
	r.stop()
	r.mu.Lock()
	r.setting = ra
	r.mu.Unlock()
	if !ra.Enabled {
		return
	}
	cert, err := nodecert.Load(ra, r.stateDir, r.name, time.Now())
	if err != nil {
		r.log.Error("remote access not started", "err", err)
		return
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(ra.Port)))
	if err != nil {
		r.log.Error("remote access not started", "port", ra.Port, "err", err)
		return
	}
	tlsCfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert.TLS},
		ClientAuth:   tls.RequireAnyClientCert,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no client certificate")
			}
			fp := nodecert.Fingerprint(raw[0])
			if _, ok := r.peerByFP(fp); !ok {
				select {
				case r.refresh <- struct{}{}:
				default:
				}
				return fmt.Errorf("client certificate %s is not a current peer of this runtime", fp)
			}
			return nil
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc(PathCredentials, r.serveCredentials)
	srv := &http.Server{
		Handler: mux, TLSConfig: tlsCfg, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(r.log.Handler(), slog.LevelWarn),
	}
	r.mu.Lock()
	r.srv, r.cert, r.port = srv, &cert, ln.Addr().(*net.TCPAddr).Port
	r.mu.Unlock()
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.Error("remote-access listener stopped", "err", err)
		}
	}()
	r.log.Info("remote access listening", "port", r.port, "certificate", cert.Source, "fingerprint", cert.Fingerprint, "inContainer", ra.InContainer)
	r.trigger()
}

// stop closes the listener (remote access off, or shutdown).
func (r *remote) stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv, r.cert, r.port = nil, nil, 0
	r.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
		r.log.Info("remote access stopped")
	}
}

// serveCredentials is PathCredentials. The handshake already checked the
// client; the peer is looked up again because the peer list may have
// changed since the connection was made.
func (r *remote) serveCredentials(w http.ResponseWriter, req *http.Request) {
	if req.TLS == nil || len(req.TLS.PeerCertificates) == 0 {
		http.Error(w, "client certificate required", http.StatusUnauthorized)
		return
	}
	fp := nodecert.Fingerprint(req.TLS.PeerCertificates[0].Raw)
	peer, ok := r.peerByFP(fp)
	if !ok {
		r.log.Warn("remote-access request refused: not a current peer", "fingerprint", fp)
		http.Error(w, "not a current peer of this runtime", http.StatusForbidden)
		return
	}
	switch req.Method {
	case http.MethodGet:
		set, err := r.creds.Snapshot()
		if err != nil {
			r.log.Error("credential sync: local store", "err", err)
			http.Error(w, "credential store unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(credentialSet{Credentials: set})
	case http.MethodPost:
		var set credentialSet
		if err := json.NewDecoder(io.LimitReader(req.Body, maxSyncBody)).Decode(&set); err != nil {
			http.Error(w, "bad credential set", http.StatusBadRequest)
			return
		}
		changed, err := r.creds.MergeFrom(set.Credentials)
		if err != nil {
			r.log.Warn("credential set from a peer refused", "peer", peer.Name, "err", err)
			http.Error(w, "credential set refused", http.StatusBadRequest)
			return
		}
		if len(changed) > 0 {
			r.log.Info("credentials merged from a peer", "peer", peer.Name, "changed", len(changed))
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// syncAll exchanges credential sets with every peer that advertises
// remote access; false when one of them failed.
func (r *remote) syncAll(ctx context.Context) bool {
	r.mu.Lock()
	cert, peers := r.cert, append([]api.Peer(nil), r.peers...)
	r.mu.Unlock()
	if cert == nil {
		return true
	}
	ok := true
	sort.Slice(peers, func(i, j int) bool { return peers[i].Name < peers[j].Name })
	for _, p := range peers {
		if p.RemoteAccess == "" || p.Fingerprint == "" || p.Status == api.StatusOffline {
			continue
		}
		if err := r.syncPeer(ctx, cert.TLS, p); err != nil && ctx.Err() == nil {
			ok = false
			r.log.Warn("credential sync with a peer failed", "peer", p.Name, "address", p.RemoteAccess, "err", err)
		}
	}
	return ok
}

// peerClient is an HTTPS client that presents cert and accepts only the
// certificate whose fingerprint p advertises.
func peerClient(cert tls.Certificate, p api.Peer) *http.Client {
	return &http.Client{Timeout: syncTimeout, Transport: &http.Transport{
		Proxy: nil, // peers talk directly, never through the HTTP proxy
		TLSClientConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			Certificates:       []tls.Certificate{cert},
			InsecureSkipVerify: true, // the fingerprint check below replaces chain verification
			VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
				if len(raw) == 0 {
					return errors.New("no server certificate")
				}
				if fp := nodecert.Fingerprint(raw[0]); fp != p.Fingerprint {
					return fmt.Errorf("peer %s presented certificate %s, but the control plane advertises %s", p.Name, fp, p.Fingerprint)
				}
				return nil
			},
		},
	}}
}

// syncPeer pulls p's set and merges it here, then pushes ours when p lacks
// something newer.
func (r *remote) syncPeer(ctx context.Context, cert tls.Certificate, p api.Peer) error {
	hc := peerClient(cert, p)
	defer hc.CloseIdleConnections()
	u := (&url.URL{Scheme: "https", Host: p.RemoteAccess, Path: PathCredentials}).String()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	var theirs credentialSet
	err = json.NewDecoder(io.LimitReader(resp.Body, maxSyncBody)).Decode(&theirs)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if err != nil {
		return fmt.Errorf("GET %s: bad credential set", u)
	}
	changed, err := r.creds.MergeFrom(theirs.Credentials)
	if err != nil {
		return fmt.Errorf("credential set of %s refused: %w", p.Name, err)
	}
	if len(changed) > 0 {
		r.log.Info("credentials merged from a peer", "peer", p.Name, "changed", len(changed))
	}
	mine, err := r.creds.Snapshot()
	if err != nil {
		return err
	}
	if _, need := credstore.Merge(credstore.ToMap(theirs.Credentials), credstore.ToMap(mine)); len(need) == 0 {
		return nil
	}
	body, err := json.Marshal(credentialSet{Credentials: mine})
	if err != nil {
		return err
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err = hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("POST %s: %s", u, resp.Status)
	}
	return nil
}

// guessLocalHost returns the local IP the system would use to reach the
// control plane (a UDP "connect" sends nothing).
func guessLocalHost(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	c, err := net.Dial("udp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return ""
	}
	defer c.Close()
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
		return a.IP.String()
	}
	return ""
}

// waitBeat waits d before the next heartbeat, or less when a refresh is
// asked for (but never less than MinEarlyBeat after the last one). False
// when ctx ends.
func (r *remote) waitBeat(ctx context.Context, d time.Duration) bool {
	earliest := time.Now().Add(minEarlyBeat)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	case <-r.refresh:
		if w := time.Until(earliest); w > 0 {
			return sleep(ctx, min(w, d))
		}
		return true
	}
}

// minEarlyBeat bounds early heartbeats (see waitBeat).
const minEarlyBeat = time.Second
