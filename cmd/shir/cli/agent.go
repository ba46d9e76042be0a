package cli

import (
	"github.com/spf13/cobra"
)

func (a *app) agentCommand() *cobra.Command {
	return group("agent", "The host service of a node",
		stub("run", "Run the host service in the foreground (what the service manager starts)", 6, noArgs, func(c *cobra.Command) {
			c.Flags().String("config", "", "path of shir.toml (default: the platform's config path)")
			c.Flags().String("root", "", "run a node installed with --root DIR")
		}),
		group("credential", "Linked-service credentials stored on this node, encrypted",
			stub("put NAME", "Store a credential (value from stdin)", 6, exactArgs("NAME"), nil),
			stub("get NAME", "Print a credential", 6, exactArgs("NAME"), nil),
			stub("list", "List credential names", 6, noArgs, nil),
			stub("delete NAME", "Delete a credential", 6, exactArgs("NAME"), nil),
		),
	)
}
