package controlplane

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	version "github.com/hashicorp/go-version"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/store"
)

// resolveRuntime finds a runtime by ID or name (from the path).
func (s *Server) resolveRuntime(w http.ResponseWriter, r *http.Request) (store.Runtime, bool) {
	rt, err := s.store.Runtime(r.Context(), r.PathValue("rt"))
	if err != nil {
		s.fail(w, r, err)
		return rt, false
	}
	return rt, true
}

func (s *Server) runtimeView(rt store.Runtime, withNodes bool) api.Runtime {
	s.mu.Lock()
	defer s.mu.Unlock()
	status, count := s.runtimeStatusLocked(rt.ID)
	v := api.Runtime{ID: rt.ID, Name: rt.Name, Description: rt.Description, MaxNodes: rt.MaxNodes, Status: status,
		DesiredVersion: rt.DesiredVersion, VersionConstraint: rt.VersionConstraint, AutoUpdate: rt.AutoUpdate,
		CreatedAt: rt.CreatedAt.UTC(), NodeCount: count}
	if withNodes {
		for _, n := range s.byRT[rt.ID] {
			v.Nodes = append(v.Nodes, s.nodeViewLocked(n))
		}
		sort.Slice(v.Nodes, func(i, j int) bool { return v.Nodes[i].Name < v.Nodes[j].Name })
	}
	return v
}

func (s *Server) nodeViewLocked(n *liveNode) api.Node {
	return api.Node{ID: n.id, Name: n.name, RuntimeID: n.runtimeID, Machine: n.machine, Version: n.version, Status: n.status(),
		RegisteredAt: s.apiTime(n.registeredAt), LastSeen: s.apiTime(n.lastSeen), Concurrency: n.concurrency,
		ReportedConcurrency: n.reported, Metrics: n.metrics, Update: n.update}
}

