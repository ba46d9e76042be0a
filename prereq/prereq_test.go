package prereq

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shirhq/shir/internal/exitcode"
)

// fixed is a check with a fixed verdict.
type fixed struct {
	id string
	v  Verdict
}

func (f fixed) ID() string                    { return f.id }
func (f fixed) Check(context.Context) Verdict { return f.v }

type panicky struct{}

func (panicky) ID() string                    { return "admin" }
func (panicky) Check(context.Context) Verdict { panic("boom") }

type blocking struct{}

func (blocking) ID() string { return "clock-skew" }
func (blocking) Check(ctx context.Context) Verdict {
	<-ctx.Done()
	select {} // ignores ctx on purpose: Run must not wait for it
}

func sampleChecks() []Checker {
	return []Checker{
		fixed{"os-version", Pass("Debian 12 is supported")},
		fixed{"dotnet-472", Fail(SeverityError, "install it", "missing")},
		fixed{"cpu-cores", Fail(SeverityWarning, "more cores", "2 cores")},
		fixed{"power", Unknown(SeverityWarning, "powercfg", "the power plan", errors.New("not implemented"))},
		fixed{"port-free", Skip("remote access is off")},
		fixed{"systemd", Fail(SeverityError, "boot with systemd", "no systemd")},
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		ignore     []string
		wantFailed []string
		wantIgn    []string
		summary    Summary
	}{
		{"no ignore", nil, []string{"dotnet-472", "systemd"}, nil, Summary{OK: 1, Warnings: 2, Errors: 2, Skipped: 1}},
		{"ignore one", []string{"DotNet-472"}, []string{"systemd"}, []string{"dotnet-472"}, Summary{OK: 1, Warnings: 3, Errors: 1, Skipped: 1}},
		{"ignore list in one flag", []string{"dotnet-472, systemd"}, nil, []string{"dotnet-472", "systemd"}, Summary{OK: 1, Warnings: 4, Skipped: 1}},
		{"ignore all", []string{"all"}, nil, []string{"dotnet-472", "systemd"}, Summary{OK: 1, Warnings: 4, Skipped: 1}},
		{"ignoring a warning changes nothing", []string{"cpu-cores"}, []string{"dotnet-472", "systemd"}, nil, Summary{OK: 1, Warnings: 2, Errors: 2, Skipped: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), sampleChecks(), tt.ignore)
			if got := res.Failed(); !slices.Equal(got, tt.wantFailed) {
				t.Errorf("Failed() = %v, want %v", got, tt.wantFailed)
			}
			var ign []string
			for _, c := range res.Checks {
				if c.Ignored {
					ign = append(ign, c.ID)
				}
			}
			if !slices.Equal(ign, tt.wantIgn) {
				t.Errorf("ignored = %v, want %v", ign, tt.wantIgn)
			}
			if res.Summary != tt.summary {
				t.Errorf("summary = %+v, want %+v", res.Summary, tt.summary)
			}
			if len(tt.wantFailed) > 0 {
				if !errors.Is(err, exitcode.ErrPrereq) || !errors.Is(err, ErrChecksFailed) || exitcode.Code(err) != 3 {
					t.Errorf("err = %v, want ErrPrereq (exit 3)", err)
				}
				for _, id := range tt.wantFailed {
					if !strings.Contains(err.Error(), id) {
						t.Errorf("err %q does not name %s", err, id)
					}
				}
			} else if err != nil {
				t.Errorf("err = %v, want nil", err)
			}
			if res.Passed != (len(tt.wantFailed) == 0) || res.Schema != SchemaVersion || res.OS == "" {
				t.Errorf("results header = %+v", res)
			}
			// Order follows the list.
			for i, c := range sampleChecks() {
				if res.Checks[i].ID != c.ID() {
					t.Errorf("check %d is %s, want %s", i, res.Checks[i].ID, c.ID())
				}
			}
		})
	}
}

func TestRunBadIgnore(t *testing.T) {
	_, err := Run(context.Background(), sampleChecks(), []string{"dotnet-427"})
	if !errors.Is(err, exitcode.ErrUsage) || !strings.Contains(err.Error(), `"dotnet-427"`) {
		t.Fatalf("err = %v, want usage error naming the id", err)
	}
}

func TestParseIgnore(t *testing.T) {
	got, err := ParseIgnore([]string{" Java ,fips", "java", "", "ALL"})
	if err != nil || !slices.Equal(got, []string{"java", "fips", "all"}) {
		t.Fatalf("ParseIgnore = %v, %v", got, err)
	}
	if !slices.IsSorted(KnownIDs()) {
		t.Error("KnownIDs is not sorted")
	}
}

func TestRunPanicAndMalformed(t *testing.T) {
	res, err := Run(context.Background(), []Checker{
		panicky{},
		fixed{"java", Verdict{Status: StatusFailed}},                        // no severity: becomes an error
		fixed{"fips", Verdict{Status: "maybe"}},                             // bad status
		fixed{"memory", Verdict{Status: StatusOK, Severity: SeverityError}}, // ok has no severity
	}, nil)
	if !errors.Is(err, exitcode.ErrPrereq) {
		t.Fatalf("err = %v", err)
	}
	want := []Result{
		{ID: "admin", Status: StatusUnknown, Severity: SeverityError},
		{ID: "java", Status: StatusFailed, Severity: SeverityError},
		{ID: "fips", Status: StatusUnknown, Severity: SeverityError},
		{ID: "memory", Status: StatusOK},
	}
	for i, w := range want {
		g := res.Checks[i]
		if g.ID != w.ID || g.Status != w.Status || g.Severity != w.Severity {
			t.Errorf("check %d = %+v, want %+v", i, g, w)
		}
	}
	if !strings.Contains(res.Checks[0].Message, "check panicked: boom") {
		t.Errorf("panic message %q", res.Checks[0].Message)
	}
}

func TestRunOneTimeout(t *testing.T) {
	v := runOne(context.Background(), blocking{}, time.Millisecond)
	if v.Status != StatusUnknown || v.Severity != SeverityWarning || !strings.Contains(v.Message, "did not finish") {
		t.Fatalf("verdict = %+v", v)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, []Checker{blocking{}}, nil)
	if !errors.Is(err, context.Canceled) || exitcode.Code(err) != exitcode.Cancelled || len(res.Checks) != 1 {
		t.Fatalf("Run(cancelled) = %+v, %v", res, err)
	}
}
