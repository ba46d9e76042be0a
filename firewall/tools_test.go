package firewall_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shirhq/shir/firewall"
	"github.com/shirhq/shir/firewall/firewalltest"
)

// fakeFirewalld simulates firewall-cmd against a running firewalld: the
// permanent configuration (services and the default zone) and the runtime one.
type fakeFirewalld struct {
	mu           sync.Mutex
	services     map[string][]string // permanent service -> ports
	zoneServices []string            // permanent default zone
	zonePorts    []string            // permanent default zone
	runServices  []string            // runtime default zone
	runPorts     []string            // runtime default zone
	failOn       string              // a call containing this fails
	denied       bool                // modifying calls need root
	calls        []string
}

func newFakeFirewalld() *fakeFirewalld {
	return &fakeFirewalld{
		services:     map[string][]string{"ssh": {"22/tcp"}, "dns": {"53/udp"}},
		zoneServices: []string{"dhcpv6-client", "ssh"},
		runServices:  []string{"dhcpv6-client", "ssh"},
		zonePorts:    []string{"9090/tcp"},
		runPorts:     []string{"9090/tcp", "5000/udp"},
	}
}

func toggle(list []string, v string, add bool) ([]string, int) {
	has := slices.Contains(list, v)
	switch {
	case add && has:
		return list, 11
	case !add && !has:
		return list, 12
	case add:
		return append(list, v), 0
	}
	return slices.DeleteFunc(list, func(s string) bool { return s == v }), 0
}

func (f *fakeFirewalld) run(_ context.Context, name string, args ...string) (string, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if name != "firewall-cmd" {
		return "", -1, fmt.Errorf("unexpected tool %s", name)
	}
	call := strings.Join(args, " ")
	f.calls = append(f.calls, call)
	if f.failOn != "" && strings.Contains(call, f.failOn) {
		return "Error: COMMAND_FAILED", 1, nil
	}
	perm := slices.Contains(args, "--permanent")
	var svc string
	var rest []string
	for _, a := range args {
		if s, ok := strings.CutPrefix(a, "--service="); ok {
			svc = s
		} else if a != "--permanent" {
			rest = append(rest, a)
		}
	}
	if len(rest) != 1 {
		return "usage", 2, nil
	}
	op, val, _ := strings.Cut(rest[0], "=")
	modifying := !strings.HasPrefix(op, "--query") && !strings.HasPrefix(op, "--get") && op != "--state"
	if f.denied && modifying {
		return "Authorization failed.\n    Make sure polkit agent is running or run the application as superuser.", 1, nil
	}
	code := 0
	yes := func(b bool) (string, int, error) {
		if b {
			return "yes", 0, nil
		}
		return "no", 1, nil
	}
	if svc != "" {
		ports, ok := f.services[svc]
		if !ok || !perm {
			return "Error: INVALID_SERVICE: " + svc, 101, nil
		}
		switch op {
		case "--get-ports":
			return strings.Join(ports, " "), 0, nil
		case "--query-port":
			return yes(slices.Contains(ports, val))
		case "--add-port":
			f.services[svc], code = toggle(ports, val, true)
		case "--remove-port":
			f.services[svc], code = toggle(ports, val, false)
		case "--set-short", "--set-description":
		default:
			return "usage", 2, nil
		}
		return "success", code, nil
	}
	switch {
	case op == "--state":
		return "running", 0, nil
	case op == "--new-service" && perm:
		if _, ok := f.services[val]; ok {
			return "Error: NAME_CONFLICT", 26, nil
		}
		f.services[val] = []string{}
	case op == "--delete-service" && perm:
		if _, ok := f.services[val]; !ok {
			return "Error: INVALID_SERVICE", 101, nil
		}
		delete(f.services, val)
	case op == "--query-service" && perm:
		return yes(slices.Contains(f.zoneServices, val))
	case op == "--add-service" && perm:
		if _, ok := f.services[val]; !ok {
			return "Error: INVALID_SERVICE", 101, nil
		}
		f.zoneServices, code = toggle(f.zoneServices, val, true)
	case op == "--remove-service" && perm:
		f.zoneServices, code = toggle(f.zoneServices, val, false)
	case op == "--query-port" && !perm:
		return yes(slices.Contains(f.runPorts, val))
	case op == "--add-port" && !perm:
		f.runPorts, code = toggle(f.runPorts, val, true)
	case op == "--remove-port" && !perm:
		f.runPorts, code = toggle(f.runPorts, val, false)
	default:
		return "usage: " + call, 2, nil
	}
	if code == 11 {
		return "Warning: ALREADY_ENABLED", 0, nil // firewall-cmd exits 0 on these warnings
	}
	if code == 12 {
		return "Warning: NOT_ENABLED", 0, nil
	}
	return "success", 0, nil
}

