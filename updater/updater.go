package updater

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/hashicorp/go-version"
)

// Options configure an Updater. Source, Trust.Roots, Current, Target and
// StateDir are required.
type Options struct {
	Source  Source
	Trust   Trust
	Policy  Policy
	Current string // installed version
	Target  string // the binary to replace
	// Links are other names of the same program next to Target (dmgcmd.exe,
	// a hard link on Windows): after the binary is replaced, and after a
	// rollback, they are made the same file as Target again. Symbolic links
	// (Linux) follow by themselves and are left alone.
	Links    []string
	StateDir string // updater.json, downloads, health.json, last-update.json

	Host          Host          // nil: replace the binary but restart nothing
	HealthFile    string        // default StateDir/health.json
	HealthTimeout time.Duration // default 2 minutes
	Reporter      Reporter      // default FileReporter(StateDir/last-update.json)
	SizeLimit     int64         // default DefaultSizeLimit
	Progress      func(done, total int64)
	Logger        *slog.Logger
	Now           func() time.Time
}

// Updater checks for and applies releases.
type Updater struct{ o Options }

// New checks o and fills defaults.
func New(o Options) (*Updater, error) {
	switch {
	case o.Source == nil:
		return nil, errors.New("updater: no source")
	case len(o.Trust.Roots) == 0:
		return nil, errors.New("updater: no root keys")
	case o.StateDir == "":
		return nil, errors.New("updater: no state directory")
	case o.Target == "":
		return nil, errors.New("updater: no target binary")
	}
	if _, err := version.NewSemver(o.Current); err != nil {
		return nil, fmt.Errorf("installed version %q: not a semantic version", o.Current)
	}
	if o.Policy.GOOS == "" {
		o.Policy.GOOS, o.Policy.GOARCH = runtime.GOOS, runtime.GOARCH
	}
	if o.Policy.Channel == "" {
		o.Policy.Channel = "stable"
	}
	if o.HealthFile == "" {
		o.HealthFile = filepath.Join(o.StateDir, HealthFileName)
	}
	if o.HealthTimeout <= 0 {
		o.HealthTimeout = 2 * time.Minute
	}
	if o.Reporter == nil {
		o.Reporter = FileReporter{Path: filepath.Join(o.StateDir, "last-update.json")}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Updater{o: o}, nil
}

func (u *Updater) statePath() string { return filepath.Join(u.o.StateDir, "updater.json") }

// Candidate is a release the policy allows.
type Candidate struct {
	Release  Release
	Verified Verified
	Artifact Artifact
}

// Version of the candidate.
func (c Candidate) Version() string { return c.Verified.Manifest.Version }

// Check finds the newest release that verifies and that the policy allows.
// When none does, the error is the refusal of the newest release offered.
func (u *Updater) Check(ctx context.Context, req Request) (Candidate, error) {
	st, err := LoadState(u.statePath())
	if err != nil {
		return Candidate{}, err
	}
	c, err := u.check(ctx, req, &st)
	st.LastCheck = u.o.Now().UTC()
	st.LastResult = resultText(c, err)
	if serr := SaveState(u.statePath(), st); serr != nil && err == nil {
		err = serr
	}
	return c, err
}

func resultText(c Candidate, err error) string {
	if err != nil {
		return err.Error()
	}
	return "allowed: " + c.Version()
}

func (u *Updater) check(ctx context.Context, req Request, st *State) (Candidate, error) {
	now := u.o.Now()
	keys, err := u.o.Source.KeyList(ctx)
	if err != nil {
		return Candidate{}, err
	}
	kl, err := VerifyKeyList(u.o.Trust.Roots, keys.Data, keys.Sig, now, st.KeyListIssued)
	if err != nil {
		return Candidate{}, err
	}
	st.KeyListIssued = kl.Issued.UTC()
	rels, err := u.o.Source.Releases(ctx)
	if err != nil {
		return Candidate{}, err
	}
	if len(rels) == 0 {
		return Candidate{}, fmt.Errorf("%w at %s", ErrNoRelease, u.o.Source)
	}
	sortByClaimedVersion(rels)
	type result struct {
		rel Release
		v   Verified
		err error
	}
	results := make([]result, len(rels))
	for i, rel := range rels {
		v, err := verifyManifest(kl, rel.Manifest)
		if err != nil {
			err = fmt.Errorf("release %s: %w", rel.Name, err)
		} else if m := v.Manifest; !now.Before(m.NotBefore) && now.Before(m.Expires) {
			st.Seen(m)
		}
		results[i] = result{rel, v, err}
	}
	var first error
	for _, r := range results {
		err := r.err
		if err == nil {
			err = Decide(u.o.Policy, req, u.o.Current, r.v.Manifest, *st, now)
		}
		if err == nil {
			a, _ := r.v.Manifest.Artifact(u.o.Policy.GOOS, u.o.Policy.GOARCH)
			return Candidate{Release: r.rel, Verified: r.v, Artifact: a}, nil
		}
		if req.Version != "" && errors.Is(err, ErrVersionMissing) {
			continue
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		first = fmt.Errorf("%w: %s at %s", ErrVersionMissing, req.Version, u.o.Source)
	}
	return Candidate{}, first
}

// sortByClaimedVersion orders releases newest first by the version their
// (not yet verified) manifest claims; ordering only picks which refusal is
// reported, never what is trusted.
func sortByClaimedVersion(rels []Release) {
	claimed := func(r Release) *version.Version {
		var m struct{ Version string }
		_ = json.NewDecoder(bytes.NewReader(r.Manifest.Data)).Decode(&m)
		v, err := version.NewSemver(m.Version)
		if err != nil {
			return version.Must(version.NewSemver("0.0.0"))
		}
		return v
	}
	sort.SliceStable(rels, func(i, j int) bool { return claimed(rels[i]).GreaterThan(claimed(rels[j])) })
}

// Result of Apply.
type Result struct {
	From, To string
	Outcome  string
}

// Apply checks, downloads, verifies and installs the allowed release,
// restarts the host and waits for it to be healthy. If it is not, Apply
// restores the old binary, restarts the host again, marks the version bad
// and returns an error wrapping ErrRolledBack and ErrUnhealthy.
func (u *Updater) Apply(ctx context.Context, req Request) (Result, error) {
	c, err := u.Check(ctx, req)
	if err != nil {
		return Result{}, err
	}
	return u.ApplyCandidate(ctx, c)
}

// ApplyCandidate installs c (from Check).
func (u *Updater) ApplyCandidate(ctx context.Context, c Candidate) (Result, error) {
	log := u.o.Logger.With("from", u.o.Current, "to", c.Version())
	res := Result{From: u.o.Current, To: c.Version()}
	fail := func(err error) (Result, error) {
		res.Outcome = OutcomeFailed
		u.report(ctx, res, err)
		return res, err
	}
	part := filepath.Join(u.o.StateDir, "download", fmt.Sprintf("shir-%s-%s-%s.part", c.Version(), u.o.Policy.GOOS, u.o.Policy.GOARCH))
	log.Info("downloading", "url", redactURL(c.Artifact.URL), "size", c.Artifact.Size)
	if err := Download(ctx, u.o.Source, c.Release, c.Artifact, part, u.o.SizeLimit, u.o.Progress); err != nil {
		return fail(err)
	}
	bin, err := os.ReadFile(part)
	if err != nil {
		return fail(fmt.Errorf("read download: %w", err))
	}
	signer := c.Verified.SigningKey()
	if err := VerifyArtifact(bin, c.Artifact, signer); err != nil {
		os.Remove(part)
		return fail(err)
	}
	oldSave := OldBinaryPath(u.o.Target)
	if err := ReplaceBinary(u.o.Target, oldSave, bin, c.Artifact, signer); err != nil {
		return fail(err)
	}
	os.Remove(part)
	log.Info("binary replaced", "target", u.o.Target, "kept", oldSave)
	u.relink()
	if u.o.Host == nil {
		res.Outcome = OutcomeUpdated
		u.report(ctx, res, nil)
		return res, nil
	}
	since := u.o.Now()
	err = u.o.Host.Restart(ctx)
	if err == nil {
		err = WaitHealthy(ctx, u.o.HealthFile, c.Version(), since, u.o.HealthTimeout, u.o.Host)
	}
	if err == nil {
		log.Info("host healthy on the new version")
		res.Outcome = OutcomeUpdated
		u.report(ctx, res, nil)
		return res, nil
	}
	log.Warn("new version not healthy, rolling back", "err", err)
	return u.rollback(ctx, res, err)
}

func (u *Updater) rollback(ctx context.Context, res Result, cause error) (Result, error) {
	res.Outcome = OutcomeRolledBack
	st, lerr := LoadState(u.statePath())
	if lerr == nil {
		st.MarkBad(res.To)
		st.LastResult = "rolled back " + res.To + ": " + cause.Error()
		lerr = SaveState(u.statePath(), st)
	}
	err := fmt.Errorf("%w from %s to %s: %w", ErrRolledBack, res.To, res.From, cause)
	if rerr := RestoreBinary(u.o.Target, OldBinaryPath(u.o.Target)); rerr != nil {
		err = errors.Join(err, rerr)
	} else {
		u.relink()
		since := u.o.Now()
		rerr := u.o.Host.Restart(ctx)
		if rerr == nil {
			rerr = WaitHealthy(ctx, u.o.HealthFile, res.From, since, u.o.HealthTimeout, u.o.Host)
		}
		if rerr != nil {
			err = errors.Join(err, fmt.Errorf("after rollback: %w", rerr))
		}
	}
	if lerr != nil {
		err = errors.Join(err, fmt.Errorf("mark %s bad: %w", res.To, lerr))
	}
	u.report(ctx, res, err)
	return res, err
}

func (u *Updater) report(ctx context.Context, res Result, err error) {
	r := Report{NodeID: u.o.Policy.NodeID, From: res.From, To: res.To, Outcome: res.Outcome, Time: u.o.Now().UTC()}
	if err != nil {
		r.Error = err.Error()
	}
	if rerr := u.o.Reporter.Report(ctx, r); rerr != nil {
		u.o.Logger.Warn("report update outcome", "err", rerr)
	}
}

// relink points Links at the current Target. A failure is logged, not
// returned: the update itself stands, and the next update or repair fixes
// the link (e.g. dmgcmd.exe was running and could not be replaced).
func (u *Updater) relink() {
	for _, l := range u.o.Links {
		if err := Relink(u.o.Target, l); err != nil {
			u.o.Logger.Warn("relink", "link", l, "err", err)
		}
	}
}

// OldBinaryPath is where the replaced binary is kept: next to the target,
// so the rename never crosses file systems.
func OldBinaryPath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".old")
}

