package firewall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"

	"github.com/coreos/go-iptables/iptables"
)

// IPTablesOptions configure the iptables backend.
type IPTablesOptions struct {
	// Path4 and Path6 are the iptables and ip6tables programs; "" looks
	// them up in PATH. A missing ip6tables is skipped with a log line.
	Path4, Path6 string
	Logger       *slog.Logger
}

// ipt is the part of *iptables.IPTables the backend uses.
type ipt interface {
	List(table, chain string) ([]string, error)
	Exists(table, chain string, rulespec ...string) (bool, error)
	Insert(table, chain string, pos int, rulespec ...string) error
	Delete(table, chain string, rulespec ...string) error
}

var _ ipt = (*iptables.IPTables)(nil)

type iptFamily struct {
	name string // iptables or ip6tables
	t    ipt
}

type iptablesBackend struct {
	fams []iptFamily
	log  *slog.Logger
}

var _ Backend = (*iptablesBackend)(nil)

// NewIPTables returns the iptables/ip6tables backend.
func NewIPTables(o IPTablesOptions) (Backend, error) {
	log := orDiscard(o.Logger)
	t4, err := newIPT(iptables.ProtocolIPv4, o.Path4)
	if err != nil {
		return nil, fmt.Errorf("iptables: %w", err)
	}
	b := &iptablesBackend{fams: []iptFamily{{"iptables", t4}}, log: log}
	t6, err := newIPT(iptables.ProtocolIPv6, o.Path6)
	if errors.Is(err, exec.ErrNotFound) {
		log.Warn("ip6tables not found; only the IPv4 rule is managed")
	} else if err != nil {
		return nil, fmt.Errorf("ip6tables: %w", err)
	} else {
		b.fams = append(b.fams, iptFamily{"ip6tables", t6})
	}
	return b, nil
}

// newIPT is iptables.New (its option type is unexported).
func newIPT(proto iptables.Protocol, path string) (*iptables.IPTables, error) {
	if path != "" {
		return iptables.New(iptables.IPFamily(proto), iptables.Timeout(10), iptables.Path(path))
	}
	return iptables.New(iptables.IPFamily(proto), iptables.Timeout(10))
}

func (*iptablesBackend) Name() string { return IPTables }

func (b *iptablesBackend) famPorts(f iptFamily) ([]int, error) {
	lines, err := f.t.List("filter", "INPUT")
	if err != nil {
		return nil, fmt.Errorf("%s -S INPUT: %w", f.name, err)
	}
	var ports []int
	for _, l := range lines {
		if p, ok := parseIPTablesRule(l); ok && !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// Ports is the union over IPv4 and IPv6, so that a half-removed rule is seen.
func (b *iptablesBackend) Ports(context.Context) ([]int, error) {
	var all []int
	for _, f := range b.fams {
		ports, err := b.famPorts(f)
		if err != nil {
			return nil, err
		}
		for _, p := range ports {
			if !slices.Contains(all, p) {
				all = append(all, p)
			}
		}
	}
	slices.Sort(all)
	return all, nil
}

// Add inserts the rule first in INPUT of each family that lacks it; when a
// family fails, the families done in this call are undone.
func (b *iptablesBackend) Add(_ context.Context, port int) (bool, error) {
	spec := iptablesSpec(port)
	var done []iptFamily
	for _, f := range b.fams {
		ok, err := f.t.Exists("filter", "INPUT", spec...)
		if err == nil && !ok {
			err = f.t.Insert("filter", "INPUT", 1, spec...)
			if err == nil {
				done = append(done, f)
			}
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", f.name, err)
			for _, d := range slices.Backward(done) {
				if uerr := d.t.Delete("filter", "INPUT", spec...); uerr != nil {
					err = errors.Join(err, fmt.Errorf("undo %s: %w", d.name, uerr))
				}
			}
			return false, err
		}
	}
	return len(done) > 0, nil
}

func (b *iptablesBackend) Remove(_ context.Context, port int) (bool, error) {
	spec := iptablesSpec(port)
	changed := false
	for _, f := range b.fams {
		for range 100 { // a duplicate made by hand goes too
			ok, err := f.t.Exists("filter", "INPUT", spec...)
			if err != nil {
				return changed, fmt.Errorf("%s: %w", f.name, err)
			}
			if !ok {
				break
			}
			if err := f.t.Delete("filter", "INPUT", spec...); err != nil {
				return changed, fmt.Errorf("%s: %w", f.name, err)
			}
			changed = true
		}
	}
	return changed, nil
}
