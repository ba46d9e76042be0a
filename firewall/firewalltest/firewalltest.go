// Package firewalltest is the conformance suite of firewall backends (Run)
// and a recording fake backend (Fake), in the manner of restic's backend
// tests: the same suite runs against the fake on every `go test`, and against
// real nftables and iptables inside a network namespace when run as root.
package firewalltest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shirhq/shir/firewall"
	"github.com/shirhq/shir/internal/exitcode"
)

// Env is one backend under test, fresh for every subtest.
type Env struct {
	Backend firewall.Backend
	// Probe finds the listener on a port where the backend filters.
	Probe firewall.PortProbe
	// Self is the program name Probe reports for Listen's listener; "" when
	// the probe cannot name programs.
	Self string
	// Listen starts a TCP listener on port behind the firewall.
	Listen func(t *testing.T, port int) (stop func())
	// Reachable reports whether a TCP connect from the other side of the
	// firewall to port succeeds (false: it timed out).
	Reachable func(t *testing.T, port int) bool
	// Dump is the whole rule set as text, to see that nothing else changed.
	Dump func(t *testing.T) string
}

// Ports used by the suite; nothing else may listen on them where it runs.
const (
	PortA = 18060
	PortB = 18061
)

func manager(t *testing.T, e *Env, programs ...string) *firewall.Manager {
	return firewall.NewManager(e.Backend, firewall.Options{Probe: e.Probe, Programs: programs})
}

// Run runs the conformance suite against the Env that newEnv makes.
func Run(t *testing.T, newEnv func(t *testing.T) *Env) {
	ctx := context.Background()

	t.Run("OpenCloseCycle", func(t *testing.T) {
		e := newEnv(t)
		stop := e.Listen(t, PortA)
		defer stop()
		m := manager(t, e, "shir", e.Self)
		before := e.Dump(t)

		st := status(t, m, PortA)
		if st.RulePresent || !st.Listening {
			t.Fatalf("before Open: %+v, want no rule and a listener", st)
		}
		if e.Reachable(t, PortA) {
			t.Fatalf("port %d reachable before Open: the default-drop policy does not work", PortA)
		}

		res, err := m.Open(ctx, PortA)
		if err != nil || !res.Changed || res.Backend != e.Backend.Name() {
			t.Fatalf("Open = %+v, %v; want changed", res, err)
		}
		if st := status(t, m, PortA); !st.RulePresent || !slices.Equal(st.TaggedPorts, []int{PortA}) {
			t.Fatalf("after Open: %+v", st)
		}
		if !e.Reachable(t, PortA) {
			t.Fatalf("port %d not reachable after Open", PortA)
		}
		opened := e.Dump(t)
		if opened == before {
			t.Fatalf("rule dump did not change after Open:\n%s", opened)
		}

		res, err = m.Open(ctx, PortA)
		if err != nil || res.Changed {
			t.Fatalf("second Open = %+v, %v; want no change", res, err)
		}
		if d := e.Dump(t); d != opened {
			t.Fatalf("second Open changed the rules:\nbefore:\n%s\nafter:\n%s", opened, d)
		}

		res, err = m.Close(ctx, PortA)
		if err != nil || !res.Changed || !slices.Equal(res.Removed, []int{PortA}) {
			t.Fatalf("Close = %+v, %v", res, err)
		}
		if e.Reachable(t, PortA) {
			t.Fatalf("port %d reachable after Close", PortA)
		}
		if st := status(t, m, PortA); st.RulePresent {
			t.Fatalf("after Close: %+v", st)
		}
		if d := e.Dump(t); d != before {
			t.Fatalf("rules after Close differ from before Open (other rules touched?):\nbefore:\n%s\nafter:\n%s", before, d)
		}
		res, err = m.Close(ctx, PortA)
		if err != nil || res.Changed {
			t.Fatalf("second Close = %+v, %v; want no change", res, err)
		}
	})

	t.Run("InvalidPort", func(t *testing.T) {
		e := newEnv(t)
		m := manager(t, e, "shir", e.Self)
		before := e.Dump(t)
		for _, port := range []int{0, -1, 65536, 100000} {
			_, err := m.Open(ctx, port)
			if !errors.Is(err, exitcode.ErrUsage) || !strings.Contains(err.Error(), fmt.Sprintf("port %d", port)) {
				t.Errorf("Open(%d) = %v, want a usage error naming the port", port, err)
			}
			if _, err := m.Status(ctx, port); !errors.Is(err, exitcode.ErrUsage) {
				t.Errorf("Status(%d) = %v, want a usage error", port, err)
			}
		}
		if _, err := m.Close(ctx, 70000); !errors.Is(err, exitcode.ErrUsage) {
			t.Errorf("Close(70000) = %v, want a usage error", err)
		}
		if d := e.Dump(t); d != before {
			t.Errorf("bad input changed the rules:\n%s", d)
		}
	})

	t.Run("PortChange", func(t *testing.T) {
		e := newEnv(t)
		m := manager(t, e, "shir", e.Self)
		before := e.Dump(t)
		if _, err := m.Open(ctx, PortA); err != nil {
			t.Fatal(err)
		}
		res, err := m.Open(ctx, PortB)
		if err != nil || !res.Changed || !slices.Equal(res.Removed, []int{PortA}) {
			t.Fatalf("Open(%d) after Open(%d) = %+v, %v; want the old rule removed", PortB, PortA, res, err)
		}
		st := status(t, m, PortA)
		if st.RulePresent || !slices.Equal(st.TaggedPorts, []int{PortB}) {
			t.Fatalf("status after port change: %+v", st)
		}
		stop := e.Listen(t, PortB)
		defer stop()
		if !e.Reachable(t, PortB) {
			t.Fatalf("new port %d not reachable", PortB)
		}
		res, err = m.Close(ctx, 0)
		if err != nil || !slices.Equal(res.Removed, []int{PortB}) {
			t.Fatalf("Close(0) = %+v, %v; want every tagged rule removed", res, err)
		}
		if e.Reachable(t, PortB) {
			t.Fatalf("port %d reachable after Close(0)", PortB)
		}
		if d := e.Dump(t); d != before {
			t.Fatalf("rules after Close differ from before:\nbefore:\n%s\nafter:\n%s", before, d)
		}
	})

	t.Run("PortHeldByAnotherProgram", func(t *testing.T) {
		e := newEnv(t)
		if e.Self == "" {
			t.Skip("this env's probe cannot name the program on a port; not run")
		}
		stop := e.Listen(t, PortA)
		defer stop()
		m := manager(t, e) // only shir may hold the port; the test's listener is another program
		before := e.Dump(t)
		_, err := m.Open(ctx, PortA)
		if !errors.Is(err, firewall.ErrPortInUse) || !errors.Is(err, exitcode.ErrPrereq) || !strings.Contains(err.Error(), e.Self) {
			t.Fatalf("Open on a held port = %v; want ErrPortInUse naming %q", err, e.Self)
		}
		st := status(t, m, PortA)
		if !st.Listening || !st.OtherOwner || st.Program != e.Self || st.PID == 0 {
			t.Fatalf("Status = %+v; want the other program reported", st)
		}
		if d := e.Dump(t); d != before {
			t.Fatalf("a refused Open changed the rules:\n%s", d)
		}
	})
}

