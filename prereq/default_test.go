package prereq

import (
	"context"
	"net"
	"runtime"
	"slices"
	"testing"
)

// freePort returns a TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var wantIDs = map[string][]string{
	"linux": {"os-version", "os-arch", "systemd", "admin", "power", "fips", "java", "cpu-cores", "cpu-speed",
		"memory", "disk", "single-instance", "port-free", "clock-skew"},
	"windows": {"os-version", "os-arch", "not-dc", "dotnet-472", "admin", "power", "fips", "java", "vcredist2010",
		"cpu-cores", "cpu-speed", "memory", "disk", "single-instance", "pbi-gateway", "logon-right", "port-free", "clock-skew"},
}

// TestDefault builds the real list of this OS, runs it on this machine and
// checks its shape: the ids of DESIGN.md in order, and well-formed results.
// On Windows this runs under Wine with the real registry, SCM, LSA and
// power API.
func TestDefault(t *testing.T) {
	checks := Default(Options{Port: freePort(t)})
	var ids []string
	for _, c := range checks {
		ids = append(ids, c.ID())
		if !slices.Contains(KnownIDs(), c.ID()) {
			t.Errorf("%s is not in KnownIDs", c.ID())
		}
	}
	if want, ok := wantIDs[runtime.GOOS]; ok && !slices.Equal(ids, want) {
		t.Errorf("ids = %v\nwant %v", ids, want)
	}
	res, _ := Run(context.Background(), checks, nil)
	for _, r := range res.Checks {
		t.Logf("%-16s %-18s %s", r.ID, r.ResultText(), r.Message)
		if r.Message == "" {
			t.Errorf("%s: empty message", r.ID)
		}
		switch r.Status {
		case StatusOK, StatusSkipped:
			if r.Severity != "" {
				t.Errorf("%s: %s with severity %s", r.ID, r.Status, r.Severity)
			}
		case StatusFailed, StatusUnknown:
			if r.Severity != SeverityError && r.Severity != SeverityWarning {
				t.Errorf("%s: %s without severity", r.ID, r.Status)
			}
		default:
			t.Errorf("%s: status %q", r.ID, r.Status)
		}
	}
	byID := func(id string) Result {
		i := slices.IndexFunc(res.Checks, func(r Result) bool { return r.ID == id })
		if i < 0 {
			t.Fatalf("no %s", id)
		}
		return res.Checks[i]
	}
	// Facts that hold on this machine, CI and Wine alike.
	if r := byID("os-arch"); r.Status != StatusOK {
		t.Errorf("os-arch on a 64-bit test machine: %+v", r)
	}
	if r := byID("port-free"); r.Status != StatusOK {
		t.Errorf("port-free on a free port: %+v", r)
	}
	if r := byID("clock-skew"); r.Status != StatusSkipped {
		t.Errorf("clock-skew without a server: %+v", r)
	}
	if r := byID("memory"); r.Status == StatusUnknown {
		t.Errorf("memory not read through gopsutil: %+v", r)
	}
	// NoRemoteAccess skips the port check.
	for _, c := range Default(Options{NoRemoteAccess: true}) {
		if c.ID() == "port-free" {
			if v := c.Check(context.Background()); v.Status != StatusSkipped {
				t.Errorf("port-free with NoRemoteAccess: %+v", v)
			}
		}
	}
}

// BenchmarkDefault runs the whole check list of this OS with the real probes
// (gopsutil included), as `shir check` does.
func BenchmarkDefault(b *testing.B) {
	checks := Default(Options{Port: freePort(b)})
	ctx := context.Background()
	for b.Loop() {
		res, _ := Run(ctx, checks, nil)
		if len(res.Checks) != len(checks) {
			b.Fatal("missing results")
		}
	}
}
