package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/internal/atomicfile"
	"github.com/shirhq/shir/internal/buildinfo"
	"github.com/shirhq/shir/internal/credstore"
	"github.com/shirhq/shir/internal/netproxy"
	"github.com/shirhq/shir/internal/nodeconfig"
	"github.com/shirhq/shir/internal/secret"
)

// HealthFile is the updater's health contract (updater.HealthFileName): the
// host writes {"version","pid","time"} after every acknowledged heartbeat.
const HealthFile = "health.json"

// Options of Run. Only Root or ConfigPath (or Config) is usually set.
type Options struct {
	// Root: a node installed with --root DIR (paths of nodeconfig.DefaultPaths(Root)).
	Root string
	// ConfigPath of shir.toml; "" : the default path under Root, where a
	// missing file means all defaults.
	ConfigPath string
	// Config, when not nil, is used instead of reading a file (in-process use).
	Config *nodeconfig.Config
	// Version reported to the control plane; "" : buildinfo.
	Version string
	Logger  *slog.Logger
	// Backoff of reconnects and result retries; zero: DefaultBackoff.
	Backoff Backoff
	// LeaseWait is the long-poll wait of a lease request; 0: api.MaxLeaseWait.
	LeaseWait time.Duration
	// Transport overrides the control-plane transport (it must pin itself).
	Transport http.RoundTripper
	// Ready is called once, after the first acknowledged heartbeat.
	Ready func(register.Identity)
	// RemotePoll is how often the remote-access setting and the credential
	// file are checked for changes; 0: DefaultRemotePoll.
	RemotePoll time.Duration
	// SyncInterval is the period of a full credential sync with the peers;
	// 0: DefaultSyncInterval.
	SyncInterval time.Duration
}

// Resolve loads the node config and state directory Run would use.
func (o Options) Resolve() (nodeconfig.Config, string, error) {
	var cfg nodeconfig.Config
	paths := nodeconfig.DefaultPaths(o.Root)
	switch {
	case o.Config != nil:
		cfg = *o.Config
		if err := cfg.Validate(); err != nil {
			return cfg, "", err
		}
	case o.ConfigPath != "":
		c, err := nodeconfig.Load(o.ConfigPath, false)
		if err != nil {
			return cfg, "", err
		}
		cfg = c
	default:
		c, err := nodeconfig.Load(paths.Config, true)
		if err != nil {
			return cfg, "", err
		}
		cfg = c
	}
	stateDir := cfg.StateDir
	if stateDir == "" {
		stateDir = paths.StateDir
	}
	return cfg, stateDir, nil
}

var (
	errLeaseLost      = errors.New("lease lost")
	errCancelledAdmin = errors.New("cancelled by an administrator")
	errShutdown       = errors.New("node shutting down")
)

type agent struct {
	cfg      nodeconfig.Config
	stateDir string
	id       register.Identity
	version  string
	log      *slog.Logger
	backoff  Backoff
	cp       *client
	jobHTTP  *http.Client
	creds    *credstore.Store
	lim      *limiter
	remote   *remote
	out      *outbox
	defConc  int

	jobsWG sync.WaitGroup
}

