package fleet

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/prereq"
)

// ControlPlane is what the rollout needs from the control plane; the CLI
// implements it with the admin client.
type ControlPlane interface {
	// Nodes returns the nodes of the fleet's runtime with their status.
	Nodes(ctx context.Context) ([]api.Node, error)
	// AuthKey returns the runtime's key1 or key2 (auth_key.control_plane).
	AuthKey(ctx context.Context, slot string) (string, error)
}

// ErrRolloutFailed is wrapped by Apply's error when a host failed.
var ErrRolloutFailed = errors.New("rollout failed")

// Options configure Plan and Apply.
type Options struct {
	Config       *Config
	Hosts        []Host // default Config's hosts (after --only)
	Dialer       *Dialer
	ControlPlane ControlPlane
	// Self is the running shir binary: the candidate for its own OS/arch
	// when binaries names none.
	Self string
	Out  io.Writer // progress lines; default discard
	Log  *slog.Logger
	// Poll is the interval of the Online wait (default 1 s).
	Poll time.Duration
	// Getenv reads auth_key.env (default os.Getenv).
	Getenv func(string) string
}

// HostReport is one host's row of the report.
type HostReport struct {
	Host             string   `json:"host"`
	Address          string   `json:"address"`
	NodeName         string   `json:"nodeName"`
	OS               string   `json:"os"`
	Arch             string   `json:"arch,omitempty"`
	Wave             int      `json:"wave,omitempty"` // 1-based; 0: not in a wave
	Action           Action   `json:"action"`
	Reason           string   `json:"reason,omitempty"`
	InstalledVersion string   `json:"installedVersion,omitempty"`
	Problems         []string `json:"problems,omitempty"` // prerequisite errors
	Warnings         []string `json:"warnings,omitempty"` // prerequisite warnings and ignored errors
	// Result: plan: "planned"; apply: "changed", "unchanged", "failed" or
	// "skipped" (the rollout stopped before this host).
	Result  string  `json:"result"`
	Error   string  `json:"error,omitempty"`
	Output  string  `json:"output,omitempty"` // last lines of the installer's output on failure
	Seconds float64 `json:"seconds"`
	// Phases: apply's seconds per step of this host: connect, copy (temp
	// dir, SFTP, SHA-256 on the host), check, install (includes waiting for
	// another install's lock), online, cleanup.
	Phases   map[string]float64 `json:"phases,omitempty"`
	Note     string             `json:"note,omitempty"`
	observed Observed
	cand     string // local candidate binary
}

// Report is the outcome of Plan or Apply (`--json`).
type Report struct {
	Schema     int          `json:"schema"` // 1
	Command    string       `json:"command"`
	Runtime    string       `json:"runtime"`
	Waves      int          `json:"waves"`
	Changed    int          `json:"changed"`
	Failed     int          `json:"failed"`
	Stopped    bool         `json:"stopped"`
	StopReason string       `json:"stopReason,omitempty"`
	Seconds    float64      `json:"seconds"`
	Hosts      []HostReport `json:"hosts"`
}

// Results of a host in a Report.
const (
	ResultPlanned   = "planned"
	ResultChanged   = "changed"
	ResultUnchanged = "unchanged"
	ResultFailed    = "failed"
	ResultSkipped   = "skipped"
)

type runner struct {
	o     Options
	out   io.Writer
	mu    sync.Mutex // out, cands
	cands map[string]cand
	nodes map[string]api.Node
}

type cand struct {
	path, sum string
	err       error
}

func newRunner(o Options) *runner {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Hosts == nil {
		o.Hosts, _ = o.Config.HostList(nil)
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	return &runner{o: o, out: o.Out, cands: map[string]cand{}}
}

func (r *runner) printf(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.out, format+"\n", a...)
}