func status(t *testing.T, m *firewall.Manager, port int) firewall.Status {
	t.Helper()
	st, err := m.Status(context.Background(), port)
	if err != nil {
		t.Fatalf("Status(%d): %v", port, err)
	}
	return st
}

// Fake is an in-memory firewall with a default-drop policy that records the
// calls it gets. Other is a set of unrelated rules that must survive.
type Fake struct {
	mu    sync.Mutex
	rules map[int]int // port -> number of tagged rules
	Other []string
	calls []string

	// FailAdd makes Add fail; with PartialAdd it adds the rule first (a
	// backend that fails half way, like ip6tables after iptables).
	FailAdd    error
	PartialAdd bool
	// FailRemove makes Remove fail.
	FailRemove error
	// ForgetAdd makes Add report success without adding (verification fails).
	ForgetAdd bool
	// FailPorts makes Ports fail.
	FailPorts error
}

var _ firewall.Backend = (*Fake)(nil)

// NewFake returns a Fake holding two unrelated rules.
func NewFake() *Fake {
	return &Fake{rules: map[int]int{}, Other: []string{"allow tcp 22 (admin)", "drop udp 53 (admin)"}}
}

func (*Fake) Name() string { return "fake" }

func (f *Fake) Ports(context.Context) ([]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.FailPorts != nil {
		return nil, f.FailPorts
	}
	var ports []int
	for p, n := range f.rules {
		if n > 0 {
			ports = append(ports, p)
		}
	}
	slices.Sort(ports)
	return ports, nil
}

func (f *Fake) Add(_ context.Context, port int) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("add %d", port))
	if f.FailAdd != nil {
		if f.PartialAdd {
			f.rules[port]++
		}
		return false, f.FailAdd
	}
	if f.rules[port] > 0 {
		return false, nil
	}
	if !f.ForgetAdd {
		f.rules[port]++
	}
	return true, nil
}

func (f *Fake) Remove(_ context.Context, port int) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("remove %d", port))
	if f.FailRemove != nil {
		return false, f.FailRemove
	}
	if f.rules[port] == 0 {
		return false, nil
	}
	delete(f.rules, port)
	return true, nil
}

// Open reports whether inbound TCP to port passes (default drop).
func (f *Fake) Open(port int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rules[port] > 0
}

// Calls returns the recorded Add/Remove calls, one a line.
func (f *Fake) Calls() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, "\n")
}

// String prints the rule set: the other rules, then ours.
func (f *Fake) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	b.WriteString("policy drop\n")
	for _, o := range f.Other {
		b.WriteString(o + "\n")
	}
	var ports []int
	for p, n := range f.rules {
		for range n {
			ports = append(ports, p)
		}
	}
	slices.Sort(ports)
	for _, p := range ports {
		fmt.Fprintf(&b, "allow tcp %d (%s)\n", p, firewall.Tag)
	}
	return b.String()
}

// FakeEnv is an Env over a Fake (see SimEnv).
func FakeEnv(f *Fake) *Env { return SimEnv(f, f.Open, f.String) }

// SimEnv is an Env over a simulated firewall: allows(port) says whether the
// simulation lets inbound TCP to port in, dump prints its state. A listener
// is a set entry, the probe reports it as program "otherapp" with pid 4242,
// and a port is reachable when it listens and allows(port).
func SimEnv(b firewall.Backend, allows func(port int) bool, dump func() string) *Env {
	var mu sync.Mutex
	listening := map[int]bool{}
	return &Env{
		Backend: b,
		Self:    "otherapp",
		Probe: func(port int) (firewall.Listener, error) {
			mu.Lock()
			defer mu.Unlock()
			if listening[port] {
				return firewall.Listener{Listening: true, Program: "otherapp", PID: 4242}, nil
			}
			return firewall.Listener{}, nil
		},
		Listen: func(t *testing.T, port int) func() {
			mu.Lock()
			defer mu.Unlock()
			listening[port] = true
			return func() { mu.Lock(); delete(listening, port); mu.Unlock() }
		},
		Reachable: func(t *testing.T, port int) bool {
			mu.Lock()
			l := listening[port]
			mu.Unlock()
			return l && allows(port)
		},
		Dump: func(*testing.T) string { return dump() },
	}
}
