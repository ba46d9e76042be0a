package cli

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/shirhq/shir/firewall"
	"github.com/shirhq/shir/firewall/firewalltest"
)

// fakeFirewall makes the firewall commands use f, with a probe that reports
// listener on every port.
func fakeFirewall(t *testing.T, f *firewalltest.Fake, listener firewall.Listener) {
	old := newFirewall
	t.Cleanup(func() { newFirewall = old })
	newFirewall = func(_ context.Context, o firewall.Options) (*firewall.Manager, error) {
		if o.Backend != "auto" && o.Backend != "fake" {
			return nil, errors.New("unexpected backend " + o.Backend)
		}
		o.Probe = func(int) (firewall.Listener, error) { return listener, nil }
		return firewall.NewManager(f, o), nil
	}
}

func TestFirewallCommands(t *testing.T) {
	f := firewalltest.NewFake()
	fakeFirewall(t, f, firewall.Listener{Listening: true, Program: "shir", PID: 42})

	steps := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"status"}, 0, "backend:   fake\nport:      8060/tcp\nrule:      absent\nlistening: yes, by shir (pid 42)\n"},
		{[]string{"open"}, 0, "[firewall] fake: opened TCP port 8060 (rule \"shir remote access\")\n"},
		{[]string{"open"}, 0, "[firewall] fake: TCP port 8060 already open (rule \"shir remote access\"); nothing changed\n"},
		{[]string{"status"}, 0, "backend:   fake\nport:      8060/tcp\nrule:      present (tagged \"shir remote access\")\nlistening: yes, by shir (pid 42)\n"},
		{[]string{"open", "--port", "9000"}, 0, "[firewall] fake: opened TCP port 9000 (rule \"shir remote access\")\n[firewall] fake: removed the rule for TCP port 8060\n"},
		{[]string{"status"}, 0, "backend:   fake\nport:      8060/tcp\nrule:      absent\nalso open: 9000 (other ports with a shir rule)\nlistening: yes, by shir (pid 42)\n"},
		{[]string{"close"}, 0, "[firewall] fake: removed the rule for TCP port 9000\n"},
		{[]string{"close", "--port", "9000"}, 0, "[firewall] fake: no rule of shir to remove; nothing changed\n"},
	}
	for _, s := range steps {
		code, out, errOut := run(t, append([]string{"shir", "firewall"}, s.args...)...)
		if code != s.code || out != s.out {
			t.Fatalf("shir firewall %v: code %d, stdout:\n%s\nwant:\n%s\nstderr: %s", s.args, code, out, s.out, errOut)
		}
	}
	if f.String() != firewalltest.NewFake().String() {
		t.Errorf("rules left behind:\n%s", f.String())
	}
}

func TestFirewallJSON(t *testing.T) {
	fakeFirewall(t, firewalltest.NewFake(), firewall.Listener{})
	code, out, _ := run(t, "shir", "firewall", "open", "--port", "8061", "--json")
	var r firewall.Result
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || !r.Changed || r.Port != 8061 || r.Backend != "fake" {
		t.Fatalf("open --json: code %d, %q", code, out)
	}
	code, out, _ = run(t, "shir", "firewall", "status", "--port", "8061", "--json")
	var s map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s["rulePresent"] != true || s["listening"] != false || s["backend"] != "fake" {
		t.Fatalf("status --json: code %d, %q", code, out)
	}
}

func TestFirewallErrors(t *testing.T) {
	fakeFirewall(t, firewalltest.NewFake(), firewall.Listener{Listening: true, Program: "nginx", PID: 77})
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"bad port", []string{"open", "--port", "0"}, 2, "port 0: must be between 1 and 65535"},
		{"port too big", []string{"status", "--port", "70000"}, 2, "port 70000"},
		{"not a number", []string{"open", "--port", "abc"}, 2, "invalid argument"},
		{"port held by another program", []string{"open"}, 3, "nginx (pid 77) listens on it"},
		{"extra argument", []string{"open", "8060"}, 2, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, append([]string{"shir", "firewall"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("code %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.wantErr)
			}
		})
	}
	code, out, _ := run(t, "shir", "firewall", "status")
	if code != 0 || !strings.Contains(out, "listening: yes, by nginx (pid 77), which is not shir") {
		t.Errorf("status: %d %q", code, out)
	}
}

func TestFirewallUnknownBackend(t *testing.T) {
	// The real constructor: an unknown backend is a usage error, before any change.
	code, _, errOut := run(t, "shir", "firewall", "open", "--backend", "pf")
	if code != 2 || !strings.Contains(errOut, `backend "pf"`) {
		t.Errorf("code %d, stderr %q", code, errOut)
	}
}