// ControlPolicy is what the control plane (and dmgcmd -toffau / -tonau) says
// about updates for this node. The agent writes it to PolicyFileName in the
// state directory; the updater reads it before every run.
//
//	{"autoUpdate": false, "pinnedVersion": "1.4.2"}
type ControlPolicy struct {
	AutoUpdate    *bool  `json:"autoUpdate,omitempty"`
	PinnedVersion string `json:"pinnedVersion,omitempty"`
}

// PolicyFileName is the control-plane policy file in the state directory.
const PolicyFileName = "update-policy.json"

// LoadControlPolicy reads the policy file; a missing file is an empty policy.
func LoadControlPolicy(path string) (ControlPolicy, error) {
	var cp ControlPolicy
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cp, nil
	}
	if err != nil {
		return cp, fmt.Errorf("read update policy: %w", err)
	}
	dec := json.NewDecoder(io.LimitReader(bytes.NewReader(b), MaxDocumentSize))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cp); err != nil {
		return cp, fmt.Errorf("update policy %s: %w", path, err)
	}
	if cp.PinnedVersion != "" {
		if _, err := version.NewSemver(cp.PinnedVersion); err != nil {
			return cp, fmt.Errorf("update policy %s: pinnedVersion %q is not a version", path, cp.PinnedVersion)
		}
	}
	return cp, nil
}

