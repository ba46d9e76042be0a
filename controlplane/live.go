package controlplane

import (
	"context"
	"encoding/json"
	"time"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/store"
)

// liveNode is a node as the running server sees it: the stored row plus the
// latest heartbeat, kept in memory (guarded by Server.mu) so that heartbeats
// and authentication do not touch the database.
type liveNode struct {
	id, runtimeID, name string
	tokenHash           string
	machine             api.MachineFacts
	registeredAt        time.Time
	concurrency         int // admin setting
	reported            int // node's default
	version             string
	lastSeen            time.Time
	online              bool
	metrics             api.Metrics
	update              api.UpdateStatus
	remoteAccess        string
	remoteFingerprint   string // in memory only: every heartbeat carries it again
	dirty               bool   // heartbeat not yet flushed
}

func newLiveNode(n store.Node) *liveNode {
	ln := &liveNode{
		id: n.ID, runtimeID: n.RuntimeID, name: n.Name, tokenHash: n.TokenHash, registeredAt: n.RegisteredAt,
		concurrency: n.Concurrency, reported: n.ReportedConcurrency, version: n.Version, lastSeen: n.LastSeen,
		remoteAccess: n.RemoteAccess,
	}
	_ = json.Unmarshal(n.Machine, &ln.machine)
	if len(n.Metrics) > 0 {
		_ = json.Unmarshal(n.Metrics, &ln.metrics)
	}
	if len(n.Update) > 0 {
		_ = json.Unmarshal(n.Update, &ln.update)
	}
	return ln
}

// limit is the node's effective concurrency: the admin's setting, else the
// node's reported default, else its CPU count (at least 1).
func (n *liveNode) limit() int {
	switch {
	case n.concurrency > 0:
		return n.concurrency
	case n.reported > 0:
		return min(n.reported, api.MaxConcurrency)
	case n.machine.CPUs > 0:
		return min(n.machine.CPUs, api.MaxConcurrency)
	}
	return 1
}

func (n *liveNode) status() string {
	if n.online {
		return api.StatusOnline
	}
	return api.StatusOffline
}

