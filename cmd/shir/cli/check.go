package cli

import (
	"github.com/spf13/cobra"
)

func (a *app) checkCommand() *cobra.Command {
	return stub("check", "Check that this machine can run a node; print each check with its fix", 4, noArgs, func(c *cobra.Command) {
		c.Long = `Check the prerequisites of a node: OS and version, architecture, rights,
.NET Framework and Java (Windows), systemd (Linux), FIPS, power plan,
hardware, an existing installation, the remote-access port, clock skew.
The installer runs the same checks. Errors stop an install; warnings do not.
` + exitStatusHelp
		c.Flags().Bool("json", false, "print the results as JSON (a stable format)")
		c.Flags().StringSlice("ignore", nil, "check ids whose errors become warnings, or all")
		c.Flags().Int("port", 8060, "remote-access port that must be free")
		c.Flags().Bool("no-remote-access", false, "do not check the remote-access port (NOFIREWALL installs)")
		c.Flags().String("server", "", "control plane URL, to check the clock skew against it")
	})
}

// installCommand registers install, uninstall and repair, which take msiexec
// style arguments (/q, /l*v file, NAME=VALUE) as well as flags.