// allows: the runtime configuration lets port in.
func (f *fakeFirewalld) allows(port int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	pp := fmt.Sprintf("%d/tcp", port)
	if slices.Contains(f.runPorts, pp) {
		return true
	}
	for _, s := range f.runServices {
		if slices.Contains(f.services[s], pp) {
			return true
		}
	}
	return false
}

func (f *fakeFirewalld) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, s := range slices.Sorted(maps.Keys(f.services)) {
		fmt.Fprintf(&b, "permanent service %s: %s\n", s, strings.Join(slices.Sorted(slices.Values(f.services[s])), " "))
	}
	fmt.Fprintf(&b, "permanent zone: services %s; ports %s\n", strings.Join(slices.Sorted(slices.Values(f.zoneServices)), " "), strings.Join(slices.Sorted(slices.Values(f.zonePorts)), " "))
	fmt.Fprintf(&b, "runtime zone: services %s; ports %s\n", strings.Join(slices.Sorted(slices.Values(f.runServices)), " "), strings.Join(slices.Sorted(slices.Values(f.runPorts)), " "))
	return b.String()
}

func (f *fakeFirewalld) modifyingCalls() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if !strings.Contains(c, "--query") && !strings.Contains(c, "--get") && c != "--state" {
			out = append(out, c)
		}
	}
	return strings.Join(out, "\n")
}

func TestConformanceFirewalldSim(t *testing.T) {
	firewalltest.Run(t, func(t *testing.T) *firewalltest.Env {
		f := newFakeFirewalld()
		return firewalltest.SimEnv(firewall.NewFirewalld(firewall.ToolOptions{Run: f.run}), f.allows, f.String)
	})
}

func TestFirewalldCommands(t *testing.T) {
	f := newFakeFirewalld()
	m := firewall.NewManager(firewall.NewFirewalld(firewall.ToolOptions{Run: f.run}), firewall.Options{Probe: noListener})
	ctx := context.Background()
	if _, err := m.Open(ctx, 8060); err != nil {
		t.Fatal(err)
	}
	want := `--permanent --new-service=shir-remote-access
--permanent --service=shir-remote-access --set-short=shir remote access
--permanent --service=shir-remote-access --set-description=Inbound TCP for shir remote access between nodes; added and removed by shir
--permanent --service=shir-remote-access --add-port=8060/tcp
--permanent --add-service=shir-remote-access
--add-port=8060/tcp`
	if got := f.modifyingCalls(); got != want {
		t.Errorf("open calls:\n%s\nwant:\n%s", got, want)
	}
	f.calls = nil
	if _, err := m.Close(ctx, 0); err != nil {
		t.Fatal(err)
	}
	want = `--remove-port=8060/tcp
--permanent --service=shir-remote-access --remove-port=8060/tcp
--permanent --remove-service=shir-remote-access
--permanent --delete-service=shir-remote-access`
	if got := f.modifyingCalls(); got != want {
		t.Errorf("close calls:\n%s\nwant:\n%s", got, want)
	}
	for _, c := range strings.Split(strings.Join(f.calls, "\n"), "\n") {
		if strings.Contains(c, "--reload") {
			t.Errorf("shir must never reload firewalld: %s", c)
		}
	}
}

func TestFirewalldPartialFailureRollsBack(t *testing.T) {
	for _, failOn := range []string{"--set-short", "--permanent --add-service", "--add-port=8060/tcp"} {
		t.Run(failOn, func(t *testing.T) {
			f := newFakeFirewalld()
			before := f.String()
			f.failOn = failOn
			m := firewall.NewManager(firewall.NewFirewalld(firewall.ToolOptions{Run: f.run}), firewall.Options{Probe: noListener})
			_, err := m.Open(context.Background(), 8060)
			if err == nil || !strings.Contains(err.Error(), "COMMAND_FAILED") {
				t.Fatalf("Open = %v", err)
			}
			if got := f.String(); got != before {
				t.Errorf("not rolled back:\nbefore:\n%s\nafter:\n%s", before, got)
			}
		})
	}
}

func TestFirewalldDenied(t *testing.T) {
	f := newFakeFirewalld()
	f.denied = true
	m := firewall.NewManager(firewall.NewFirewalld(firewall.ToolOptions{Run: f.run}), firewall.Options{Probe: noListener})
	_, err := m.Open(context.Background(), 8060)
	if !errors.Is(err, firewall.ErrPermission) {
		t.Fatalf("Open = %v, want ErrPermission", err)
	}
}

