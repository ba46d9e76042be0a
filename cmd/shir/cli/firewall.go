package cli

import (
	"github.com/spf13/cobra"
)

func firewallFlags(c *cobra.Command) {
	c.Flags().Int("port", 8060, "remote-access port")
	c.Flags().String("backend", "auto", "auto, windows, nftables, firewalld, ufw or iptables")
}

func (a *app) firewallCommand() *cobra.Command {
	return group("firewall", "The inbound rule for the remote-access port",
		stub("status", "Show whether the rule exists and the port is open", 8, noArgs, firewallFlags),
		stub("open", "Add the rule (idempotent)", 8, noArgs, firewallFlags),
		stub("close", "Remove the rule shir added, nothing else", 8, noArgs, firewallFlags),
	)
}