// Run is the host service body: it loads the node config and identity,
// heartbeats, leases and runs jobs until ctx ends, then shuts down
// gracefully: no new leases, running jobs get shutdown_timeout to finish,
// the rest are cancelled and handed back (outcome released: the control
// plane queues them again without counting the attempt), and unacknowledged results stay in the
// state directory for the next start. It returns nil after a graceful
// shutdown, and an error when it cannot start or the control plane refuses
// the node's token.
func Run(ctx context.Context, o Options) error {
	cfg, stateDir, err := o.Resolve()
	if err != nil {
		return err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if _, err := os.Stat(filepath.Join(stateDir, register.IdentityFile)); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w (no identity in %s): register it with shir dmgcmd -rn KEY or shir install AUTHKEY=...", register.ErrNotRegistered, stateDir)
	}
	prot, err := secret.ForStateDir(stateDir)
	if err != nil {
		return fmt.Errorf("state dir %s: %w", stateDir, err)
	}
	id, err := register.Load(stateDir, prot)
	if err != nil {
		return err
	}
	pw, err := netproxy.LoadPassword(stateDir, prot)
	if err != nil {
		return err
	}
	proxy := cfg.ProxyConfig(pw)
	endpoint := id.Endpoint
	if cfg.Server != "" {
		endpoint = cfg.Server
	}
	cp, err := newClient(endpoint, id, proxy, o.Transport)
	if err != nil {
		return err
	}
	jobTr, err := proxy.Transport(nil)
	if err != nil {
		return err
	}
	defer jobTr.CloseIdleConnections()
	version := o.Version
	if version == "" {
		version = buildinfo.Get().Version
	}
	b := o.Backoff
	if b.Min == 0 {
		b = DefaultBackoff
	}
	a := &agent{
		cfg: cfg, stateDir: stateDir, id: id, version: version, log: log, backoff: b, cp: cp,
		jobHTTP: &http.Client{Transport: jobTr},
		creds:   credstore.Open(stateDir, prot),
	}
	a.defConc = cfg.Concurrency
	if a.defConc == 0 {
		a.defConc = machineConcurrency(ctx)
	}
	start := a.defConc
	if id.Concurrency > 0 {
		start = id.Concurrency
	}
	a.lim = newLimiter(start)
	a.remote = newRemote(stateDir, id.NodeName, cfg.RemoteAccessHost, endpoint, a.creds, log, o.RemotePoll, o.SyncInterval)
	cp.onLocalAddr = a.remote.setLocalHost
	a.out, err = newOutbox(stateDir, cp.result, b, log)
	if err != nil {
		return err
	}
	if n := a.out.Pending(); n > 0 {
		log.Info("results from a previous run are pending", "count", n)
	}
	log.Info("host service starting", "node", id.NodeName, "nodeId", id.NodeID, "runtime", id.RuntimeName,
		"endpoint", endpoint, "proxy", proxy.String(), "concurrency", start, "version", version)

	// bg outlives ctx until shutdown is complete: renewals and results go on
	// while running jobs finish.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	jobsCtx, cancelJobs := context.WithCancelCause(bg)
	defer cancelJobs(nil)

	var loops sync.WaitGroup
	outDone := make(chan struct{})
	go func() { a.out.Run(bg); close(outDone) }()

	fatal := make(chan error, 1)
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	loops.Add(3)
	go func() {
		defer loops.Done()
		a.remote.run(runCtx)
	}()
	go func() {
		defer loops.Done()
		if err := a.heartbeatLoop(runCtx, o.Ready); err != nil {
			fatal <- err
			stopRun()
		}
	}()
	go func() {
		defer loops.Done()
		a.leaseLoop(runCtx, jobsCtx, bg, o.LeaseWait)
	}()

	<-runCtx.Done()
	loops.Wait()
	var ferr error
	select {
	case ferr = <-fatal:
	default:
	}

	// Graceful shutdown.
	timeout := cfg.ShutdownTimeout.Duration
	if timeout == 0 {
		timeout = nodeconfig.DefaultShutdownTimeout
	}
	if n := a.lim.Running(); n > 0 {
		log.Info("shutting down: waiting for running jobs", "running", n, "timeout", timeout)
	}
	wctx, cancelWait := context.WithTimeout(bg, timeout)
	if err := a.lim.WaitIdle(wctx); err != nil {
		log.Warn("shutdown timeout: handing running jobs back", "running", a.lim.Running())
		cancelJobs(errShutdown)
	}
	cancelWait()
	a.jobsWG.Wait()
	// Last chance to deliver results; what is left stays on disk.
	fctx, cancelFlush := context.WithTimeout(bg, 5*time.Second)
	if err := a.out.flush(fctx); err != nil {
		log.Warn("results not acknowledged yet; kept for the next start", "pending", a.out.Pending(), "err", err)
	}
	cancelFlush()
	stopBG()
	<-outDone
	log.Info("host service stopped")
	return ferr
}

