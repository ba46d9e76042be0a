package controlplane

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/store"
)

// checkText validates a free-text field: valid UTF-8, no control
// characters, at most max bytes; empty allowed unless required.
func checkText(field, v string, max int, required bool) *api.Problem {
	if v == "" {
		if required {
			return invalid(field, "is required")
		}
		return nil
	}
	if len(v) > max {
		return invalid(field, "must be at most %d bytes, got %d", max, len(v))
	}
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\t' {
			return invalid(field, "must not contain control characters")
		}
	}
	return nil
}

func checkMachine(m api.MachineFacts) *api.Problem {
	for _, c := range []struct {
		field, v string
		max      int
		req      bool
	}{
		{"machine.machineId", m.MachineID, 128, true},
		{"machine.hostname", m.Hostname, 255, false},
		{"machine.os", m.OS, 32, false},
		{"machine.arch", m.Arch, 32, false},
		{"machine.osVersion", m.OSVersion, 128, false},
		{"machine.remoteAccess", m.RemoteAccess, 300, false},
	} {
		if p := checkText(c.field, c.v, c.max, c.req); p != nil {
			return p
		}
	}
	if m.CPUs < 0 || m.CPUs > 4096 {
		return invalid("machine.cpus", "must be from 0 to 4096")
	}
	return nil
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	if ok, wait := s.allowRegister(r); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeProblem(w, &api.Problem{Type: api.ProblemRateLimited, Title: "too many registrations", Status: http.StatusTooManyRequests,
			Detail: "too many registrations from this address; retry after the Retry-After seconds"})
		return
	}
	var req api.RegisterRequest
	if p := decode(w, r, &req); p != nil {
		writeProblem(w, p)
		return
	}
	if req.RuntimeID == "" || req.KeySecret == "" {
		writeProblem(w, unauthorized())
		return
	}
	if err := api.CheckName(req.NodeName); err != nil {
		writeProblem(w, invalid("nodeName", "%v", err))
		return
	}
	if p := checkMachine(req.Machine); p != nil {
		writeProblem(w, p)
		return
	}
	if p := checkText("version", req.Version, 64, false); p != nil {
		writeProblem(w, p)
		return
	}
	rt, err := s.store.Runtime(r.Context(), req.RuntimeID)
	if errors.Is(err, store.ErrNotFound) || err == nil && rt.ID != req.RuntimeID {
		writeProblem(w, unauthorized())
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	k1 := subtle.ConstantTimeCompare([]byte(req.KeySecret), []byte(rt.Key1))
	k2 := subtle.ConstantTimeCompare([]byte(req.KeySecret), []byte(rt.Key2))
	if k1|k2 != 1 {
		s.log.Info("registration refused: wrong key", "runtime", rt.ID, "remote", r.RemoteAddr)
		writeProblem(w, unauthorized())
		return
	}
	machine, _ := json.Marshal(req.Machine)
	token := "shirn_" + randomString(32)
	n, rereg, err := s.store.Register(r.Context(), store.Registration{
		RuntimeID: rt.ID, NewNodeID: randomID("n-"), Name: req.NodeName, MachineID: req.Machine.MachineID,
		Machine: machine, TokenHash: hashToken(token), Version: req.Version, Now: s.now(),
	})
	switch {
	case errors.Is(err, store.ErrRuntimeFull):
		writeProblem(w, conflict(api.ProblemRuntimeFull, "runtime %q already has its maximum of %d nodes: remove a node or raise maxNodes", rt.Name, rt.MaxNodes))
		return
	case errors.Is(err, store.ErrNodeNameUsed):
		writeProblem(w, conflict(api.ProblemNodeNameTaken, "node name %q is used by another machine in runtime %q: choose another name or remove that node", req.NodeName, rt.Name))
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	ln := newLiveNode(n)
	s.mu.Lock()
	if old := s.nodes[n.ID]; old != nil {
		ln.lastSeen, ln.online, ln.metrics, ln.update, ln.reported = old.lastSeen, old.online, old.metrics, old.update, old.reported
	}
	s.addNodeLocked(ln)
	s.mu.Unlock()
	s.log.Info("node registered", "runtime", rt.ID, "node", n.ID, "name", n.Name, "reregistered", rereg)
	writeJSON(w, http.StatusOK, api.RegisterResponse{
		NodeID: n.ID, NodeToken: token, NodeName: n.Name, RuntimeID: rt.ID, RuntimeName: rt.Name, Reregistered: rereg,
		HeartbeatIntervalSeconds: int(s.opts.HeartbeatInterval / time.Second), Concurrency: n.Concurrency,
	})
}

func (s *Server) handleHeartbeat(w http.ResponseWriter, r *http.Request, n *liveNode) {
	var req api.HeartbeatRequest
	if p := decode(w, r, &req); p != nil {
		writeProblem(w, p)
		return
	}
	for _, c := range []struct {
		f, v string
		max  int
	}{{"version", req.Version, 64}, {"remoteAccess", req.RemoteAccess, 300}, {"update.state", req.Update.State, 32},
		{"update.targetVersion", req.Update.TargetVersion, 64}, {"update.message", req.Update.Message, 1024}} {
		if p := checkText(c.f, c.v, c.max, false); p != nil {
			writeProblem(w, p)
			return
		}
	}
	if f := req.RemoteFingerprint; f != "" && !isFingerprint(f) {
		writeProblem(w, invalid("remoteFingerprint", "must be sha256: followed by 64 lower-case hex digits"))
		return
	}
	if req.Concurrency < 0 || req.Concurrency > api.MaxConcurrency {
		writeProblem(w, invalid("concurrency", "must be from 0 to %d", api.MaxConcurrency))
		return
	}
	m := req.Metrics
	if m.CPUPercent < 0 || m.CPUPercent > 100 || math.IsNaN(m.CPUPercent) || m.RunningJobs < 0 {
		writeProblem(w, invalid("metrics", "cpuPercent must be 0-100 and runningJobs not negative"))
		return
	}
	now := s.now()
	s.mu.Lock()
	wasOnline := n.online
	n.lastSeen, n.online, n.dirty = now, true, true
	n.version, n.metrics, n.update, n.remoteAccess, n.reported = req.Version, req.Metrics, req.Update, req.RemoteAccess, req.Concurrency
	n.remoteFingerprint = req.RemoteFingerprint
	rt := s.runtimes[n.runtimeID]
	status, _ := s.runtimeStatusLocked(n.runtimeID)
	peers := make([]api.Peer, 0, len(s.byRT[n.runtimeID]))
	for _, p := range s.byRT[n.runtimeID] {
		if p.id != n.id {
			peers = append(peers, api.Peer{NodeID: p.id, Name: p.name, Status: p.status(), RemoteAccess: p.remoteAccess, Fingerprint: p.remoteFingerprint})
		}
	}
	limit := n.limit()
	s.mu.Unlock()
	if !wasOnline {
		s.log.Info("node online", "node", n.id)
		s.notify(n.runtimeID)
	}
	sort.Slice(peers, func(i, j int) bool { return peers[i].Name < peers[j].Name })
	writeJSON(w, http.StatusOK, api.HeartbeatResponse{
		NodeID: n.id, HeartbeatIntervalSeconds: int(s.opts.HeartbeatInterval / time.Second), Concurrency: limit,
		DesiredVersion: rt.DesiredVersion, VersionConstraint: rt.VersionConstraint, AutoUpdate: rt.AutoUpdate,
		RuntimeStatus: status, Peers: peers,
	})
}

func leaseOf(j store.Job) api.Lease {
	return api.Lease{JobID: j.ID, Kind: j.Kind, Spec: j.Spec, Attempt: j.Attempts, MaxAttempts: j.MaxAttempts,
		LeaseSeconds: j.LeaseSeconds, LeaseExpiresAt: j.LeaseExpiresAt.UTC()}
}

func (s *Server) handleLease(w http.ResponseWriter, r *http.Request, n *liveNode) {
	var req api.LeaseRequest
	if p := decode(w, r, &req); p != nil {
		writeProblem(w, p)
		return
	}
	if req.WaitSeconds < 0 || req.WaitSeconds > int(api.MaxLeaseWait/time.Second) {
		writeProblem(w, invalid("waitSeconds", "must be from 0 to %d", int(api.MaxLeaseWait/time.Second)))
		return
	}
	if req.Max < 0 || req.Max > api.MaxConcurrency {
		writeProblem(w, invalid("max", "must be from 0 to %d", api.MaxConcurrency))
		return
	}
	if req.Max == 0 {
		req.Max = 1
	}
	timer := time.NewTimer(time.Duration(req.WaitSeconds) * time.Second)
	defer timer.Stop()
	for {
		wake, gen, empty := s.queueState(n.runtimeID)
		s.mu.Lock()
		limit := n.limit()
		_, present := s.nodes[n.id]
		s.mu.Unlock()
		if !present { // removed while waiting
			writeProblem(w, unauthorized())
			return
		}
		if !empty {
			jobs, drained, err := s.store.Lease(r.Context(), store.LeaseRequest{NodeID: n.id, RuntimeID: n.runtimeID, Limit: limit, Max: req.Max, Now: s.now()})
			if err != nil {
				if r.Context().Err() != nil {
					return
				}
				s.fail(w, r, err)
				return
			}
			if drained {
				s.markDrained(n.runtimeID, gen)
			}
			if len(jobs) > 0 {
				resp := api.LeaseResponse{Jobs: make([]api.Lease, len(jobs))}
				for i, j := range jobs {
					resp.Jobs[i] = leaseOf(j)
				}
				writeJSON(w, http.StatusOK, resp)
				return
			}
		}
		select {
		case <-wake:
			continue
		case <-timer.C:
		case <-r.Context().Done():
			return
		case <-s.done:
		}
		writeJSON(w, http.StatusOK, api.LeaseResponse{Jobs: []api.Lease{}})
		return
	}
}

func checkAttempt(a int) *api.Problem {
	if a < 1 {
		return invalid("attempt", "must be the lease's attempt number (1 or more)")
	}
	return nil
}

// decodeJobReport decodes a node's request about a leased job and checks its
// attempt number. On failure it has written the problem and returns false.
func decodeJobReport(w http.ResponseWriter, r *http.Request, req any, attempt *int) bool {
	if p := decode(w, r, req); p != nil {
		writeProblem(w, p)
		return false
	}
	if p := checkAttempt(*attempt); p != nil {
		writeProblem(w, p)
		return false
	}
	return true
}

func (s *Server) handleRenew(w http.ResponseWriter, r *http.Request, n *liveNode) {
	var req api.RenewRequest
	if !decodeJobReport(w, r, &req, &req.Attempt) {
		return
	}
	j, err := s.store.Renew(r.Context(), r.PathValue("id"), n.id, req.Attempt, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.RenewResponse{LeaseExpiresAt: j.LeaseExpiresAt.UTC(), Cancel: j.CancelRequested})
}

func (s *Server) handleProgress(w http.ResponseWriter, r *http.Request, n *liveNode) {
	var req api.ProgressRequest
	if !decodeJobReport(w, r, &req, &req.Attempt) {
		return
	}
	if req.Percent < 0 || req.Percent > 100 || math.IsNaN(req.Percent) {
		writeProblem(w, invalid("percent", "must be from 0 to 100"))
		return
	}
	if req.Bytes < 0 {
		writeProblem(w, invalid("bytes", "must not be negative"))
		return
	}
	if p := checkText("message", req.Message, 1024, false); p != nil {
		writeProblem(w, p)
		return
	}
	j, err := s.store.ReportProgress(r.Context(), store.Progress{JobID: r.PathValue("id"), NodeID: n.id, Attempt: req.Attempt,
		Percent: req.Percent, Message: req.Message, Bytes: req.Bytes, Now: s.now()})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.RenewResponse{LeaseExpiresAt: j.LeaseExpiresAt.UTC(), Cancel: j.CancelRequested})
}

