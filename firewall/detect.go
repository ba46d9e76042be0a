package firewall

import (
	"context"
	"io"
	"log/slog"
)

// linuxFacts is what detection learns about a Linux machine.
type linuxFacts struct {
	FirewalldRunning  bool // firewall-cmd --state says running
	UFWActive         bool // ufw status says active
	NFTInputChains    int  // nftables input chains shir would use (not iptables-nft's, not firewalld's)
	IPTablesFiltering bool // iptables/ip6tables filter INPUT has rules or a non-ACCEPT policy
}

// chooseLinux picks the backend from facts: the manager that owns the drop
// must carry the rule (a rule elsewhere is not enough, see the package doc).
func chooseLinux(f linuxFacts) (backend, why string) {
	switch {
	case f.FirewalldRunning:
		return Firewalld, "firewalld is running"
	case f.UFWActive:
		return UFW, "ufw is active"
	case f.NFTInputChains > 0:
		return NFTables, "nftables has an input filter chain"
	case f.IPTablesFiltering:
		return IPTables, "iptables filter INPUT has rules or a drop policy"
	}
	return None, "no firewall filters inbound traffic"
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return l
}

// noneBackend stands for "no firewall": the Manager does nothing with it.
type noneBackend struct{}

func (noneBackend) Name() string { return None }

func (noneBackend) Ports(context.Context) ([]int, error)      { return nil, nil }
func (noneBackend) Add(context.Context, int) (bool, error)    { return false, nil }
func (noneBackend) Remove(context.Context, int) (bool, error) { return false, nil }