// candidate returns the local binary for goos/arch and its SHA-256.
func (r *runner) candidate(goos, arch string) (string, string, error) {
	key := goos + "/" + arch
	r.mu.Lock()
	c, ok := r.cands[key]
	r.mu.Unlock()
	if ok {
		return c.path, c.sum, c.err
	}
	c.path, c.err = r.o.Config.binaryFor(goos, arch, r.o.Self)
	if c.err == nil {
		c.sum, c.err = FileSHA256(c.path)
		if c.err != nil {
			c.err = fmt.Errorf("binary for %s: %w", key, c.err)
		}
	}
	r.mu.Lock()
	r.cands[key] = c
	r.mu.Unlock()
	return c.path, c.sum, c.err
}

// binaryFor finds the shir binary for goos/arch: binaries.files, then
// binaries.dir/shir_<os>_<arch>/shir[.exe], then self for its own platform.
func (c *Config) binaryFor(goos, arch, self string) (string, error) {
	key := goos + "/" + arch
	if p, ok := c.Binaries.Files[key]; ok {
		return c.Path(p), nil
	}
	if c.Binaries.Dir != "" {
		name := "shir"
		if goos == "windows" {
			name = "shir.exe"
		}
		p := filepath.Join(c.Path(c.Binaries.Dir), "shir_"+goos+"_"+arch, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if goos == runtime.GOOS && arch == runtime.GOARCH && self != "" {
		return self, nil
	}
	return "", fmt.Errorf("no shir binary for %s: set binaries.files[%q] or binaries.dir (with shir_%s_%s/ from make build)", key, key, goos, arch)
}

func (r *runner) loadNodes(ctx context.Context) error {
	ns, err := r.o.ControlPlane.Nodes(ctx)
	if err != nil {
		return fmt.Errorf("control plane: list the nodes of runtime %s: %w", r.o.Config.Runtime, err)
	}
	m := map[string]api.Node{}
	for _, n := range ns {
		m[strings.ToLower(n.Name)] = n
	}
	r.nodes = m
	return nil
}

// Plan inspects every host (read-only: the only write is a temporary copy
// of shir when the host has none, removed again) and reports what Apply
// would do.
func Plan(ctx context.Context, o Options) (Report, error) {
	start := time.Now()
	r := newRunner(o)
	rep := Report{Schema: 1, Command: "plan", Runtime: o.Config.Runtime}
	if err := r.loadNodes(ctx); err != nil {
		return rep, err
	}
	rep.Hosts = r.probeAll(ctx, true)
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		if h.Action != ActionUnknown {
			h.Result = ResultPlanned
		} else {
			h.Result = ResultFailed
			rep.Failed++
		}
		if h.Action != ActionNothing && h.Action != ActionUnknown {
			rep.Changed++
		}
	}
	rep.Waves = len(Waves(r.changing(rep.Hosts), o.Config.Waves))
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// changing returns the hosts with something to do, in file order.
func (r *runner) changing(reps []HostReport) []Host {
	var hs []Host
	for i, rp := range reps {
		if rp.Action != ActionNothing && rp.Action != ActionUnknown {
			hs = append(hs, r.o.Hosts[i])
		}
	}
	return hs
}

// probeAll inspects all hosts, MaxParallel at a time.
func (r *runner) probeAll(ctx context.Context, withCheck bool) []HostReport {
	reps := make([]HostReport, len(r.o.Hosts))
	sem := make(chan struct{}, r.o.Config.Waves.MaxParallel)
	var wg sync.WaitGroup
	for i, h := range r.o.Hosts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t0 := time.Now()
			reps[i] = r.probe(ctx, h, withCheck)
			reps[i].Seconds = time.Since(t0).Seconds()
		})
	}
	wg.Wait()
	return reps
}

func baseReport(h Host) HostReport {
	return HostReport{Host: h.Name, Address: h.Addr(), NodeName: h.NodeName, OS: h.OS}
}

