package firewall

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// nftConn is the part of *nftables.Conn the backend uses.
type nftConn interface {
	ListChains() ([]*nftables.Chain, error)
	GetRules(*nftables.Table, *nftables.Chain) ([]*nftables.Rule, error)
	InsertRule(*nftables.Rule) *nftables.Rule
	DelRule(*nftables.Rule) error
	Flush() error
}

var _ nftConn = (*nftables.Conn)(nil)

// NFTablesOptions configure the nftables backend.
type NFTablesOptions struct {
	// NetNSFd, when not 0, is an open /proc/.../ns/net or /run/netns/NAME
	// file: the rules go to that network namespace (tests).
	NetNSFd int
	Logger  *slog.Logger
}

// NewNFTables returns the nftables backend.
func NewNFTables(o NFTablesOptions) (Backend, error) {
	var opts []nftables.ConnOption
	if o.NetNSFd != 0 {
		opts = append(opts, nftables.WithNetNSFd(o.NetNSFd))
	}
	c, err := nftables.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	return &nftBackend{c: c, log: orDiscard(o.Logger)}, nil
}

type nftBackend struct {
	c   nftConn
	log *slog.Logger
}

var _ Backend = (*nftBackend)(nil)

func (*nftBackend) Name() string { return NFTables }

// nftRuleExprs is `meta l4proto tcp tcp dport PORT accept`.
func nftRuleExprs(port int) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.BigEndian.AppendUint16(nil, uint16(port))},
		&expr.Verdict{Kind: expr.VerdictAccept},
	}
}

// nftTag is the comment in the rule's user data, as `nft` writes it.
func nftTag() []byte { return userdata.AppendString(nil, userdata.TypeComment, Tag) }

// nftRulePort returns the port of one of our rules (tag and shape match).
func nftRulePort(r *nftables.Rule) (int, bool) {
	if c, ok := userdata.GetString(r.UserData, userdata.TypeComment); !ok || c != Tag {
		return 0, false
	}
	tcp, port := false, 0
	for i, e := range r.Exprs {
		next := func() *expr.Cmp {
			if i+1 < len(r.Exprs) {
				c, _ := r.Exprs[i+1].(*expr.Cmp)
				return c
			}
			return nil
		}
		switch e := e.(type) {
		case *expr.Meta:
			if c := next(); e.Key == expr.MetaKeyL4PROTO && c != nil && c.Op == expr.CmpOpEq && slices.Equal(c.Data, []byte{unix.IPPROTO_TCP}) {
				tcp = true
			}
		case *expr.Payload:
			if c := next(); e.Base == expr.PayloadBaseTransportHeader && e.Offset == 2 && e.Len == 2 && c != nil && c.Op == expr.CmpOpEq && len(c.Data) == 2 {
				port = int(binary.BigEndian.Uint16(c.Data))
			}
		}
	}
	return port, tcp && port > 0
}

// nftFamilies are the table families whose input chains see TCP.
var nftFamilies = []nftables.TableFamily{nftables.TableFamilyINet, nftables.TableFamilyIPv4, nftables.TableFamilyIPv6}

// nftForeign reports chains owned by another manager: iptables-nft's
// `ip filter INPUT` (edit it with iptables only) and firewalld's table.
func nftForeign(ch *nftables.Chain) bool {
	t := ch.Table
	if t.Name == "firewalld" {
		return true
	}
	return (t.Family == nftables.TableFamilyIPv4 || t.Family == nftables.TableFamilyIPv6) &&
		t.Name == "filter" && ch.Name == "INPUT"
}

// nftTargetChains are the chains our rule goes into: every filter base chain
// on the input hook of inet/ip/ip6 that no other manager owns. Each is
// consulted for every inbound packet, and a drop in any of them is final.
func nftTargetChains(chains []*nftables.Chain) []*nftables.Chain {
	var out []*nftables.Chain
	for _, ch := range chains {
		if ch.Table == nil || !slices.Contains(nftFamilies, ch.Table.Family) || nftForeign(ch) {
			continue
		}
		if ch.Hooknum == nil || *ch.Hooknum != *nftables.ChainHookInput || ch.Type != nftables.ChainTypeFilter {
			continue
		}
		out = append(out, ch)
	}
	return out
}

// tagged lists our rules in all inet/ip/ip6 chains.
func (n *nftBackend) tagged() (map[*nftables.Chain][]*nftables.Rule, []*nftables.Chain, error) {
	chains, err := n.c.ListChains()
	if err != nil {
		return nil, nil, fmt.Errorf("list chains: %w", err)
	}
	m := map[*nftables.Chain][]*nftables.Rule{}
	for _, ch := range chains {
		if ch.Table == nil || !slices.Contains(nftFamilies, ch.Table.Family) || nftForeign(ch) {
			continue
		}
		rules, err := n.c.GetRules(ch.Table, ch)
		if err != nil {
			return nil, nil, fmt.Errorf("list rules of %s %s: %w", ch.Table.Name, ch.Name, err)
		}
		for _, r := range rules {
			if _, ok := nftRulePort(r); ok {
				m[ch] = append(m[ch], r)
			}
		}
	}
	return m, chains, nil
}

func (n *nftBackend) Ports(context.Context) ([]int, error) {
	m, _, err := n.tagged()
	if err != nil {
		return nil, err
	}
	var ports []int
	for _, rules := range m {
		for _, r := range rules {
			if p, _ := nftRulePort(r); !slices.Contains(ports, p) {
				ports = append(ports, p)
			}
		}
	}
	slices.Sort(ports)
	return ports, nil
}

func (n *nftBackend) Add(_ context.Context, port int) (bool, error) {
	m, chains, err := n.tagged()
	if err != nil {
		return false, err
	}
	targets := nftTargetChains(chains)
	if len(targets) == 0 {
		return false, fmt.Errorf("no nftables filter chain on the input hook (inet/ip/ip6) to add the rule to; nothing filters inbound traffic through nftables")
	}
	added := 0
	for _, ch := range targets {
		if slices.ContainsFunc(m[ch], func(r *nftables.Rule) bool { p, _ := nftRulePort(r); return p == port }) {
			continue
		}
		n.c.InsertRule(&nftables.Rule{Table: ch.Table, Chain: ch, Exprs: nftRuleExprs(port), UserData: nftTag()})
		n.log.Debug("nftables: insert rule", "table", ch.Table.Name, "chain", ch.Name, "port", port)
		added++
	}
	if added == 0 {
		return false, nil
	}
	// One batch: all chains get the rule, or none does.
	if err := n.c.Flush(); err != nil {
		return false, fmt.Errorf("insert rule: %w", err)
	}
	return true, nil
}

func (n *nftBackend) Remove(_ context.Context, port int) (bool, error) {
	m, _, err := n.tagged()
	if err != nil {
		return false, err
	}
	removed := 0
	for _, rules := range m {
		for _, r := range rules {
			if p, _ := nftRulePort(r); p != port {
				continue
			}
			if err := n.c.DelRule(r); err != nil {
				return false, fmt.Errorf("delete rule: %w", err)
			}
			removed++
		}
	}
	if removed == 0 {
		return false, nil
	}
	if err := n.c.Flush(); err != nil {
		return false, fmt.Errorf("delete rule: %w", err)
	}
	return true, nil
}

// nftCountTargets is used by detection: how many input chains we would use.
func nftCountTargets(c nftConn) (int, error) {
	chains, err := c.ListChains()
	if err != nil {
		return 0, err
	}
	return len(nftTargetChains(chains)), nil
}