// heartbeatLoop heartbeats until ctx ends; it returns an error only when the
// control plane refuses the node for good.
func (a *agent) heartbeatLoop(ctx context.Context, ready func(register.Identity)) error {
	interval := api.DefaultHeartbeatInterval
	if a.id.HeartbeatIntervalSeconds > 0 {
		interval = time.Duration(a.id.HeartbeatIntervalSeconds) * time.Second
	}
	failures := 0
	for {
		req := api.HeartbeatRequest{
			Version:     a.version,
			Metrics:     collectMetrics(ctx, a.stateDir, a.lim.Running()),
			Concurrency: a.defConc,
			Update:      updateStatus(a.stateDir),
		}
		req.RemoteAccess, req.RemoteFingerprint = a.remote.advertise()
		resp, err := a.cp.heartbeat(ctx, req)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if isTokenErr(err) {
				a.log.Error("heartbeat refused", "err", err)
				return err
			}
			wait := a.backoff.Delay(failures)
			failures++
			a.log.Warn("heartbeat failed, will retry", "err", err, "retryIn", wait.Round(time.Millisecond), "failures", failures)
			if !sleep(ctx, wait) {
				return nil
			}
			continue
		}
		if failures > 0 {
			a.log.Info("control plane reachable again", "after", failures)
			a.out.kick()
		}
		failures = 0
		a.remote.setPeers(resp.Peers)
		if resp.Concurrency > 0 && resp.Concurrency != a.lim.Limit() {
			a.log.Info("concurrency limit changed", "from", a.lim.Limit(), "to", resp.Concurrency)
			a.lim.SetLimit(resp.Concurrency)
		}
		if resp.HeartbeatIntervalSeconds > 0 {
			interval = time.Duration(resp.HeartbeatIntervalSeconds) * time.Second
		}
		if changed, err := syncUpdatePolicy(a.stateDir, resp); err != nil {
			a.log.Warn("update policy", "err", err)
		} else if changed {
			a.log.Info("update policy from the control plane", "pinnedVersion", resp.DesiredVersion, "autoUpdate", resp.AutoUpdate)
		}
		if err := a.writeHealth(); err != nil {
			a.log.Warn("health file", "err", err)
		}
		if ready != nil {
			ready(a.id)
			ready = nil
		}
		if !a.remote.waitBeat(ctx, Jitter(interval, nil)) {
			return nil
		}
	}
}

func (a *agent) writeHealth() error {
	b, _ := json.Marshal(struct {
		Version string    `json:"version"`
		PID     int       `json:"pid"`
		Time    time.Time `json:"time"`
	}{a.version, os.Getpid(), time.Now().UTC()})
	return atomicfile.Write(filepath.Join(a.stateDir, HealthFile), append(b, '\n'), 0o644)
}

// leaseLoop long-polls for jobs while slots are free.
func (a *agent) leaseLoop(ctx, jobsCtx, bg context.Context, wait time.Duration) {
	if wait <= 0 {
		wait = api.MaxLeaseWait
	}
	failures := 0
	for {
		free, err := a.lim.WaitFree(ctx)
		if err != nil {
			return
		}
		resp, err := a.cp.lease(ctx, api.LeaseRequest{WaitSeconds: int(wait / time.Second), Max: free})
		if ctx.Err() != nil {
			// Leases granted in a reply we did not read expire on the server.
			return
		}
		if err != nil {
			d := a.backoff.Delay(failures)
			failures++
			a.log.Debug("lease failed, will retry", "err", err, "retryIn", d.Round(time.Millisecond))
			if !sleep(ctx, d) {
				return
			}
			continue
		}
		failures = 0
		for _, l := range resp.Jobs {
			a.lim.Acquire()
			a.jobsWG.Add(1)
			go a.runJob(jobsCtx, bg, l)
		}
	}
}

