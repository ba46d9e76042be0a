package cli

import (
	"github.com/spf13/cobra"
)

func fleetFlags(c *cobra.Command) {
	c.Flags().StringP("file", "f", "fleet.yaml", "fleet file")
	c.Flags().StringSlice("only", nil, "only these hosts")
	c.Flags().Bool("accept-new", false, "accept unknown host keys and add them to known_hosts (never changed ones)")
	c.Flags().Bool("json", false, "print a JSON report")
}

func (a *app) fleetCommand() *cobra.Command {
	return group("fleet", "Install and upgrade many hosts over SSH in waves",
		stub("plan", "Show what apply would change on each host (read-only)", 12, noArgs, fleetFlags),
		stub("apply", "Install or upgrade hosts wave by wave", 12, noArgs, fleetFlags),
		stub("cloud-init", "Render cloud-init user data that installs a node on first boot", 12, noArgs, fleetFlags),
	)
}
