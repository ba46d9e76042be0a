package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/firewall"
)

// newFirewall builds the Manager; tests replace it with one over a fake.
var newFirewall = firewall.New

const firewallLong = `Manage the one inbound TCP rule of the remote-access port (default 8060),
tagged "shir remote access" so that shir finds, updates and removes only it.
The backend is detected (Windows Firewall; on Linux firewalld if running,
else ufw if active, else nftables, else iptables, else none) unless --backend
names it. Changing the firewall needs root or an elevated administrator.
` + exitStatusHelp

func (a *app) firewallCommand() *cobra.Command {
	c := group("firewall", "The inbound rule for the remote-access port",
		a.firewallLeaf("status", "Show the backend, whether the rule exists and whether the port is listening", firewall.DefaultPort),
		a.firewallLeaf("open", "Add the rule (idempotent; a rule of another port is replaced)", firewall.DefaultPort),
		a.firewallLeaf("close", "Remove the rule shir added, nothing else", 0),
	)
	c.Long = firewallLong
	return c
}

func (a *app) firewallLeaf(use, short string, defaultPort int) *cobra.Command {
	var port int
	var backend string
	var asJSON bool
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  short + ".\n\n" + firewallLong,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			m, err := newFirewall(cmd.Context(), firewall.Options{Backend: backend, Logger: log})
			if err != nil {
				return err
			}
			var v any
			switch use {
			case "status":
				v, err = m.Status(cmd.Context(), port)
			case "open":
				v, err = m.Open(cmd.Context(), port)
			default:
				v, err = m.Close(cmd.Context(), port)
			}
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			switch v := v.(type) {
			case firewall.Status:
				printFirewallStatus(a.stdout, v)
			case firewall.Result:
				printFirewallResult(a.stdout, use, v)
			}
			return nil
		},
	}
	portHelp := "remote-access port"
	if defaultPort == 0 {
		portHelp = "port whose rule to remove; 0 removes every rule shir tagged"
	}
	c.Flags().IntVar(&port, "port", defaultPort, portHelp)
	c.Flags().StringVar(&backend, "backend", "auto", "auto, "+strings.Join(firewall.Backends, ", "))
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return c
}

func printFirewallStatus(w io.Writer, s firewall.Status) {
	fmt.Fprintf(w, "backend:   %s\n", s.Backend)
	fmt.Fprintf(w, "port:      %d/tcp\n", s.Port)
	rule := "absent"
	if s.RulePresent {
		rule = fmt.Sprintf("present (tagged %q)", firewall.Tag)
	}
	if s.Backend == firewall.None {
		rule = "not needed (no active firewall)"
	}
	fmt.Fprintf(w, "rule:      %s\n", rule)
	var others []string
	for _, p := range s.TaggedPorts {
		if p != s.Port {
			others = append(others, fmt.Sprint(p))
		}
	}
	if len(others) > 0 {
		fmt.Fprintf(w, "also open: %s (other ports with a shir rule)\n", strings.Join(others, ", "))
	}
	listen := "no"
	switch {
	case s.Listening && s.Program != "":
		listen = fmt.Sprintf("yes, by %s (pid %d)", s.Program, s.PID)
		if s.OtherOwner {
			listen += ", which is not shir"
		}
	case s.Listening:
		listen = "yes (program unknown)"
	}
	fmt.Fprintf(w, "listening: %s\n", listen)
	if s.Note != "" {
		fmt.Fprintf(w, "note:      %s\n", s.Note)
	}
}

func printFirewallResult(w io.Writer, op string, r firewall.Result) {
	switch {
	case r.Note != "":
		fmt.Fprintf(w, "[firewall] %s: %s\n", r.Backend, r.Note)
	case op == "open" && r.Changed:
		fmt.Fprintf(w, "[firewall] %s: opened TCP port %d (rule %q)\n", r.Backend, r.Port, firewall.Tag)
	case op == "open":
		fmt.Fprintf(w, "[firewall] %s: TCP port %d already open (rule %q); nothing changed\n", r.Backend, r.Port, firewall.Tag)
	case len(r.Removed) > 0:
	default:
		fmt.Fprintf(w, "[firewall] %s: no rule of shir to remove; nothing changed\n", r.Backend)
	}
	for _, p := range r.Removed {
		fmt.Fprintf(w, "[firewall] %s: removed the rule for TCP port %d\n", r.Backend, p)
	}
}
