package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/agent"
	"github.com/shirhq/shir/internal/credstore"
	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/internal/nodeconfig"
	"github.com/shirhq/shir/internal/secret"
	"github.com/shirhq/shir/internal/svcrun"
)

// HostServiceName is the host service's name on Windows (DESIGN.md), also
// its Event Log source.
const HostServiceName = "shirhost"

func (a *app) agentCommand() *cobra.Command {
	nodeFlags := func(c *cobra.Command) {
		c.Flags().String("config", "", "path of shir.toml (default: the platform's config path, under --root when given)")
		c.Flags().String("root", "", "a node installed with --root DIR")
	}
	run := &cobra.Command{
		Use:   "run",
		Short: "Run the host service in the foreground (what the service manager starts)",
		Long: `Run the host service: heartbeat to the control plane, take jobs within the
node's concurrency limit, and run them (copy, testconnection, exec). The node
must be registered (shir dmgcmd -rn KEY, or shir install AUTHKEY=...).
Interrupt or SIGTERM stops it gracefully: no new jobs, running jobs get
shutdown_timeout (shir.toml) to finish, the rest are handed back.
` + exitStatusHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, cfg, _, err := nodeOptions(cmd)
			if err != nil {
				return err
			}
			level, _ := nodeconfig.ParseLevel(cfg.LogLevel)
			text := slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level})
			// Under the Windows SCM: service handshake and the Event Log
			// (source "shirhost"); elsewhere stderr (journald on Linux).
			asService, _ := cmd.Flags().GetBool("service")
			return svcrun.Run(cmd.Context(), HostServiceName, asService, text, func(ctx context.Context, log *slog.Logger) error {
				opts.Logger = log
				return agent.Run(ctx, opts)
			})
		},
	}
	nodeFlags(run)
	run.Flags().Bool("service", false, "answer the Windows service manager even when detection says otherwise (the installer sets it)")

	put := &cobra.Command{
		Use:   "put NAME",
		Short: "Store a credential (secret read from stdin)",
		Long: `Store or replace a linked-service credential on this node. The secret is
read from standard input (one trailing newline is dropped), never from an
argument, so it does not show in the process list. Jobs name it, e.g. a
copy job's "credential" for HTTP basic auth.`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := credentialStore(cmd)
			if err != nil {
				return err
			}
			b, err := io.ReadAll(io.LimitReader(a.stdin, credstore.MaxSecretLen+2))
			if err != nil {
				return fmt.Errorf("read secret from stdin: %w", err)
			}
			s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
			user, _ := cmd.Flags().GetString("user")
			if err := store.Put(args[0], user, s); err != nil {
				return credError(err)
			}
			fmt.Fprintf(a.stdout, "credential %s stored\n", args[0])
			return nil
		},
	}
	nodeFlags(put)
	put.Flags().String("user", "", "user name that goes with the secret (e.g. for HTTP basic auth)")

	get := &cobra.Command{
		Use:   "get NAME",
		Short: "Print a credential's secret (or all of it with --json)",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := credentialStore(cmd)
			if err != nil {
				return err
			}
			c, err := store.Get(args[0])
			if err != nil {
				return credError(err)
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return json.NewEncoder(a.stdout).Encode(c)
			}
			fmt.Fprintln(a.stdout, c.Secret)
			return nil
		},
	}
	nodeFlags(get)
	get.Flags().Bool("json", false, "print name, user, secret and update time as JSON")

	list := &cobra.Command{
		Use:   "list",
		Short: "List credential names and users (never secrets)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := credentialStore(cmd)
			if err != nil {
				return err
			}
			l, err := store.List()
			if err != nil {
				return credError(err)
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				if l == nil {
					l = []credstore.Credential{}
				}
				return json.NewEncoder(a.stdout).Encode(l)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tUSER\tUPDATED")
			for _, c := range l {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.User, c.Updated.Format("2006-01-02 15:04:05Z"))
			}
			return tw.Flush()
		},
	}
	nodeFlags(list)
	list.Flags().Bool("json", false, "print as JSON")

	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a credential",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := credentialStore(cmd)
			if err != nil {
				return err
			}
			if err := store.Delete(args[0]); err != nil {
				return credError(err)
			}
			fmt.Fprintf(a.stdout, "credential %s deleted\n", args[0])
			return nil
		},
	}
	nodeFlags(del)

	return group("agent", "The host service of a node",
		run,
		group("credential", "Linked-service credentials stored on this node, encrypted", put, get, list, del),
	)
}

// nodeOptions reads --config and --root into agent.Options and resolves the
// config and state directory.
func nodeOptions(cmd *cobra.Command) (agent.Options, nodeconfig.Config, string, error) {
	var o agent.Options
	o.ConfigPath, _ = cmd.Flags().GetString("config")
	o.Root, _ = cmd.Flags().GetString("root")
	cfg, stateDir, err := o.Resolve()
	return o, cfg, stateDir, err
}

func credentialStore(cmd *cobra.Command) (*credstore.Store, error) {
	_, _, stateDir, err := nodeOptions(cmd)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	p, err := secret.ForStateDir(stateDir)
	if err != nil {
		return nil, fmt.Errorf("state dir %s: %w", stateDir, err)
	}
	return credstore.Open(stateDir, p), nil
}

func credError(err error) error {
	if errors.Is(err, credstore.ErrInvalid) {
		return fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
	}
	return err
}