// fakeUFW simulates ufw with its user rules.
type fakeUFW struct {
	mu     sync.Mutex
	rules  []string // "allow 22/tcp" or "allow 8060/tcp comment 'x'"
	denied bool
	calls  []string
}

func newFakeUFW() *fakeUFW {
	return &fakeUFW{rules: []string{"allow 22/tcp", "deny 23/tcp comment 'telnet off'"}}
}

func (u *fakeUFW) find(spec string) int {
	return slices.IndexFunc(u.rules, func(r string) bool { return r == spec || strings.HasPrefix(r, spec+" comment ") })
}

func (u *fakeUFW) run(_ context.Context, name string, args ...string) (string, int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if name != "ufw" {
		return "", -1, fmt.Errorf("unexpected tool %s", name)
	}
	u.calls = append(u.calls, strings.Join(args, " "))
	if u.denied {
		return "ERROR: You need to be root to run this script", 1, nil
	}
	switch {
	case len(args) == 1 && args[0] == "status":
		return "Status: active\n\nTo                         Action      From\n", 0, nil
	case len(args) == 2 && args[0] == "show" && args[1] == "added":
		if len(u.rules) == 0 {
			return "Added user rules (see 'ufw status' for running firewall):\n(None)\n", 0, nil
		}
		var b strings.Builder
		b.WriteString("Added user rules (see 'ufw status' for running firewall):\n")
		for _, r := range u.rules {
			b.WriteString("ufw " + r + "\n")
		}
		return b.String(), 0, nil
	case len(args) == 4 && args[0] == "allow" && args[2] == "comment":
		spec := "allow " + args[1]
		rule := spec + " comment '" + args[3] + "'"
		if i := u.find(spec); i >= 0 {
			if u.rules[i] == rule {
				return "Skipping adding existing rule\nSkipping adding existing rule (v6)\n", 0, nil
			}
			u.rules[i] = rule
			return "Rule updated\nRule updated (v6)\n", 0, nil
		}
		u.rules = append(u.rules, rule)
		return "Rule added\nRule added (v6)\n", 0, nil
	case len(args) == 3 && args[0] == "delete":
		i := u.find(args[1] + " " + args[2])
		if i < 0 {
			return "Could not delete non-existent rule\nCould not delete non-existent rule (v6)\n", 0, nil
		}
		u.rules = slices.Delete(u.rules, i, i+1)
		return "Rule deleted\nRule deleted (v6)\n", 0, nil
	}
	return "ERROR: Invalid syntax", 1, nil
}

func (u *fakeUFW) allows(port int) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.find(fmt.Sprintf("allow %d/tcp", port)) >= 0
}

func (u *fakeUFW) String() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return strings.Join(u.rules, "\n")
}

func TestConformanceUFWSim(t *testing.T) {
	firewalltest.Run(t, func(t *testing.T) *firewalltest.Env {
		u := newFakeUFW()
		return firewalltest.SimEnv(firewall.NewUFW(firewall.ToolOptions{Run: u.run}), u.allows, u.String)
	})
}

func TestUFWCommandsAndForeignRule(t *testing.T) {
	u := newFakeUFW()
	m := firewall.NewManager(firewall.NewUFW(firewall.ToolOptions{Run: u.run}), firewall.Options{Probe: noListener})
	ctx := context.Background()
	if _, err := m.Open(ctx, 8060); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Close(ctx, 8060); err != nil {
		t.Fatal(err)
	}
	want := "show added\nshow added\nallow 8060/tcp comment shir remote access\nshow added\nshow added\nshow added\ndelete allow 8060/tcp\nshow added"
	if got := strings.Join(u.calls, "\n"); got != want {
		t.Errorf("calls:\n%s\nwant:\n%s", got, want)
	}
	// Closing port 22 must not delete the admin's untagged "allow 22/tcp".
	before := u.String()
	res, err := m.Close(ctx, 22)
	if err != nil || res.Changed || u.String() != before {
		t.Fatalf("Close(22) = %+v, %v; rules now:\n%s", res, err, u.String())
	}
	// An untagged rule for the port is the admin's: shir does not take it over.
	res, err = m.Open(ctx, 22)
	if err == nil || !strings.Contains(err.Error(), "did not add") || u.String() != before {
		t.Fatalf("Open(22) over the admin's rule = %+v, %v; rules now:\n%s", res, err, u.String())
	}
	u.denied = true
	if _, err := m.Open(ctx, 8060); !errors.Is(err, firewall.ErrPermission) {
		t.Fatalf("Open as non-root = %v, want ErrPermission", err)
	}
}

func noListener(int) (firewall.Listener, error) { return firewall.Listener{}, nil }