// WriteControlPolicy writes the policy file atomically (the agent and
// dmgcmd -toffau/-tonau call it).
func WriteControlPolicy(path string, cp ControlPolicy) error {
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'), 0o644)
}

// Apply merges cp into p.
func (cp ControlPolicy) Apply(p Policy) Policy {
	if cp.AutoUpdate != nil {
		p.AutoUpdate = *cp.AutoUpdate
	}
	if cp.PinnedVersion != "" {
		p.Pinned = cp.PinnedVersion
	}
	return p
}

// Run checks every interval and applies what the policy allows, until ctx
// ends. Policy refusals are logged, not returned. reload (optional) is
// called before every check to refresh the policy (control-plane file).
func (u *Updater) Run(ctx context.Context, interval time.Duration, reload func(Policy) (Policy, error)) error {
	base := u.o.Policy
	for {
		if reload != nil {
			p, err := reload(base)
			if err != nil {
				u.o.Logger.Warn("reload update policy", "err", err)
			} else {
				u.o.Policy = p
			}
		}
		res, err := u.Apply(ctx, Request{})
		switch {
		case err == nil:
			u.o.Logger.Info("updated", "from", res.From, "to", res.To)
			// The binary under this process changed; the service manager
			// restarts the updater on exit, so return and let it.
			return nil
		case errors.Is(err, context.Canceled):
			return err
		case errors.Is(err, ErrUpToDate), errors.Is(err, ErrAutoUpdateOff), errors.Is(err, ErrOutsideWindow),
			errors.Is(err, ErrNotInRollout):
			u.o.Logger.Info("no update", "reason", err)
		default:
			u.o.Logger.Warn("update check", "err", err)
		}
		if err := sleepCtx(ctx, interval); err != nil {
			return err
		}
	}
}
