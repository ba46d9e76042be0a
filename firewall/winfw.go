package firewall

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// Windows Firewall constants of the COM API (icftypes.h).
const (
	netFwIPProtocolTCP = 6
	netFwRuleDirIn     = 1
	netFwActionAllow   = 1
	netFwProfileAll    = 0x7FFFFFFF
)

// winRule is the part of an INetFwRule that shir sets and reads.
type winRule struct {
	Name, Description, Grouping string
	Protocol                    int
	LocalPorts                  string
	Direction, Action, Profiles int
	Enabled                     bool
}

// windowsRule builds the tagged rule for port.
func windowsRule(port int) winRule {
	return winRule{
		Name:        fmt.Sprintf("%s (TCP %d)", Tag, port),
		Description: "Inbound TCP for shir remote access between nodes; added and removed by shir",
		Grouping:    Tag,
		Protocol:    netFwIPProtocolTCP,
		LocalPorts:  fmt.Sprint(port),
		Direction:   netFwRuleDirIn,
		Action:      netFwActionAllow,
		Profiles:    netFwProfileAll,
		Enabled:     true,
	}
}

// winRulePort returns the port of one of our rules; ok is false for rules
// that are not ours or not a single TCP port.
func winRulePort(r winRule) (int, bool) {
	if r.Grouping != Tag || r.Protocol != netFwIPProtocolTCP || r.Direction != netFwRuleDirIn {
		return 0, false
	}
	return parsePort(strings.TrimSpace(r.LocalPorts))
}

// winRules is the rule collection of Windows Firewall (INetFwRules).
type winRules interface {
	list() ([]winRule, error)
	add(r winRule) error
	remove(name string) error // no error when absent
}

// winBackend is Windows Firewall. The COM adapter lives in winfw_windows.go.
type winBackend struct {
	rules winRules
	log   *slog.Logger
}

var _ Backend = (*winBackend)(nil)

func (*winBackend) Name() string { return Windows }

func (w *winBackend) ours() (map[string]int, error) {
	all, err := w.rules.list()
	if err != nil {
		return nil, err
	}
	m := map[string]int{}
	for _, r := range all {
		if p, ok := winRulePort(r); ok {
			m[r.Name] = p
		}
	}
	return m, nil
}

func (w *winBackend) Ports(context.Context) ([]int, error) {
	m, err := w.ours()
	if err != nil {
		return nil, err
	}
	var ports []int
	for _, p := range m {
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	slices.Sort(ports)
	return ports, nil
}

func (w *winBackend) Add(_ context.Context, port int) (bool, error) {
	m, err := w.ours()
	if err != nil {
		return false, err
	}
	for _, p := range m {
		if p == port {
			return false, nil
		}
	}
	r := windowsRule(port)
	if err := w.rules.add(r); err != nil {
		return false, fmt.Errorf("add rule %q: %w", r.Name, err)
	}
	return true, nil
}

func (w *winBackend) Remove(_ context.Context, port int) (bool, error) {
	m, err := w.ours()
	if err != nil {
		return false, err
	}
	changed := false
	for name, p := range m {
		if p != port {
			continue
		}
		if err := w.rules.remove(name); err != nil {
			return changed, fmt.Errorf("remove rule %q: %w", name, err)
		}
		changed = true
	}
	return changed, nil
}