// runJob runs one leased job, renews its lease while it runs, and stores
// its result in the outbox.
func (a *agent) runJob(jobsCtx, bg context.Context, l api.Lease) {
	defer a.jobsWG.Done()
	defer a.lim.Release()
	log := a.log.With("job", l.JobID, "kind", l.Kind, "attempt", l.Attempt)
	log.Info("job started")
	ctx, cancel := context.WithCancelCause(jobsCtx)
	defer cancel(nil)
	env := &jobEnv{http: a.jobHTTP, creds: a.creds, allow: a.cfg.Exec.Allow}

	renewDone := make(chan struct{})
	stopRenew := make(chan struct{})
	go func() {
		defer close(renewDone)
		a.renewLoop(bg, l, env, cancel, stopRenew, log)
	}()

	started := time.Now()
	out, err := runExecutor(ctx, env, l)
	close(stopRenew)
	<-renewDone

	res := api.ResultRequest{Attempt: l.Attempt}
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, errLeaseLost):
		log.Warn("lease lost: result dropped, another node owns the job now")
		return
	case errors.Is(cause, errCancelledAdmin):
		res.Outcome, res.Error = api.OutcomeCancelled, "cancelled by an administrator"
	case errors.Is(cause, errShutdown):
		res.Outcome, res.Error = api.OutcomeReleased, "node shutting down: job handed back"
	case err == nil:
		res.Outcome = api.OutcomeSucceeded
	default:
		res.Outcome, res.Retryable, res.Error = api.OutcomeFailed, isRetryable(err), err.Error()
	}
	if out != nil {
		b, merr := json.Marshal(out)
		if merr == nil && len(b) <= api.MaxOutputBytes {
			res.Output = b
		}
	}
	log.Info("job finished", "outcome", res.Outcome, "took", time.Since(started).Round(time.Millisecond), "error", res.Error)
	if err := a.out.Put(l.JobID, res); err != nil {
		log.Error("result could not be stored", "err", err)
	}
}

func runExecutor(ctx context.Context, env *jobEnv, l api.Lease) (out any, err error) {
	exec, ok := executors[l.Kind]
	if !ok {
		return nil, permanent("unknown job kind %q", l.Kind)
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, permanent("job panicked: %v", r)
		}
	}()
	return exec(ctx, env, l.Spec)
}

// renewLoop renews the lease every third of its duration (with progress
// when bytes moved) until stop is closed; it cancels the job when the
// control plane says so or the lease is lost.
func (a *agent) renewLoop(ctx context.Context, l api.Lease, env *jobEnv, cancel context.CancelCauseFunc, stop <-chan struct{}, log *slog.Logger) {
	period := time.Duration(l.LeaseSeconds) * time.Second / 3
	if period <= 0 {
		period = api.DefaultLeaseDuration / 3
	}
	if period < 200*time.Millisecond {
		period = 200 * time.Millisecond
	}
	t := time.NewTicker(period)
	defer t.Stop()
	var lastBytes int64
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var resp api.RenewResponse
		var err error
		if n := env.bytes.Load(); n != lastBytes {
			lastBytes = n
			resp, err = a.cp.progress(ctx, l.JobID, api.ProgressRequest{Attempt: l.Attempt, Bytes: n, Message: fmt.Sprintf("%d bytes", n)})
		} else {
			resp, err = a.cp.renew(ctx, l.JobID, api.RenewRequest{Attempt: l.Attempt})
		}
		switch {
		case err == nil && resp.Cancel:
			log.Info("job cancelled by the control plane")
			cancel(errCancelledAdmin)
		case err != nil && isLeaseLost(err):
			cancel(errLeaseLost)
			return
		case err != nil:
			log.Warn("lease renewal failed", "err", err)
		}
	}
}
