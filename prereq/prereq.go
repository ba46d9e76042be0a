package prereq

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shirhq/shir/internal/exitcode"
)

// Checker is one prerequisite check.
type Checker interface {
	// ID is stable, lowercase and unique: it names the check in output, in
	// --ignore and in IGNOREPREREQ.
	ID() string
	// Check probes the machine. It must honour ctx and never panic; Run
	// recovers a panic into an unknown verdict anyway.
	Check(ctx context.Context) Verdict
}

// Status is the outcome of one check.
type Status string

// Statuses of a Verdict.
const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusUnknown Status = "unknown" // the fact could not be determined; Message says why
	StatusSkipped Status = "skipped" // does not apply here; Message says why
)

// Severity says whether a failed or unknown check stops an install.
type Severity string

// Severities of failed and unknown verdicts.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Verdict is what a check found.
type Verdict struct {
	Status   Status
	Severity Severity // for failed and unknown; empty otherwise
	Message  string
	Fix      string // what to do about it; empty when nothing
}

// Pass is an ok verdict.
func Pass(format string, a ...any) Verdict {
	return Verdict{Status: StatusOK, Message: fmt.Sprintf(format, a...)}
}

// Fail is a failed verdict of severity sev.
func Fail(sev Severity, fix, format string, a ...any) Verdict {
	return Verdict{Status: StatusFailed, Severity: sev, Message: fmt.Sprintf(format, a...), Fix: fix}
}

// Unknown is a verdict for a fact that could not be determined: what names
// it ("the .NET Framework release"), err says why.
func Unknown(sev Severity, fix, what string, err error) Verdict {
	return Verdict{Status: StatusUnknown, Severity: sev, Message: fmt.Sprintf("could not determine %s: %v", what, err), Fix: fix}
}

// Skip is a verdict for a check that does not apply.
func Skip(format string, a ...any) Verdict {
	return Verdict{Status: StatusSkipped, Message: fmt.Sprintf(format, a...)}
}

// Result is the verdict of one check after the ignore list was applied.
type Result struct {
	ID       string   `json:"id"`
	Status   Status   `json:"status"`
	Severity Severity `json:"severity"`
	Ignored  bool     `json:"ignored"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix"`
}

// Summary counts results by their effective severity.
type Summary struct {
	OK       int `json:"ok"`
	Warnings int `json:"warnings"`
	Errors   int `json:"errors"`
	Skipped  int `json:"skipped"`
}

// SchemaVersion is the "schema" field of the JSON output.
const SchemaVersion = 1

// Results is the outcome of Run, in the order of the check list.
type Results struct {
	Schema  int      `json:"schema"`
	OS      string   `json:"os"`
	Arch    string   `json:"arch"`
	Passed  bool     `json:"passed"`
	Summary Summary  `json:"summary"`
	Checks  []Result `json:"checks"`
}

