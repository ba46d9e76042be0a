package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
	"github.com/shirhq/shir/internal/atomicfile"
	"github.com/shirhq/shir/provision/fleet"
)

type fleetOptions struct {
	file       string
	only       []string
	acceptNew  bool
	asJSON     bool
	knownHosts string
}

func (o *fleetOptions) flags(c *cobra.Command) {
	c.Flags().StringVarP(&o.file, "file", "f", "fleet.yaml", "fleet file")
	c.Flags().StringSliceVar(&o.only, "only", nil, "only these hosts (names from the fleet file, comma-separated)")
	c.Flags().BoolVar(&o.acceptNew, "accept-new", false, "accept unknown host keys and add them to known_hosts (changed keys are always refused)")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the report as JSON (schema 1)")
	c.Flags().StringVar(&o.knownHosts, "known-hosts", "", "known_hosts file (default: known_hosts of the fleet file, else ~/.ssh/known_hosts)")
}

const fleetHelp = `
The fleet file is documented in docs/fleet.example.yaml and in
'go doc github.com/shirhq/shir/provision/fleet'. Host keys are checked against
known_hosts (like StrictHostKeyChecking=yes); --accept-new adds unknown hosts
and still refuses changed keys. The authentication key goes to each host over
stdin (AUTHKEY=-), never on a command line.
`

func (a *app) fleetCommand() *cobra.Command {
	var po, ao fleetOptions
	plan := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change on each host (read-only)",
		Long: `plan connects to every host, runs shir check --json there (with a temporary
copy of shir when none is installed, removed afterwards) and prints per host
what apply would do: install, upgrade, re-key, repair or nothing, and the
prerequisite problems. Nothing is changed.
` + fleetHelp + exitStatusHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runFleet(cmd.Context(), "plan", po) },
	}
	po.flags(plan)
	apply := &cobra.Command{
		Use:   "apply",
		Short: "Install or upgrade hosts wave by wave",
		Long: `apply inspects every host, then rolls out to the hosts that need a change,
wave by wave (canary first, waves.max_parallel at a time, waves.pause between
waves): it copies the shir binary for the host's OS/arch over SFTP, verifies
its SHA-256 on the host, runs shir check and then shir install (or repair for
an upgrade or re-key) with the key on stdin, and waits until the control
plane reports the node Online. After waves.max_failures failed hosts no new
host is started. A second apply changes nothing.
` + fleetHelp + exitStatusHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runFleet(cmd.Context(), "apply", ao) },
	}
	ao.flags(apply)
	return group("fleet", "Install and upgrade many hosts over SSH in waves",
		plan, apply, a.fleetCloudInitCommand())
}

// fleetControlPlane implements fleet.ControlPlane with the admin client.
type fleetControlPlane struct {
	cl      *client.Client
	runtime string
}

func (f fleetControlPlane) Nodes(ctx context.Context) ([]api.Node, error) {
	rt, err := f.cl.Runtime(ctx, f.runtime)
	if err != nil {
		return nil, err
	}
	return rt.Nodes, nil
}

func (f fleetControlPlane) AuthKey(ctx context.Context, slot string) (string, error) {
	k, err := f.cl.Keys(ctx, f.runtime)
	if err != nil {
		return "", err
	}
	if slot == "key2" {
		return k.Key2, nil
	}
	return k.Key1, nil
}

