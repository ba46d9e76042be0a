package cli

import (
	"github.com/spf13/cobra"
)

func serverFlags(c *cobra.Command) {
	c.Flags().String("server", "", "control plane URL (default: from ~/.config/shir/server.json)")
	c.Flags().String("token-file", "", "admin token file")
}

func (a *app) serverCommand() *cobra.Command {
	return stub("server", "Run the control plane: API, store, scheduler, dashboard", 5, noArgs, func(c *cobra.Command) {
		c.Flags().String("data", "", "data directory (store, certificate, admin token)")
		c.Flags().String("listen", "127.0.0.1:8443", "address to listen on")
		c.Flags().String("cert", "", "TLS certificate file (default: self-signed, generated on first start)")
		c.Flags().String("key", "", "TLS key file")
	})
}

func (a *app) runtimeCommand() *cobra.Command {
	return group("runtime", "Runtimes, their keys and nodes on a control plane",
		stub("create NAME", "Create a runtime", 5, exactArgs("NAME"), func(c *cobra.Command) {
			serverFlags(c)
			c.Flags().Int("max-nodes", 4, "most nodes the runtime may have")
			c.Flags().String("description", "", "description")
		}),
		stub("list", "List runtimes", 5, noArgs, serverFlags),
		stub("show NAME", "Show a runtime, its nodes and status", 5, exactArgs("NAME"), serverFlags),
		stub("delete NAME", "Delete a runtime", 5, exactArgs("NAME"), serverFlags),
		stub("keys NAME", "Print the two authentication keys of a runtime", 5, exactArgs("NAME"), serverFlags),
		stub("regenerate-key NAME key1|key2", "Regenerate one key (nodes stay registered)", 5, exactArgs("NAME", "key1|key2"), serverFlags),
		stub("remove-node NAME NODE", "Remove a node from a runtime", 5, exactArgs("NAME", "NODE"), serverFlags),
		stub("set-concurrency NAME NODE N", "Set a node's concurrent job limit (scale up)", 5, exactArgs("NAME", "NODE", "N"), serverFlags),
	)
}

func (a *app) jobCommand() *cobra.Command {
	return group("job", "Jobs queued on a runtime",
		stub("submit", "Submit a job", 5, noArgs, func(c *cobra.Command) {
			serverFlags(c)
			c.Flags().String("runtime", "", "runtime name")
			c.Flags().String("kind", "", "copy, testconnection or exec")
			c.Flags().String("spec", "", "JSON file with the job's parameters")
		}),
		stub("list", "List jobs", 5, noArgs, func(c *cobra.Command) {
			serverFlags(c)
			c.Flags().String("runtime", "", "runtime name")
			c.Flags().String("state", "", "queued, leased, succeeded, failed, dead or cancelled")
		}),
		stub("show ID", "Show a job", 5, exactArgs("ID"), serverFlags),
		stub("cancel ID", "Cancel a job", 5, exactArgs("ID"), serverFlags),
	)
}