// Failed returns the ids whose error was not ignored.
func (r Results) Failed() []string {
	var ids []string
	for _, c := range r.Checks {
		if c.Severity == SeverityError {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// Err returns nil when no error remains, else an error wrapping
// exitcode.ErrPrereq that names the failed checks.
func (r Results) Err() error {
	ids := r.Failed()
	if len(ids) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s (fix them, or ignore with --ignore %s)", ErrChecksFailed, strings.Join(ids, ", "), strings.Join(ids, ","))
}

// ErrChecksFailed is wrapped by the error of Run when an error remains. It is
// exitcode.ErrPrereq, so the CLI maps it to exit code 3 (1603 msiexec-style).
var ErrChecksFailed = exitcode.ErrPrereq

// DefaultTimeout bounds one check. A check still running then is reported as
// unknown with severity warning (its goroutine is left to finish on its own).
const DefaultTimeout = 15 * time.Second

// IgnoreAll in the ignore list demotes every error to a warning.
const IgnoreAll = "all"

// ParseIgnore splits a comma-separated ignore list (--ignore, IGNOREPREREQ),
// lower-cases and checks every id against KnownIDs. The error wraps
// exitcode.ErrUsage and names the bad id.
func ParseIgnore(list []string) ([]string, error) {
	var out []string
	for _, item := range list {
		for _, id := range strings.Split(item, ",") {
			id = strings.ToLower(strings.TrimSpace(id))
			if id == "" {
				continue
			}
			if id != IgnoreAll && !slices.Contains(KnownIDs(), id) {
				return nil, fmt.Errorf("%w: ignore: unknown check id %q (known: %s, or all)", exitcode.ErrUsage, id, strings.Join(KnownIDs(), ", "))
			}
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out, nil
}

// KnownIDs returns the id of every check on every OS, sorted.
func KnownIDs() []string {
	return []string{
		"admin", "clock-skew", "cpu-cores", "cpu-speed", "disk", "dotnet-472", "fips", "java",
		"logon-right", "memory", "not-dc", "os-arch", "os-version", "pbi-gateway", "port-free",
		"power", "single-instance", "systemd", "vcredist2010",
	}
}

// Run runs checks concurrently and returns their results in list order. Errors
// of checks whose id is in ignore (or when ignore holds "all") become
// warnings. The error wraps exitcode.ErrUsage for a bad ignore list,
// ErrChecksFailed (exitcode.ErrPrereq) when an error remains, or ctx.Err()
// when ctx ends first; Results is filled in every case but the first.
func Run(ctx context.Context, checks []Checker, ignore []string) (Results, error) {
	ign, err := ParseIgnore(ignore)
	if err != nil {
		return Results{}, err
	}
	res := Results{Schema: SchemaVersion, OS: runtime.GOOS, Arch: runtime.GOARCH, Checks: make([]Result, len(checks))}
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			v := runOne(ctx, c, DefaultTimeout)
			res.Checks[i] = apply(c.ID(), v, ign)
		})
	}
	wg.Wait()
	for _, r := range res.Checks {
		switch {
		case r.Status == StatusSkipped:
			res.Summary.Skipped++
		case r.Severity == SeverityError:
			res.Summary.Errors++
		case r.Severity == SeverityWarning:
			res.Summary.Warnings++
		default:
			res.Summary.OK++
		}
	}
	res.Passed = res.Summary.Errors == 0
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("prerequisite checks: %w", err)
	}
	return res, res.Err()
}

// runOne runs c with a timeout and turns a panic or a timeout into an unknown
// verdict, and a malformed verdict into a well-formed one.
func runOne(ctx context.Context, c Checker, timeout time.Duration) Verdict {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan Verdict, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- Unknown(SeverityError, "report this as a bug in shir", "the result", fmt.Errorf("check panicked: %v", p))
			}
		}()
		done <- c.Check(ctx)
	}()
	select {
	case v := <-done:
		return normalize(v)
	case <-ctx.Done():
		return Unknown(SeverityWarning, "", "the result", fmt.Errorf("check did not finish: %w", ctx.Err()))
	}
}

// normalize makes a verdict well formed: a failed or unknown verdict without
// a severity is an error (never a silent pass); ok and skipped have none.
func normalize(v Verdict) Verdict {
	switch v.Status {
	case StatusOK, StatusSkipped:
		v.Severity = ""
	case StatusFailed, StatusUnknown:
		if v.Severity != SeverityWarning {
			v.Severity = SeverityError
		}
	default:
		v = Verdict{Status: StatusUnknown, Severity: SeverityError, Message: fmt.Sprintf("check returned status %q", v.Status)}
	}
	return v
}

// apply turns a verdict into a result, demoting an ignored error.
func apply(id string, v Verdict, ignore []string) Result {
	r := Result{ID: id, Status: v.Status, Severity: v.Severity, Message: v.Message, Fix: v.Fix}
	if r.Severity == SeverityError && (slices.Contains(ignore, IgnoreAll) || slices.Contains(ignore, strings.ToLower(id))) {
		r.Severity = SeverityWarning
		r.Ignored = true
	}
	return r
}
