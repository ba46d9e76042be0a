package provision

import (
	"context"
	"fmt"
	"strconv"

	"github.com/shirhq/shir/firewall"
)

// DefaultPort is the remote-access port when PORT is not given.
const DefaultPort = 8060

func remotePort(env *Env) int {
	if p, err := strconv.Atoi(env.Props["PORT"]); err == nil {
		return p
	}
	return DefaultPort
}

// firewallStep opens the remote-access port (the one tagged rule of package
// firewall) unless NOFIREWALL=1, and closes exactly that rule on undo.
type firewallStep struct {
	newManager func(ctx context.Context, env *Env) (*firewall.Manager, error) // default firewall.New
}

var (
	_ Step    = (*firewallStep)(nil)
	_ Undoer  = (*firewallStep)(nil)
	_ Skipper = (*firewallStep)(nil)
	_ Planner = (*firewallStep)(nil)
)

func (*firewallStep) Name() string { return "firewall" }

func (s *firewallStep) Skip(env *Env) (bool, string) {
	if env.Props["NOFIREWALL"] == "1" {
		return true, firewall.SkipNotice(remotePort(env))
	}
	if env.Root != "" && env.NoService {
		return true, fmt.Sprintf("sandbox install (--root --no-service): the host firewall is not touched; port %d is not opened", remotePort(env))
	}
	return false, ""
}

func (s *firewallStep) Plan(env *Env) []string {
	return []string{fmt.Sprintf("open TCP port %d for remote access (rule \"shir remote access\")", remotePort(env))}
}

func (s *firewallStep) manager(ctx context.Context, env *Env) (*firewall.Manager, error) {
	if s.newManager != nil {
		return s.newManager(ctx, env)
	}
	return firewall.New(ctx, firewall.Options{Logger: env.Log})
}

func (s *firewallStep) Apply(ctx context.Context, env *Env) error {
	m, err := s.manager(ctx, env)
	if err != nil {
		return err
	}
	port := remotePort(env)
	if _, err := m.Open(ctx, port); err != nil {
		return err
	}
	env.Journal.Set("firewall.port", strconv.Itoa(port))
	env.Journal.Set("firewall.backend", m.Backend())
	env.printf("firewall", "opened TCP port %d (%s)", port, m.Backend())
	return nil
}

func (s *firewallStep) Undo(ctx context.Context, env *Env) error {
	port, err := strconv.Atoi(env.Journal.Get("firewall.port"))
	if err != nil {
		port = remotePort(env)
	}
	m, err := s.manager(ctx, env)
	if err != nil {
		return err
	}
	_, err = m.Close(ctx, port)
	return err
}