func (a *app) runFleet(ctx context.Context, verb string, o fleetOptions) error {
	cfg, err := fleet.Load(o.file)
	if err != nil {
		return err
	}
	hosts, err := cfg.HostList(o.only)
	if err != nil {
		return err
	}
	cl, err := client.New(client.Config{URL: cfg.ControlPlane.URL, TokenFile: cfg.Path(cfg.ControlPlane.AdminTokenFile), CASHA256: cfg.CAPin()})
	if err != nil {
		return usageError("control_plane: %v", err)
	}
	kh := o.knownHosts
	if kh == "" {
		kh = cfg.Path(cfg.KnownHosts)
	}
	if kh == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("find ~/.ssh/known_hosts: %w", err)
		}
		kh = filepath.Join(home, ".ssh", "known_hosts")
	}
	self, _ := os.Executable()
	opts := fleet.Options{
		Config:       cfg,
		Hosts:        hosts,
		Dialer:       &fleet.Dialer{HostKeys: &fleet.HostKeys{File: kh, AcceptNew: o.acceptNew}, Path: cfg.Path},
		ControlPlane: fleetControlPlane{cl: cl, runtime: cfg.Runtime},
		Self:         self,
		Out:          a.stdout,
	}
	if o.asJSON {
		opts.Out = a.stderr // progress stays out of the JSON
	}
	var rep fleet.Report
	if verb == "plan" {
		rep, err = fleet.Plan(ctx, opts)
		if err == nil && rep.Failed > 0 {
			err = fmt.Errorf("%d host(s) could not be inspected", rep.Failed)
		}
	} else {
		rep, err = fleet.Apply(ctx, opts)
	}
	if rep.Hosts == nil && err != nil {
		return err
	}
	var werr error
	if o.asJSON {
		werr = rep.WriteJSON(a.stdout)
	} else {
		werr = rep.WriteTable(a.stdout)
	}
	return errors.Join(err, werr)
}

func (a *app) fleetCloudInitCommand() *cobra.Command {
	var (
		file, host, url, sum, out, target string
	)
	c := &cobra.Command{
		Use:   "cloud-init",
		Short: "Render cloud-init user data that installs a node on first boot",
		Long: `cloud-init renders user data that installs and registers a node on first
boot: it downloads shir from --binary-url, checks its SHA-256, writes the
authentication key (auth_key of the fleet file) to a file readable only by
root (0600), runs shir install /q AUTHKEY=@that-file with the host's
properties, and deletes the key file whatever the outcome.

--os windows renders a PowerShell script instead (Azure Custom Script
Extension, EC2 user data in <powershell> tags): the key file gets an ACL for
SYSTEM and Administrators only.

The output holds the key: it is written with mode 0600 (-o), and whoever can
read the VM's user data can read it. Prefer a key you regenerate after the
rollout.
` + exitStatusHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runCloudInit(cmd.Context(), file, host, target, url, sum, out)
		},
	}
	f := c.Flags()
	f.StringVarP(&file, "file", "f", "fleet.yaml", "fleet file (auth_key, defaults, hosts)")
	f.StringVar(&host, "host", "", "take node name, OS and properties of this host (default: the defaults, node name = the VM's host name)")
	f.StringVar(&target, "os", "", "linux or windows (default: the host's OS, else linux)")
	f.StringVar(&url, "binary-url", "", "https URL of the shir binary for the VM (required)")
	f.StringVar(&sum, "sha256", "", "SHA-256 of that binary, 64 hex digits (required)")
	f.StringVarP(&out, "output", "o", "", "write to this file (mode 0600) instead of stdout")
	return c
}

func (a *app) runCloudInit(ctx context.Context, file, host, target, url, sum, out string) error {
	cfg, err := fleet.Load(file)
	if err != nil {
		return err
	}
	var cl fleet.ControlPlane
	if cfg.AuthKey.ControlPlane != "" {
		c, err := client.New(client.Config{URL: cfg.ControlPlane.URL, TokenFile: cfg.Path(cfg.ControlPlane.AdminTokenFile), CASHA256: cfg.CAPin()})
		if err != nil {
			return usageError("control_plane: %v", err)
		}
		cl = fleetControlPlane{cl: c, runtime: cfg.Runtime}
	}
	b, err := fleet.CloudInit(ctx, fleet.CloudInitOptions{Config: cfg, Host: host, OS: target, BinaryURL: url, SHA256: sum, ControlPlane: cl})
	if err != nil {
		return err
	}
	if out == "" {
		_, err = a.stdout.Write(b)
		return err
	}
	if err := atomicfile.Write(out, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Fprintf(a.stderr, "wrote %s (mode 0600; it holds the authentication key)\n", strings.TrimSpace(out))
	return nil
}