// probe connects to h and fills the report's observation and action.
func (r *runner) probe(ctx context.Context, h Host, withCheck bool) HostReport {
	rep := baseReport(h)
	fail := func(err error) HostReport {
		rep.Action, rep.Error = ActionUnknown, err.Error()
		return rep
	}
	conn, err := r.o.Dialer.Dial(ctx, h)
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	obs, err := r.inspect(ctx, conn, h)
	if err != nil {
		return fail(err)
	}
	rep.Arch, rep.InstalledVersion = obs.Arch, obs.InstalledVersion
	path, sum, err := r.candidate(h.OS, obs.Arch)
	if err != nil {
		return fail(err)
	}
	obs.CandidateSHA256, rep.cand = sum, path
	if n, ok := r.nodes[strings.ToLower(h.NodeName)]; ok {
		obs.Node = &n
	}
	rep.Action, rep.Reason = Decide(obs)
	if withCheck {
		r.check(ctx, conn, h, &obs, path, "")
		rep.Problems, rep.Warnings = Problems(obs.Check)
		if obs.CheckNote != "" {
			rep.Warnings = append(rep.Warnings, obs.CheckNote)
		}
	}
	rep.observed = obs
	return rep
}

// inspect reads the host's arch, installed binary and journal.
func (r *runner) inspect(ctx context.Context, conn *Conn, h Host) (Observed, error) {
	sh := shellFor(h.OS)
	bin, journal := layout(h)
	cmd := sh.inspect(bin, journal)
	if h.Sudo {
		cmd = "sudo -n -- " + cmd
	}
	res, err := conn.Run(ctx, cmd, nil)
	if err != nil {
		return Observed{}, fmt.Errorf("inspect: %w", err)
	}
	if res.ExitCode != 0 {
		return Observed{}, fmt.Errorf("inspect: exit %d: %s", res.ExitCode, lastLines(string(res.Stderr), 3))
	}
	kv := parseInspect(string(res.Stdout))
	obs := Observed{OS: h.OS, Arch: goArch(kv["arch"]), InstalledSHA256: strings.ToLower(kv["sha"]), InstalledVersion: kv["version"]}
	if obs.Arch == "" {
		return obs, errors.New("inspect: the host did not report its architecture")
	}
	if j, ok := kv["journal"]; ok {
		obs.Journal = true
		b, err := base64.StdEncoding.DecodeString(j)
		var jr struct {
			Completed bool `json:"completed"`
		}
		if err == nil && json.Unmarshal(b, &jr) == nil {
			obs.JournalCompleted = jr.Completed
		}
	}
	return obs, nil
}

// check runs `shir check --json` on the host with staged (a verified copy
// of the candidate already on the host), else the installed binary, else a
// temporary copy of the candidate.
func (r *runner) check(ctx context.Context, conn *Conn, h Host, obs *Observed, cand, staged string) {
	sh := shellFor(h.OS)
	bin, _ := layout(h)
	if staged != "" {
		bin = staged
	} else if obs.InstalledSHA256 == "" {
		dir, tbin, err := r.stage(ctx, conn, h, cand, obs.CandidateSHA256)
		if dir != "" {
			defer r.cleanup(conn, h, dir)
		}
		if err != nil {
			obs.CheckNote = "prerequisite checks not run: " + err.Error()
			return
		}
		bin = tbin
	}
	res, err := conn.Run(ctx, sh.run(checkArgs(h, bin, obs.Journal || obs.InstalledSHA256 != ""), h.Sudo), nil)
	if err != nil {
		obs.CheckNote = "prerequisite checks not run: " + err.Error()
		return
	}
	var pr prereq.Results
	if err := json.Unmarshal(res.Stdout, &pr); err != nil || pr.Schema != prereq.SchemaVersion {
		obs.CheckNote = fmt.Sprintf("shir check --json gave no schema-%d report (exit %d): %s", prereq.SchemaVersion, res.ExitCode, lastLines(string(res.Stderr)+string(res.Stdout), 3))
		return
	}
	obs.Check = &pr
}

