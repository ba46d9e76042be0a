package provision

import (
	"context"
	"strings"
	"testing"

	"github.com/shirhq/shir/firewall"
	"github.com/shirhq/shir/firewall/firewalltest"
)

func TestFirewallStep(t *testing.T) {
	fake := firewalltest.NewFake()
	s := &firewallStep{newManager: func(context.Context, *Env) (*firewall.Manager, error) {
		return firewall.NewManager(fake, firewall.Options{Probe: func(int) (firewall.Listener, error) { return firewall.Listener{}, nil }}), nil
	}}
	env := newEnv(t)
	env.Root = "" // a system install
	env.Props = PropertySet{"PORT": "8061"}
	if skip, _ := s.Skip(env); skip {
		t.Fatal("skipped without NOFIREWALL")
	}
	if err := s.Apply(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if !fake.Open(8061) || env.Journal.Get("firewall.port") != "8061" {
		t.Fatalf("port not opened: %s", fake)
	}
	// The admin changes PORT later; undo still closes the port that was opened.
	env.Props = PropertySet{"PORT": "9999"}
	if err := s.Undo(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if fake.Open(8061) || !strings.Contains(fake.String(), "allow tcp 22 (admin)") {
		t.Fatalf("after undo: %s", fake)
	}

	env.Props = PropertySet{"NOFIREWALL": "1", "PORT": "8062"}
	if skip, why := s.Skip(env); !skip || !strings.Contains(why, "8062") {
		t.Errorf("NOFIREWALL: skip %v %q", skip, why)
	}
	env.Props = PropertySet{}
	env.Root, env.NoService = "/tmp/x", true
	if skip, why := s.Skip(env); !skip || !strings.Contains(why, "sandbox") {
		t.Errorf("sandbox: skip %v %q", skip, why)
	}
}
