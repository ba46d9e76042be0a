package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/internal/buildinfo"
	"github.com/shirhq/shir/provision"
)

func (a *app) versionCommand() *cobra.Command {
	var asJSON, short bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date, Go version and platform",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := buildinfo.Get()
			switch {
			case asJSON:
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			case short:
				_, err := fmt.Fprintln(a.stdout, info.Version)
				return err
			}
			_, err := fmt.Fprintf(a.stdout, "shir %s\n  commit:     %s\n  built:      %s\n  go version: %s\n  platform:   %s/%s\n",
				info.Version, info.Commit, info.Date, info.GoVersion, info.OS, info.Arch)
			return err
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	c.Flags().BoolVar(&short, "short", false, "print only the version")
	return c
}

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
func (a *app) installCommand(name, short string, issue int) *cobra.Command {
	var props strings.Builder
	for _, p := range provision.Properties {
		fmt.Fprintf(&props, "  %-16s %s\n", p.Name, p.Help)
	}
	c := &cobra.Command{
		Use:                name + " [/q] [/l*v FILE] [NAME=VALUE ...] [flags]",
		Short:              short,
		DisableFlagParsing: true,
		Long: short + `.

Arguments may be given msiexec style or as flags, mixed:
  /q, /qn, /quiet, /passive   no prompts (shir never prompts anyway)
  /l*v FILE, /log FILE        write a verbose log to FILE
  /norestart                  never restart the machine
  NAME=VALUE                  a property (names are case-insensitive)
  --name VALUE                the same property as a flag (--node-name, --no-firewall, ...)
  --dry-run                   print the plan, change nothing
  --root DIR --no-service     install under DIR as a plain user, without OS services
  --purge                     (uninstall) also remove state: node identity and credentials

Properties (unknown ones are an error):
` + props.String() + `
Examples:
  shir install /q AUTHKEY=@key.txt NODENAME=node1 NOFIREWALL=1
  shir install --authkey - --node-name node1 < key.txt
` + exitStatusHelp,
		RunE: func(cmd *cobra.Command, args []string) error {
			a.msiStyle = looksMSIStyle(args)
			inv, err := provision.ParseArgs(args)
			if err != nil {
				return err
			}
			if inv.Help {
				return cmd.Help()
			}
			if inv.Purge && name != "uninstall" {
				return usageError("--purge is only for uninstall")
			}
			return notImplemented(issue)
		},
	}
	return c
}

// looksMSIStyle reports whether args use msiexec forms, so that even a usage
// error exits with a Windows Installer code.
func looksMSIStyle(args []string) bool {
	for _, s := range args {
		if strings.HasPrefix(s, "/") || (!strings.HasPrefix(s, "-") && strings.Contains(s, "=")) {
			return true
		}
	}
	return false
}

func (a *app) dmgcmdCommand() *cobra.Command {
	return &cobra.Command{
		Use:                "dmgcmd -ACTION [args]",
		Short:              "Node actions with the original dmgcmd's argument forms (-rn KEY node1, -gbf f.bak pw, ...)",
		DisableFlagParsing: true,
		Long:               "The dmgcmd tool. shir also runs as dmgcmd when its file is named dmgcmd or dmgcmd.exe.\n\n" + provision.DmgUsage(),
		RunE: func(cmd *cobra.Command, args []string) error {
			dc, err := provision.ParseDmgcmd(args)
			if err != nil {
				return err
			}
			if dc.Help {
				_, err := fmt.Fprint(a.stdout, provision.DmgUsage())
				return err
			}
			return fmt.Errorf("action %s: %w", dc, notImplemented(7))
		},
	}
}

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

func (a *app) updaterCommand() *cobra.Command {
	return group("updater", "The upgrade service of a node",
		stub("run", "Run the upgrade service in the foreground", 9, noArgs, func(c *cobra.Command) {
			c.Flags().String("config", "", "path of shir.toml")
		}),
	)
}

func updateFlags(c *cobra.Command) {
	c.Flags().String("source", "", "release source: github://owner/repo, https://feed/url or a local directory")
	c.Flags().String("channel", "stable", "release channel: stable or beta")
	c.Flags().String("constraint", "", `version constraint, e.g. "~> 1.4"`)
}

func (a *app) updateCommand() *cobra.Command {
	return group("update", "Check for and apply a signed update now",
		stub("check", "Show the newest release the policy allows", 9, noArgs, updateFlags),
		stub("apply", "Download, verify and apply the newest allowed release", 9, noArgs, func(c *cobra.Command) {
			updateFlags(c)
			c.Flags().Bool("ignore-window", false, "apply outside the maintenance window")
		}),
	)
}

func (a *app) releaseCommand() *cobra.Command {
	return group("release", "Publisher tools: keys, signed manifests",
		stub("keygen", "Create a root or signing key pair (private key encrypted with a password)", 9, noArgs, func(c *cobra.Command) {
			c.Flags().String("kind", "signing", "root or signing")
			c.Flags().String("out", "", "output file prefix")
		}),
		stub("sign", "Write and sign a release manifest for built artifacts", 9, noArgs, func(c *cobra.Command) {
			c.Flags().String("key", "", "signing private key")
			c.Flags().String("artifacts", "dist", "directory with the built artifacts")
			c.Flags().String("version", "", "release version")
			c.Flags().String("channel", "stable", "stable or beta")
			c.Flags().String("url-base", "", "URL the artifacts are downloaded from")
			c.Flags().Int("rollout", 100, "staged rollout percent")
			c.Flags().Duration("expires-in", 0, "manifest lifetime")
		}),
		stub("verify", "Verify a manifest against root keys", 9, noArgs, func(c *cobra.Command) {
			c.Flags().String("manifest", "", "manifest file")
			c.Flags().String("root-pub", "", "root public key file (default: the compiled-in keys)")
		}),
	)
}

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

func (a *app) armCommand() *cobra.Command {
	return group("arm", "Azure: ARM templates, lint, VM-extension handler",
		stub("template", "Write azuredeploy.json and azuredeploy.parameters.json", 10, noArgs, func(c *cobra.Command) {
			c.Flags().Int("nodes", 2, "number of VMs/nodes (1 to 4)")
			c.Flags().String("os", "windows", "windows or linux")
			c.Flags().String("handler", "cse", "cse (Custom Script Extension) or shir (shir's own handler)")
			c.Flags().String("existing-vnet", "", "resource ID of an existing virtual network")
			c.Flags().String("out", ".", "output directory")
		}),
		stub("lint FILE", "Validate a template offline: schema and arm-ttk rules", 10, exactArgs("FILE"), nil),
		stub("handler OPERATION", "Run as an Azure VM-extension handler (install, enable, disable, uninstall, update)", 10, exactArgs("OPERATION"), nil),
	)
}

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

func (a *app) quickstartCommand() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "quickstart",
		Short: "Start a control plane and two nodes on this machine, run a job, show the result (no root)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(a.stdout, `shir quickstart will, on this machine and without root:
  1. start a control plane (shir server) with a SQLite store in a temp directory
  2. create a runtime and print its two authentication keys
  3. install two nodes with --root DIR --no-service and register them
  4. wait for both nodes to heartbeat (runtime Online, 2 of 4 nodes)
  5. submit a copy job and print its result and checksum
`)
			return fmt.Errorf("none of these steps ran: the control plane (issue #5) and the agent have not landed: %w", notImplemented(6))
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "working directory (default: a new temp directory)")
	return c
}