// stage makes a temp dir on the host, copies the candidate binary into it
// over SFTP and verifies its SHA-256 there. It returns the dir (to clean up,
// also on error) and the binary's path.
func (r *runner) stage(ctx context.Context, conn *Conn, h Host, local, sum string) (dir, bin string, err error) {
	sh := shellFor(h.OS)
	res, err := conn.Run(ctx, sh.mktemp(), nil)
	if err != nil {
		return "", "", fmt.Errorf("make a temp dir: %w", err)
	}
	dir = trimOut(res.Stdout)
	if res.ExitCode != 0 || dir == "" {
		return "", "", fmt.Errorf("make a temp dir: exit %d: %s", res.ExitCode, lastLines(string(res.Stderr), 3))
	}
	bin = sh.join(dir, sh.exe())
	sent, err := conn.Upload(ctx, local, sh.sftpPath(bin))
	if err != nil {
		return dir, "", err
	}
	if sent != sum {
		return dir, "", fmt.Errorf("the local binary %s changed while it was copied", local)
	}
	res, err = conn.Run(ctx, sh.sha256(bin), nil)
	if err != nil {
		return dir, "", fmt.Errorf("verify sha256 on the host: %w", err)
	}
	if got := strings.ToLower(trimOut(res.Stdout)); got != sum {
		return dir, "", fmt.Errorf("sha256 on the host is %q, want %s: the copy is corrupt", short(got), short(sum))
	}
	return dir, bin, nil
}

