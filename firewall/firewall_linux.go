package firewall

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/coreos/go-iptables/iptables"
	"github.com/google/nftables"

	"github.com/shirhq/shir/internal/exitcode"
)

// Detect returns the name of the active firewall backend and why.
func Detect(ctx context.Context) (string, string) {
	return chooseLinux(linuxDetectFacts(ctx, execRunner{}))
}

func linuxDetectFacts(ctx context.Context, r runner) linuxFacts {
	var f linuxFacts
	f.FirewalldRunning = firewalldRunning(ctx, r)
	if f.FirewalldRunning {
		return f
	}
	f.UFWActive = ufwActive(ctx, r)
	if f.UFWActive {
		return f
	}
	if c, err := nftables.New(); err == nil {
		f.NFTInputChains, _ = nftCountTargets(c)
	}
	if f.NFTInputChains > 0 {
		return f
	}
	for _, proto := range []iptables.Protocol{iptables.ProtocolIPv4, iptables.ProtocolIPv6} {
		if t, err := iptables.New(iptables.IPFamily(proto), iptables.Timeout(5)); err == nil {
			if lines, err := t.List("filter", "INPUT"); err == nil && iptablesFilters(lines) {
				f.IPTablesFiltering = true
			}
		}
	}
	return f
}

func newBackend(ctx context.Context, name string, log *slog.Logger) (Backend, error) {
	if name == "" || name == "auto" {
		var why string
		name, why = Detect(ctx)
		log.Info("firewall backend detected", "backend", name, "why", why)
	}
	switch name {
	case NFTables:
		return NewNFTables(NFTablesOptions{Logger: log})
	case IPTables:
		return NewIPTables(IPTablesOptions{Logger: log})
	case Firewalld:
		return NewFirewalld(ToolOptions{Logger: log}), nil
	case UFW:
		return NewUFW(ToolOptions{Logger: log}), nil
	case None:
		return noneBackend{}, nil
	}
	return nil, fmt.Errorf("%w: firewall backend %q is not available on linux", exitcode.ErrUsage, name)
}