func (s *Server) handleListRuntimes(w http.ResponseWriter, r *http.Request) {
	rts, err := s.store.Runtimes(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := api.RuntimeList{Runtimes: []api.Runtime{}}
	for _, rt := range rts {
		out.Runtimes = append(out.Runtimes, s.runtimeView(rt, false))
	}
	writeJSON(w, http.StatusOK, out)
}

func checkMaxNodes(n int) *api.Problem {
	if n < 1 || n > api.MaxMaxNodes {
		return invalid("maxNodes", "must be from 1 to %d", api.MaxMaxNodes)
	}
	return nil
}

func (s *Server) handleCreateRuntime(w http.ResponseWriter, r *http.Request) {
	var req api.CreateRuntimeRequest
	if p := decode(w, r, &req); p != nil {
		writeProblem(w, p)
		return
	}
	if err := api.CheckName(req.Name); err != nil {
		writeProblem(w, invalid("name", "%v", err))
		return
	}
	if p := checkText("description", req.Description, 512, false); p != nil {
		writeProblem(w, p)
		return
	}
	if req.MaxNodes == 0 {
		req.MaxNodes = api.DefaultMaxNodes
	}
	if p := checkMaxNodes(req.MaxNodes); p != nil {
		writeProblem(w, p)
		return
	}
	rt := store.Runtime{ID: randomID("rt-"), Name: req.Name, Description: req.Description, MaxNodes: req.MaxNodes,
		Key1: randomString(32), Key2: randomString(32), CreatedAt: s.now()}
	if err := s.store.CreateRuntime(r.Context(), rt); err != nil {
		s.fail(w, r, err)
		return
	}
	s.mu.Lock()
	s.runtimes[rt.ID] = rt
	s.mu.Unlock()
	s.log.Info("runtime created", "runtime", rt.ID, "name", rt.Name)
	writeJSON(w, http.StatusCreated, s.runtimeView(rt, true))
}

func (s *Server) handleShowRuntime(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.resolveRuntime(w, r)
	if !ok {
		return
	}
	v := s.runtimeView(rt, true)
	// Leased job counts per node, from the store.
	jobs, err := s.store.Jobs(r.Context(), store.JobFilter{RuntimeID: rt.ID, State: api.JobLeased, Limit: 100000})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	held := map[string]int{}
	for _, j := range jobs {
		held[j.NodeID]++
	}
	for i := range v.Nodes {
		v.Nodes[i].LeasedJobs = held[v.Nodes[i].ID]
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleUpdateRuntime(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.resolveRuntime(w, r)
	if !ok {
		return
	}
	var req api.UpdateRuntimeRequest
	if p := decode(w, r, &req); p != nil {
		writeProblem(w, p)
		return
	}
	if req.Description != nil {
		if p := checkText("description", *req.Description, 512, false); p != nil {
			writeProblem(w, p)
			return
		}
		rt.Description = *req.Description
	}
	if req.MaxNodes != nil {
		if p := checkMaxNodes(*req.MaxNodes); p != nil {
			writeProblem(w, p)
			return
		}
		s.mu.Lock()
		have := len(s.byRT[rt.ID])
		s.mu.Unlock()
		if *req.MaxNodes < have {
			writeProblem(w, conflict(api.ProblemConflict, "runtime %q has %d nodes, more than maxNodes %d: remove nodes first", rt.Name, have, *req.MaxNodes))
			return
		}
		rt.MaxNodes = *req.MaxNodes
	}
	if req.DesiredVersion != nil {
		if v := *req.DesiredVersion; v != "" {
			if _, err := version.NewVersion(v); err != nil || len(v) > 64 {
				writeProblem(w, invalid("desiredVersion", "must be a version such as 1.2.3"))
				return
			}
		}
		rt.DesiredVersion = *req.DesiredVersion
	}
	if req.VersionConstraint != nil {
		if c := *req.VersionConstraint; c != "" {
			if _, err := version.NewConstraint(c); err != nil || len(c) > 128 {
				writeProblem(w, invalid("versionConstraint", "must be a constraint such as \">= 1.2, < 2.0\""))
				return
			}
		}
		rt.VersionConstraint = *req.VersionConstraint
	}
	if req.AutoUpdate != nil {
		v := *req.AutoUpdate
		rt.AutoUpdate = &v
	}
	if err := s.store.UpdateRuntime(r.Context(), rt); err != nil {
		s.fail(w, r, err)
		return
	}
	s.mu.Lock()
	s.runtimes[rt.ID] = rt
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.runtimeView(rt, true))
}

func (s *Server) handleDeleteRuntime(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.resolveRuntime(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteRuntime(r.Context(), rt.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.mu.Lock()
	for id := range s.byRT[rt.ID] {
		s.removeNodeLocked(id)
	}
	delete(s.byRT, rt.ID)
	delete(s.runtimes, rt.ID)
	s.mu.Unlock()
	s.notify(rt.ID)
	s.log.Info("runtime deleted", "runtime", rt.ID)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) keysView(rt store.Runtime) api.Keys {
	return api.Keys{RuntimeID: rt.ID, Key1: s.keyString(rt, rt.Key1), Key2: s.keyString(rt, rt.Key2)}
}

func (s *Server) handleKeys(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.resolveRuntime(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, s.keysView(rt))
}

func (s *Server) handleRegenerate(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.resolveRuntime(w, r)
	if !ok {
		return
	}
	slot := map[string]int{"key1": 1, "key2": 2}[r.PathValue("slot")]
	if slot == 0 {
		writeProblem(w, invalid("key", "must be key1 or key2"))
		return
	}
	secret := randomString(32)
	if err := s.store.SetKey(r.Context(), rt.ID, slot, secret); err != nil {
		s.fail(w, r, err)
		return
	}
	if slot == 1 {
		rt.Key1 = secret
	} else {
		rt.Key2 = secret
	}
	s.mu.Lock()
	s.runtimes[rt.ID] = rt
	s.mu.Unlock()
	s.log.Info("key regenerated", "runtime", rt.ID, "key", slot)
	writeJSON(w, http.StatusOK, s.keysView(rt))
}

// resolveNode finds a node of rt by ID or name.
func (s *Server) resolveNode(w http.ResponseWriter, rt store.Runtime, ref string) (*liveNode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.byRT[rt.ID] {
		if n.id == ref {
			return n, true
		}
	}
	for _, n := range s.byRT[rt.ID] {
		if n.name == ref {
			return n, true
		}
	}
	writeProblem(w, &api.Problem{Type: api.ProblemNotFound, Title: "not found", Status: 404,
		Detail: "runtime " + strconv.Quote(rt.Name) + " has no node " + strconv.Quote(ref)})
	return nil, false
}

func (s *Server) handleRemoveNode(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.resolveRuntime(w, r)
	if !ok {
		return
	}
	n, ok := s.resolveNode(w, rt, r.PathValue("node"))
	if !ok {
		return
	}
	jobs, err := s.store.DeleteNode(r.Context(), n.id, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.mu.Lock()
	s.removeNodeLocked(n.id)
	s.mu.Unlock()
	s.notifyJobs(jobs)
	s.notify(rt.ID) // wake the removed node's long poll
	s.log.Info("node removed", "runtime", rt.ID, "node", n.id, "requeued", len(jobs))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleSetConcurrency(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.resolveRuntime(w, r)
	if !ok {
		return
	}
	n, ok := s.resolveNode(w, rt, r.PathValue("node"))
	if !ok {
		return
	}
	var req api.SetConcurrencyRequest
	if p := decode(w, r, &req); p != nil {
		writeProblem(w, p)
		return
	}
	if req.Concurrency < 0 || req.Concurrency > api.MaxConcurrency {
		writeProblem(w, invalid("concurrency", "must be from 1 to %d, or 0 for the node's default", api.MaxConcurrency))
		return
	}
	if err := s.store.SetConcurrency(r.Context(), n.id, req.Concurrency); err != nil {
		s.fail(w, r, err)
		return
	}
	s.mu.Lock()
	n.concurrency = req.Concurrency
	v := s.nodeViewLocked(n)
	s.mu.Unlock()
	s.notify(rt.ID)
	writeJSON(w, http.StatusOK, v)
}

// ---- jobs ----

func (s *Server) handleListJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f store.JobFilter
	if ref := q.Get("runtime"); ref != "" {
		rt, err := s.store.Runtime(r.Context(), ref)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f.RuntimeID = rt.ID
	}
	if st := q.Get("state"); st != "" {
		if !slices.Contains(api.JobStates, st) {
			writeProblem(w, invalid("state", "must be one of %s", strings.Join(api.JobStates, ", ")))
			return
		}
		f.State = st
	}
	f.NodeID = q.Get("node")
	var p *api.Problem
	if f.Limit, p = queryInt(r, "limit", 100, 1, 1000); p != nil {
		writeProblem(w, p)
		return
	}
	jobs, err := s.store.Jobs(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := api.JobList{Jobs: make([]api.Job, len(jobs))}
	for i, j := range jobs {
		out.Jobs[i] = s.jobView(j)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleSubmitJob(w http.ResponseWriter, r *http.Request) {
	var req api.SubmitJobRequest
	if p := decode(w, r, &req); p != nil {
		writeProblem(w, p)
		return
	}
	if req.Runtime == "" {
		writeProblem(w, invalid("runtime", "is required (a runtime ID or name)"))
		return
	}
	rt, err := s.store.Runtime(r.Context(), req.Runtime)
	if errors.Is(err, store.ErrNotFound) {
		writeProblem(w, invalid("runtime", "no runtime %q", req.Runtime))
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	spec, p := CheckSpec(req.Kind, req.Spec)
	if p != nil {
		writeProblem(w, p)
		return
	}
	if req.MaxAttempts == 0 {
		req.MaxAttempts = api.DefaultMaxAttempts
	}
	if req.MaxAttempts < 1 || req.MaxAttempts > 20 {
		writeProblem(w, invalid("maxAttempts", "must be from 1 to 20"))
		return
	}
	if req.LeaseSeconds == 0 {
		req.LeaseSeconds = int(api.DefaultLeaseDuration.Seconds())
	}
	if req.LeaseSeconds < 10 || req.LeaseSeconds > 3600 {
		writeProblem(w, invalid("leaseSeconds", "must be from 10 to 3600"))
		return
	}
	j, err := s.store.CreateJob(r.Context(), store.Job{ID: randomID("j-"), RuntimeID: rt.ID, Kind: req.Kind, Spec: spec,
		MaxAttempts: req.MaxAttempts, LeaseSeconds: req.LeaseSeconds, CreatedAt: s.now()})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.notify(rt.ID)
	writeJSON(w, http.StatusCreated, s.jobView(j))
}

func (s *Server) handleShowJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.store.Job(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.jobView(j))
}

func (s *Server) handleCancelJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.store.Cancel(r.Context(), r.PathValue("id"), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.jobView(j))
}

// CheckSpec validates a job's kind and spec and returns the spec in compact
// form. Unknown fields are rejected; errors name the field as "spec.x".
func CheckSpec(kind string, raw json.RawMessage) (json.RawMessage, *api.Problem) {
	if !slices.Contains(api.JobKinds, kind) {
		return nil, invalid("kind", "must be one of %s", strings.Join(api.JobKinds, ", "))
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, invalid("spec", "is required for a %s job", kind)
	}
	if len(raw) > api.MaxSpecBytes {
		return nil, invalid("spec", "must be at most %d bytes", api.MaxSpecBytes)
	}
	specErr := func(err error) *api.Problem {
		p := jsonProblem(err)
		f := "spec"
		if p.Field != "body" {
			f = "spec." + p.Field
		}
		return invalid(f, "%s", strings.TrimPrefix(p.Detail, p.Field+": "))
	}
	switch kind {
	case api.KindCopy:
		var c api.CopySpec
		if err := api.DecodeStrict(raw, &c); err != nil {
			return nil, specErr(err)
		}
		if p := checkText("spec.source", c.Source, 2048, true); p != nil {
			return nil, p
		}
		if u, err := url.Parse(c.Source); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
			return nil, invalid("spec.source", "URL has no host")
		}
		if p := checkText("spec.sink", c.Sink, 2048, true); p != nil {
			return nil, p
		}
		if strings.Contains(c.Sink, "://") {
			return nil, invalid("spec.sink", "must be a file path on the node, not a URL")
		}
		if c.SHA256 != "" {
			if b, err := hex.DecodeString(c.SHA256); err != nil || len(b) != 32 {
				return nil, invalid("spec.sha256", "must be 64 hex digits")
			}
		}
		if c.Credential != "" {
			if err := api.CheckCredentialName(c.Credential); err != nil {
				return nil, invalid("spec.credential", "%v", err)
			}
			if u, err := url.Parse(c.Source); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				return nil, invalid("spec.credential", "is only used with an http(s) source")
			}
		}
	case api.KindTestConnection:
		var c api.TestConnectionSpec
		if err := api.DecodeStrict(raw, &c); err != nil {
			return nil, specErr(err)
		}
		if p := checkText("spec.address", c.Address, 2048, true); p != nil {
			return nil, p
		}
		switch c.Protocol {
		case "tcp", "tls":
			host, port, err := net.SplitHostPort(c.Address)
			pn, perr := strconv.Atoi(port)
			if err != nil || host == "" || perr != nil || pn < 1 || pn > 65535 {
				return nil, invalid("spec.address", "must be host:port with a port from 1 to 65535 for %s", c.Protocol)
			}
		case "http":
			u, err := url.Parse(c.Address)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, invalid("spec.address", "must be an http:// or https:// URL for http")
			}
		default:
			return nil, invalid("spec.protocol", "must be tcp, tls or http")
		}
		if c.TimeoutSeconds < 0 || c.TimeoutSeconds > 300 {
			return nil, invalid("spec.timeoutSeconds", "must be from 0 to 300")
		}
	case api.KindExec:
		var c api.ExecSpec
		if err := api.DecodeStrict(raw, &c); err != nil {
			return nil, specErr(err)
		}
		if p := checkText("spec.command", c.Command, 1024, true); p != nil {
			return nil, p
		}
		if len(c.Args) > 64 {
			return nil, invalid("spec.args", "must have at most 64 arguments")
		}
		for i, a := range c.Args {
			if len(a) > 4096 || strings.ContainsRune(a, 0) {
				return nil, invalid("spec.args["+strconv.Itoa(i)+"]", "must be at most 4096 bytes without NUL")
			}
		}
		if c.TimeoutSeconds < 0 || c.TimeoutSeconds > 86400 {
			return nil, invalid("spec.timeoutSeconds", "must be from 0 to 86400")
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, invalid("spec", "is not valid JSON")
	}
	return buf.Bytes(), nil
}
