package cli

import (
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/prereq"
)

func (a *app) checkCommand() *cobra.Command {
	var (
		asJSON, noRemote bool
		ignore           []string
		port             int
		server           string
	)
	c := &cobra.Command{
		Use:   "check",
		Short: "Check that this machine can run a node; print each check with its fix",
		Long: `Check the prerequisites of a node: OS and version, architecture, rights,
.NET Framework and Java (Windows), systemd (Linux), FIPS, power plan,
hardware, an existing installation, the remote-access port, clock skew.
The installer runs the same checks. Errors stop an install; warnings do not.

The table has one row per check: ID, RESULT (ok, warning, error,
unknown (warning|error), skipped; "(ignored)" after --ignore), MESSAGE, FIX.
--json prints the same as one JSON object with "schema": 1 (see the prereq
package documentation for the fields).

Check ids: ` + fmt.Sprint(prereq.KnownIDs()) + `
` + exitStatusHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if port < 1 || port > 65535 {
				return usageError("--port: %d is not a TCP port (1-65535)", port)
			}
			if server != "" {
				if err := checkServerURL(server); err != nil {
					return err
				}
			}
			ign, err := prereq.ParseIgnore(ignore)
			if err != nil {
				return err
			}
			checks := prereq.Default(prereq.Options{Port: port, NoRemoteAccess: noRemote, Server: server})
			res, runErr := prereq.Run(cmd.Context(), checks, ign)
			if asJSON {
				err = res.WriteJSON(a.stdout)
			} else {
				err = res.WriteTable(a.stdout)
			}
			if runErr != nil {
				return runErr
			}
			return err
		},
	}
	f := c.Flags()
	f.BoolVar(&asJSON, "json", false, "print the results as JSON (a stable format)")
	f.StringSliceVar(&ignore, "ignore", nil, "check ids whose errors become warnings, or all")
	f.IntVar(&port, "port", prereq.DefaultPort, "remote-access port that must be free")
	f.BoolVar(&noRemote, "no-remote-access", false, "do not check the remote-access port (NOFIREWALL installs)")
	f.StringVar(&server, "server", "", "control plane URL, to check the clock skew against it")
	return c
}

// checkServerURL validates --server: an absolute http(s) URL with a host.
func checkServerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return usageError("--server: %v", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return usageError("--server: %q is not an http(s) URL with a host", s)
	}
	return nil
}