// load fills the in-memory tables from the store.
func (s *Server) load(ctx context.Context) error {
	rts, err := s.store.Runtimes(ctx)
	if err != nil {
		return err
	}
	nodes, err := s.store.Nodes(ctx, "")
	if err != nil {
		return err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rt := range rts {
		s.runtimes[rt.ID] = rt
	}
	for _, n := range nodes {
		ln := newLiveNode(n)
		ln.online = !ln.lastSeen.IsZero() && now.Sub(ln.lastSeen) <= s.offlineAfter()
		s.addNodeLocked(ln)
	}
	return nil
}

func (s *Server) offlineAfter() time.Duration { return 3 * s.opts.HeartbeatInterval }

func (s *Server) addNodeLocked(n *liveNode) {
	if old := s.nodes[n.id]; old != nil {
		delete(s.byToken, old.tokenHash)
	}
	s.nodes[n.id] = n
	s.byToken[n.tokenHash] = n
	m := s.byRT[n.runtimeID]
	if m == nil {
		m = map[string]*liveNode{}
		s.byRT[n.runtimeID] = m
	}
	m[n.id] = n
}

func (s *Server) removeNodeLocked(id string) {
	n := s.nodes[id]
	if n == nil {
		return
	}
	delete(s.nodes, id)
	delete(s.byToken, n.tokenHash)
	delete(s.byRT[n.runtimeID], id)
}

// runtimeStatusLocked: NeedsRegistration without nodes, Online when all
// are online, Offline when none is, Limited otherwise.
func (s *Server) runtimeStatusLocked(rtID string) (status string, count int) {
	nodes := s.byRT[rtID]
	online := 0
	for _, n := range nodes {
		if n.online {
			online++
		}
	}
	switch {
	case len(nodes) == 0:
		return api.StatusNeedsRegistration, 0
	case online == len(nodes):
		return api.StatusOnline, len(nodes)
	case online == 0:
		return api.StatusOffline, len(nodes)
	}
	return api.StatusLimited, len(nodes)
}

// rtQueue is what long polls know about a runtime's queue: a channel
// closed at the next notify, a generation counter, and whether the queue was
// seen empty since the last notify (then polls skip the database).
type rtQueue struct {
	wake  chan struct{}
	gen   uint64
	empty bool
}

// queueState returns the runtime's wake channel, generation and emptiness.
func (s *Server) queueState(rtID string) (<-chan struct{}, uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[rtID]
	if q == nil {
		q = &rtQueue{wake: make(chan struct{})}
		s.queues[rtID] = q
	}
	return q.wake, q.gen, q.empty
}

// markDrained records that a lease found the queue empty, unless a notify
// came after the state was read (then work may have arrived since).
func (s *Server) markDrained(rtID string, gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queues[rtID]; q != nil && q.gen == gen {
		q.empty = true
	}
}

// notify wakes the long polls of the runtimes (new job, freed slot, ...).
// It is called after the store committed the change.
func (s *Server) notify(rtIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range rtIDs {
		if q := s.queues[id]; q != nil {
			close(q.wake)
			q.wake, q.empty = make(chan struct{}), false
			q.gen++
		}
	}
}

func (s *Server) notifyJobs(jobs []store.Job) {
	seen := map[string]bool{}
	var ids []string
	for _, j := range jobs {
		if !seen[j.RuntimeID] {
			seen[j.RuntimeID] = true
			ids = append(ids, j.RuntimeID)
		}
	}
	s.notify(ids...)
}

// every runs fn every d until ctx ends (a background goroutine of bgWG).
func (s *Server) every(ctx context.Context, d time.Duration, fn func(context.Context)) {
	defer s.bgWG.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// sweep marks nodes offline after three missed heartbeats (releasing their
// leases) and expires leases that were not renewed.
func (s *Server) sweep(ctx context.Context) {
	now := s.now()
	var gone []string
	s.mu.Lock()
	for _, n := range s.nodes {
		if n.online && now.Sub(n.lastSeen) > s.offlineAfter() {
			n.online = false
			gone = append(gone, n.id)
		}
	}
	s.mu.Unlock()
	for _, id := range gone {
		s.log.Info("node offline: releasing its leases", "node", id)
		jobs, err := s.store.RequeueNode(ctx, id, now)
		if err != nil {
			s.log.Error("release leases of offline node", "node", id, "err", err)
			continue
		}
		s.notifyJobs(jobs)
	}
	jobs, err := s.store.ExpireLeases(ctx, now)
	if err != nil {
		s.log.Error("expire leases", "err", err)
		return
	}
	if len(jobs) > 0 {
		s.log.Info("leases expired", "jobs", len(jobs))
	}
	s.notifyJobs(jobs)
}

// flushTick is one tick of the heartbeat flusher.
func (s *Server) flushTick(ctx context.Context) {
	if err := s.flush(ctx); err != nil {
		s.log.Error("save heartbeats", "err", err)
	}
}

// flush writes the heartbeats received since the last flush, in batches of
// flushBatch rows per transaction so that job writes interleave. The node
// figures are copied under the lock and encoded outside it.
func (s *Server) flush(ctx context.Context) error {
	type snap struct {
		id, version, remote string
		seen                time.Time
		reported            int
		metrics             api.Metrics
		update              api.UpdateStatus
	}
	s.mu.Lock()
	var snaps []snap
	for _, n := range s.nodes {
		if n.dirty {
			n.dirty = false
			snaps = append(snaps, snap{n.id, n.version, n.remoteAccess, n.lastSeen, n.reported, n.metrics, n.update})
		}
	}
	s.mu.Unlock()
	var errs []error
	for start := 0; start < len(snaps); start += flushBatch {
		part := snaps[start:min(start+flushBatch, len(snaps))]
		hbs := make([]store.Heartbeat, len(part))
		for i, n := range part {
			m, _ := json.Marshal(n.metrics)
			u, _ := json.Marshal(n.update)
			hbs[i] = store.Heartbeat{NodeID: n.id, LastSeen: n.seen, Version: n.version, ReportedConcurrency: n.reported, Metrics: m, Update: u, RemoteAccess: n.remote}
		}
		if err := s.store.SaveHeartbeats(ctx, hbs); err != nil {
			errs = append(errs, err)
			s.mu.Lock()
			for _, h := range part {
				if n := s.nodes[h.id]; n != nil {
					n.dirty = true
				}
			}
			s.mu.Unlock()
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

const flushBatch = 256
