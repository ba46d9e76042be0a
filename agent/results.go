package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/internal/atomicfile"
)

// ResultsDir holds results not yet acknowledged, one JSON file per job
// attempt, so that a restart or a control-plane outage loses none.
const ResultsDir = "results"

type pendingResult struct {
	JobID  string            `json:"jobId"`
	Result api.ResultRequest `json:"result"`
	Queued time.Time         `json:"queued"`
}

var resultName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}-[0-9]+\.json$`)

// outbox persists results and sends them until the control plane answers
// 200 (acknowledged) or says the lease is lost (dropped: another node owns
// the job now).
type outbox struct {
	dir     string
	send    func(ctx context.Context, jobID string, r api.ResultRequest) error
	backoff Backoff
	log     *slog.Logger

	mu   sync.Mutex // one flush at a time
	wake chan struct{}
}

func newOutbox(stateDir string, send func(context.Context, string, api.ResultRequest) error, b Backoff, log *slog.Logger) (*outbox, error) {
	dir := filepath.Join(stateDir, ResultsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("results dir: %w", err)
	}
	return &outbox{dir: dir, send: send, backoff: b, log: log, wake: make(chan struct{}, 1)}, nil
}

func (o *outbox) file(jobID string, attempt int) string {
	return filepath.Join(o.dir, fmt.Sprintf("%s-%d.json", jobID, attempt))
}

// Put stores a result durably, then wakes the sender.
func (o *outbox) Put(jobID string, r api.ResultRequest) error {
	b, err := json.Marshal(pendingResult{JobID: jobID, Result: r, Queued: time.Now().UTC()})
	if err != nil {
		return err
	}
	if err := atomicfile.Write(o.file(jobID, r.Attempt), b, 0o600); err != nil {
		return fmt.Errorf("store result of job %s: %w", jobID, err)
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return nil
}

// list returns the stored results, oldest first. Unreadable files are moved
// aside (.bad) and reported, never silently deleted.
func (o *outbox) list() []pendingResult {
	ents, _ := os.ReadDir(o.dir)
	var out []pendingResult
	for _, e := range ents {
		if e.IsDir() || !resultName.MatchString(e.Name()) {
			continue
		}
		p := filepath.Join(o.dir, e.Name())
		b, err := os.ReadFile(p)
		var pr pendingResult
		if err == nil {
			err = json.Unmarshal(b, &pr)
		}
		if err != nil || pr.JobID == "" {
			o.log.Error("unreadable pending result moved aside", "file", p, "err", err)
			_ = os.Rename(p, p+".bad")
			continue
		}
		out = append(out, pr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Queued.Before(out[j].Queued) })
	return out
}

// Pending counts results not yet acknowledged.
func (o *outbox) Pending() int { return len(o.list()) }

// flush sends every stored result once; it returns the first error that
// should be retried (nil: all done).
func (o *outbox) flush(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, pr := range o.list() {
		err := o.send(ctx, pr.JobID, pr.Result)
		switch {
		case err == nil:
			o.log.Info("result acknowledged", "job", pr.JobID, "attempt", pr.Result.Attempt, "outcome", pr.Result.Outcome)
		case isLeaseLost(err) || (isPermanent(err) && !isTokenErr(err)):
			o.log.Warn("result dropped by the control plane", "job", pr.JobID, "attempt", pr.Result.Attempt, "err", err)
		default:
			return err
		}
		_ = os.Remove(o.file(pr.JobID, pr.Result.Attempt))
	}
	return nil
}

// Run sends results until ctx ends, retrying with backoff.
func (o *outbox) Run(ctx context.Context) {
	n := 0
	for {
		err := o.flush(ctx)
		if err == nil {
			n = 0
			select {
			case <-ctx.Done():
				return
			case <-o.wake:
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		wait := o.backoff.Delay(n)
		n++
		o.log.Warn("sending results failed, will retry", "err", err, "retryIn", wait.Round(time.Millisecond), "pending", o.Pending())
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-time.After(wait):
		}
	}
}

// kick wakes the sender (e.g. after a reconnect).
func (o *outbox) kick() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}