func (s *Server) handleResult(w http.ResponseWriter, r *http.Request, n *liveNode) {
	var req api.ResultRequest
	if !decodeJobReport(w, r, &req, &req.Attempt) {
		return
	}
	switch req.Outcome {
	case api.OutcomeSucceeded, api.OutcomeFailed, api.OutcomeCancelled, api.OutcomeReleased:
	default:
		writeProblem(w, invalid("outcome", "must be %q, %q, %q or %q", api.OutcomeSucceeded, api.OutcomeFailed, api.OutcomeCancelled, api.OutcomeReleased))
		return
	}
	if len(req.Error) > 4096 || !utf8.ValidString(req.Error) {
		writeProblem(w, invalid("error", "must be valid UTF-8 of at most 4096 bytes"))
		return
	}
	if len(req.Output) > api.MaxOutputBytes {
		writeProblem(w, invalid("output", "must be at most %d bytes", api.MaxOutputBytes))
		return
	}
	j, err := s.store.Finish(r.Context(), store.Result{JobID: r.PathValue("id"), NodeID: n.id, Attempt: req.Attempt, Outcome: req.Outcome,
		Retryable: req.Retryable, Error: req.Error, Output: req.Output, Now: s.now()})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.notify(n.runtimeID) // a slot is free, or the job is queued again
	writeJSON(w, http.StatusOK, s.jobView(j))
}

func (s *Server) jobView(j store.Job) api.Job {
	return api.Job{ID: j.ID, RuntimeID: j.RuntimeID, Kind: j.Kind, Spec: j.Spec, State: j.State, Attempts: j.Attempts,
		MaxAttempts: j.MaxAttempts, LeaseSeconds: j.LeaseSeconds, NodeID: j.NodeID, LeaseExpiresAt: s.apiTime(j.LeaseExpiresAt),
		CancelRequested: j.CancelRequested, Progress: j.Progress, ProgressMessage: j.ProgressMessage, ProgressBytes: j.ProgressBytes,
		Error: j.Error, Output: j.Output, CreatedAt: s.apiTime(j.CreatedAt), StartedAt: s.apiTime(j.StartedAt), FinishedAt: s.apiTime(j.FinishedAt)}
}

// isFingerprint: "sha256:" and 64 lower-case hex digits.
func isFingerprint(s string) bool {
	h, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	for _, r := range h {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