func (r *runner) cleanup(conn *Conn, h Host, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if res, err := conn.Run(ctx, shellFor(h.OS).remove(dir), nil); err != nil || res.ExitCode != 0 {
		r.o.Log.Warn("fleet: remove temp dir", "host", h.Name, "dir", dir, "err", err)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// authKey resolves auth_key. The key is never logged.
func (r *runner) authKey(ctx context.Context) (string, error) {
	k := r.o.Config.AuthKey
	var key string
	switch {
	case k.File != "":
		b, err := os.ReadFile(r.o.Config.Path(k.File))
		if err != nil {
			return "", fmt.Errorf("auth_key.file: %w", err)
		}
		key = strings.TrimSpace(string(b))
	case k.Env != "":
		key = strings.TrimSpace(r.o.Getenv(k.Env))
		if key == "" {
			return "", fmt.Errorf("auth_key.env: %s is empty or not set", k.Env)
		}
	case k.ControlPlane != "":
		var err error
		if key, err = r.o.ControlPlane.AuthKey(ctx, k.ControlPlane); err != nil {
			return "", fmt.Errorf("auth_key.control_plane: %w", err)
		}
	}
	if key == "" || strings.ContainsAny(key, "\r\n") {
		return "", errors.New("auth_key: the key is empty or has several lines")
	}
	return key, nil
}

// Apply rolls out to the hosts wave by wave. It returns the report and an
// error wrapping ErrRolloutFailed when a host failed.
func Apply(ctx context.Context, o Options) (Report, error) {
	start := time.Now()
	r := newRunner(o)
	rep := Report{Schema: 1, Command: "apply", Runtime: o.Config.Runtime}
	key, err := r.authKey(ctx)
	if err != nil {
		return rep, fmt.Errorf("%w: %w", exitcode.ErrUsage, err)
	}
	if err := r.loadNodes(ctx); err != nil {
		return rep, err
	}
	rep.Hosts = r.probeAll(ctx, false)
	idx := map[string]int{}
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		idx[h.Host] = i
		switch h.Action {
		case ActionUnknown:
			h.Result = ResultFailed
			rep.Failed++
			r.printf("[probe] %s: failed: %s", h.Host, h.Error)
		case ActionNothing:
			h.Result = ResultUnchanged
		}
	}
	waves := Waves(r.changing(rep.Hosts), o.Config.Waves)
	rep.Waves = len(waves)
	budget := max(1, o.Config.Waves.MaxFailures)
	r.printf("[plan] %d hosts: %d to change in %d wave(s), %d unchanged, %d failed to inspect", len(rep.Hosts), countChanging(rep.Hosts), len(waves), count(rep.Hosts, ResultUnchanged), rep.Failed)

	var mu sync.Mutex // rep.Failed, rep.Stopped
	stopped := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if rep.Failed >= budget && !rep.Stopped {
			rep.Stopped = true
			rep.StopReason = fmt.Sprintf("%d failed host(s) reached the failure budget (waves.max_failures: %d)", rep.Failed, budget)
		}
		return rep.Stopped || ctx.Err() != nil
	}
	for wi, wave := range waves {
		if wi > 0 && o.Config.Waves.Pause.Duration > 0 && !stopped() {
			r.printf("[pause] %s before wave %d", o.Config.Waves.Pause.Duration, wi+1)
			select {
			case <-ctx.Done():
			case <-time.After(o.Config.Waves.Pause.Duration):
			}
		}
		tag := fmt.Sprintf("[wave %d/%d]", wi+1, len(waves))
		names := make([]string, len(wave))
		for i, h := range wave {
			names[i] = h.Name
		}
		r.printf("%s %s", tag, strings.Join(names, ", "))
		sem := make(chan struct{}, o.Config.Waves.MaxParallel)
		var wg sync.WaitGroup
		var done, failed int
		for _, h := range wave {
			hr := &rep.Hosts[idx[h.Name]]
			hr.Wave = wi + 1
			sem <- struct{}{}
			if stopped() {
				<-sem
				hr.Result = ResultSkipped
				hr.Note = "the rollout stopped before this host"
				continue
			}
			wg.Go(func() {
				defer func() { <-sem }()
				t0 := time.Now()
				err := r.applyHost(ctx, h, hr, key, tag)
				hr.Seconds += time.Since(t0).Seconds()
				mu.Lock()
				done++
				if err != nil {
					hr.Result, hr.Error = ResultFailed, redact(err.Error(), key)
					rep.Failed++
					failed++
				} else {
					hr.Result = ResultChanged
					rep.Changed++
				}
				d, f := done, failed
				mu.Unlock()
				if err != nil {
					r.printf("%s %s: FAILED: %s", tag, h.Name, hr.Error)
				}
				r.printf("%s %s %d/%d done, %d failed", tag, bar(d, len(wave)), d, len(wave), f)
			})
		}
		wg.Wait()
		if stopped() {
			// Later waves are not started.
			for _, w := range waves[wi+1:] {
				for _, h := range w {
					hr := &rep.Hosts[idx[h.Name]]
					hr.Result, hr.Note = ResultSkipped, "the rollout stopped before this wave"
				}
			}
			if ctx.Err() != nil && rep.StopReason == "" {
				rep.StopReason = "cancelled"
			}
			r.printf("[stop] %s", rep.StopReason)
			break
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("%w: %w", exitcode.ErrCancelled, err)
	}
	if rep.Failed > 0 {
		return rep, fmt.Errorf("%w: %d of %d host(s) failed", ErrRolloutFailed, rep.Failed, len(rep.Hosts))
	}
	return rep, nil
}

func countChanging(hs []HostReport) int {
	n := 0
	for _, h := range hs {
		if h.Action != ActionNothing && h.Action != ActionUnknown {
			n++
		}
	}
	return n
}

func count(hs []HostReport, result string) int {
	n := 0
	for _, h := range hs {
		if h.Result == result {
			n++
		}
	}
	return n
}

func bar(done, total int) string {
	const width = 20
	n := width
	if total > 0 {
		n = done * width / total
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

func redact(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, "<redacted>")
}

// applyHost stages the binary, checks prerequisites, runs the installer with
// the key on stdin and waits for the node to be Online.
func (r *runner) applyHost(ctx context.Context, h Host, hr *HostReport, key, tag string) error {
	sh := shellFor(h.OS)
	r.printf("%s %s: %s (%s)", tag, h.Name, hr.Action, hr.Reason)
	hr.Phases = map[string]float64{}
	t0 := time.Now()
	phase := func(name string) {
		now := time.Now()
		hr.Phases[name] = now.Sub(t0).Seconds()
		t0 = now
	}
	conn, err := r.o.Dialer.Dial(ctx, h)
	if err != nil {
		return err
	}
	defer conn.Close()
	phase("connect")
	dir, bin, err := r.stage(ctx, conn, h, hr.cand, hr.observed.CandidateSHA256)
	if dir != "" {
		defer func() {
			t0 = time.Now()
			r.cleanup(conn, h, dir)
			phase("cleanup")
		}()
	}
	if err != nil {
		return err
	}
	phase("copy")
	r.printf("%s %s: copied %s (%s/%s), sha256 %s verified on the host", tag, h.Name, filepath.Base(hr.cand), h.OS, hr.Arch, short(hr.observed.CandidateSHA256))
	obs := hr.observed
	r.check(ctx, conn, h, &obs, hr.cand, bin) // the copy just staged: not a second one
	phase("check")
	hr.Problems, hr.Warnings = Problems(obs.Check)
	switch {
	case obs.Check == nil:
		return fmt.Errorf("prerequisite checks: %s", obs.CheckNote)
	case !obs.Check.Passed:
		return fmt.Errorf("prerequisites failed: %s", strings.Join(hr.Problems, "; "))
	}
	verb := "install"
	if hr.Action != ActionInstall {
		verb = "repair" // replaces the binary, registers with the key, restarts
	}
	// Another install holding the host's lock (1618) is, after a crashed
	// apply, that apply's installer finishing or dying: wait for it (up to
	// online_timeout), then run ours, which resumes from the journal.
	wait := r.o.Config.Waves.OnlineTimeout.Duration
	deadline := time.Now().Add(wait)
	var res RunResult
	for waited := false; ; waited = true {
		res, err = conn.Run(ctx, sh.run(installArgs(h, bin, verb), h.Sudo), strings.NewReader(key+"\n"))
		if err != nil {
			return fmt.Errorf("shir %s: %w", verb, err)
		}
		if res.ExitCode != msiStatus(exitcode.MSIAlreadyRunning, h.OS) || time.Now().After(deadline) {
			break
		}
		if !waited {
			r.printf("%s %s: another install is running on the host (a crashed apply's?): waiting up to %s for it to end", tag, h.Name, wait)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("shir %s: %w", verb, ctx.Err())
		case <-time.After(r.o.Poll):
		}
	}
	phase("install")
	ok, note := installExit(res.ExitCode, h.OS)
	if !ok {
		hr.Output = redact(lastLines(string(res.Stdout)+string(res.Stderr), 15), key)
		return fmt.Errorf("shir %s: %s: %s", verb, note, lastLines(redact(string(res.Stdout)+string(res.Stderr), key), 1))
	}
	hr.Note = note
	r.printf("%s %s: shir %s done, waiting for node %s to be Online", tag, h.Name, verb, h.NodeName)
	defer phase("online")
	return r.waitOnline(ctx, h)
}

// waitOnline polls the control plane until the host's node is Online.
func (r *runner) waitOnline(ctx context.Context, h Host) error {
	ctx, cancel := context.WithTimeout(ctx, r.o.Config.Waves.OnlineTimeout.Duration)
	defer cancel()
	last := "not registered"
	for {
		ns, err := r.o.ControlPlane.Nodes(ctx)
		if err == nil {
			for _, n := range ns {
				if strings.EqualFold(n.Name, h.NodeName) {
					if n.Status == api.StatusOnline {
						return nil
					}
					last = n.Status
				}
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %s is not Online after %s (last: %s)", h.NodeName, r.o.Config.Waves.OnlineTimeout.Duration, last)
		case <-time.After(r.o.Poll):
		}
	}
}
