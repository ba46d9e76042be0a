package updater

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"
)

// Outcomes of an update attempt.
const (
	OutcomeUpdated    = "updated"
	OutcomeRolledBack = "rolled-back"
	OutcomeFailed     = "failed"
)

// Report is what the updater tells the control plane after an attempt that
// changed, or tried to change, the binary. Error never holds a secret.
type Report struct {
	NodeID  string    `json:"nodeId,omitempty"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Outcome string    `json:"outcome"`
	Error   string    `json:"error,omitempty"`
	Time    time.Time `json:"time"`
}

// Reporter sends reports to the control plane. The agent implements it with
// its control-plane client; the updater service, which has no control-plane
// credentials, uses FileReporter and the agent forwards the file.
type Reporter interface {
	Report(ctx context.Context, r Report) error
}

// FileReporter writes the last report to Path (last-update.json in the
// state directory), atomically.
type FileReporter struct{ Path string }

// Report writes r.
func (f FileReporter) Report(_ context.Context, r Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(f.Path, append(b, '\n'), 0o644)
}

// LogReporter logs reports.
type LogReporter struct{ Logger *slog.Logger }

// Report logs r.
func (l LogReporter) Report(_ context.Context, r Report) error {
	l.Logger.Info("update report", "from", r.From, "to", r.To, "outcome", r.Outcome, "error", r.Error)
	return nil
}

// Reporters sends a report to each in turn.
type Reporters []Reporter

// Report sends r to every reporter and returns the first error.
func (rs Reporters) Report(ctx context.Context, r Report) error {
	var first error
	for _, x := range rs {
		if err := x.Report(ctx, r); err != nil && first == nil {
			first = err
		}
	}
	return first
}
