package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/controlplane"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
	"github.com/shirhq/shir/internal/exitcode"
)

func serverFlags(c *cobra.Command) {
	c.Flags().String("server", "", "control plane URL (default: $SHIR_SERVER, else from the config file shir server writes)")
	c.Flags().String("token-file", "", "admin token file (default: $SHIR_TOKEN_FILE, else from that config file)")
	c.Flags().String("ca-sha256", "", "pin of the server certificate, sha256:<hex> (default: $SHIR_CA_SHA256, the config file, or tls.crt next to the token file)")
	c.Flags().String("config", "", "client config file (default: <user config dir>/shir/server.json)")
}

func jsonFlag(c *cobra.Command) {
	c.Flags().Bool("json", false, "print JSON")
}

// adminClient builds the admin client from flags, environment and config file.
func adminClient(c *cobra.Command) (*client.Client, error) {
	f := c.Flags()
	server, _ := f.GetString("server")
	tokenFile, _ := f.GetString("token-file")
	pin, _ := f.GetString("ca-sha256")
	path, _ := f.GetString("config")
	if path == "" {
		path, _ = client.DefaultConfigPath()
	}
	cfg, err := client.Resolve(server, tokenFile, pin, os.Getenv, path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
	}
	cl, err := client.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
	}
	return cl, nil
}

// apiError makes a validation problem a usage error (exit 2); others exit 1.
func apiError(err error) error {
	var p *api.Problem
	if errors.As(err, &p) && p.Type == api.ProblemValidation {
		return fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
	}
	return err
}

func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func wantJSON(c *cobra.Command) bool {
	v, _ := c.Flags().GetBool("json")
	return v
}

// adminCmd is a leaf command that talks to the admin API.
func (a *app) adminCmd(use, short string, args cobra.PositionalArgs, flags func(*cobra.Command),
	run func(ctx context.Context, c *cobra.Command, cl *client.Client, args []string) error) *cobra.Command {
	c := &cobra.Command{
		Use: use, Short: short, Args: args,
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := adminClient(c)
			if err != nil {
				return err
			}
			return apiError(run(c.Context(), c, cl, args))
		},
	}
	serverFlags(c)
	if flags != nil {
		flags(c)
	}
	return c
}

func (a *app) serverCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane: API, store, scheduler, dashboard",
		Long: `Run the control plane: the HTTPS API under /v1 for nodes and admins, the
SQLite store in the data directory, and the job scheduler.

On first start the data directory gets a self-signed certificate (its
SHA-256 is in every authentication key as @ca=sha256:...), an admin token
(admin.token, mode 0600) and the database (shir.db). The server also writes
<user config dir>/shir/server.json so that shir runtime and shir job work on
this machine without flags. Stop it with Ctrl-C (or SIGTERM).
` + exitStatusHelp,
		Args: noArgs,
		RunE: a.runServer,
	}
	c.Flags().String("data", "", "data directory (store, certificate, admin token) (default: <user config dir>/shir/server)")
	c.Flags().String("listen", "127.0.0.1:8443", "address to listen on")
	c.Flags().String("cert", "", "TLS certificate file (default: self-signed, generated on first start)")
	c.Flags().String("key", "", "TLS key file")
	c.Flags().String("public-url", "", "https URL that nodes use, written into keys (default: from --listen)")
	c.Flags().StringSlice("host", nil, "extra DNS names or IPs for the self-signed certificate")
	c.Flags().Duration("heartbeat-interval", api.DefaultHeartbeatInterval, "heartbeat interval nodes are told to use")
	c.Flags().Bool("sync-full", false, "fsync every commit (survive power loss, slower)")
	c.Flags().Bool("no-client-config", false, "do not write the client config file for this user")
	c.Flags().String("log-level", "info", "debug, info, warn or error")
	c.Flags().Float64("register-rate", 10, "registrations per second allowed from one client address")
	c.Flags().Int("register-burst", 50, "registrations in a burst allowed from one client address")
	return c
}

func (a *app) runServer(c *cobra.Command, _ []string) error {
	f := c.Flags()
	data, _ := f.GetString("data")
	listen, _ := f.GetString("listen")
	certFile, _ := f.GetString("cert")
	keyFile, _ := f.GetString("key")
	publicURL, _ := f.GetString("public-url")
	hosts, _ := f.GetStringSlice("host")
	hb, _ := f.GetDuration("heartbeat-interval")
	syncFull, _ := f.GetBool("sync-full")
	noCfg, _ := f.GetBool("no-client-config")
	levelName, _ := f.GetString("log-level")
	regRate, _ := f.GetFloat64("register-rate")
	regBurst, _ := f.GetInt("register-burst")
	if regRate <= 0 || regBurst < 1 {
		return usageError("--register-rate and --register-burst must be positive")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(levelName)); err != nil {
		return usageError("--log-level: must be debug, info, warn or error")
	}
	if hb < time.Second || hb > time.Hour {
		return usageError("--heartbeat-interval: must be from 1s to 1h")
	}
	if (certFile == "") != (keyFile == "") {
		return usageError("--cert and --key go together")
	}
	if data == "" {
		d, err := os.UserConfigDir()
		if err != nil {
			return usageError("--data is not set and there is no user config directory: %v", err)
		}
		data = filepath.Join(d, "shir", "server")
	}
	var cfgPath string
	if !noCfg {
		cfgPath, _ = client.DefaultConfigPath()
	}
	srv, err := controlplane.New(controlplane.Options{
		DataDir: data, CertFile: certFile, KeyFile: keyFile, PublicURL: publicURL, Hosts: hosts,
		HeartbeatInterval: hb, SyncFull: syncFull, ClientConfigPath: cfgPath, RegisterRate: regRate, RegisterBurst: regBurst,
		Logger: slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		if strings.Contains(err.Error(), "public URL") {
			return usageError("--public-url: %v", err)
		}
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return usageError("--listen %s: %v", listen, err)
	}
	// Serve sets the URL before accepting; print once it is known.
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(c.Context(), ln) }()
	for srv.URL() == "" {
		select {
		case err := <-errc:
			return err
		case <-time.After(5 * time.Millisecond):
		}
	}
	fmt.Fprintf(a.stdout, "control plane listening on %s\n", srv.URL())
	fmt.Fprintf(a.stdout, "data directory: %s\n", data)
	fmt.Fprintf(a.stdout, "admin token:    %s\n", filepath.Join(data, controlplane.AdminTokenFile))
	if pin := srv.CertSHA256(); pin != nil {
		fmt.Fprintf(a.stdout, "certificate:    %s\n", client.PinString(pin))
	}
	if cfgPath != "" {
		fmt.Fprintf(a.stdout, "client config:  %s (shir runtime / shir job use it)\n", cfgPath)
	}
	err = <-errc
	if err == nil {
		fmt.Fprintln(a.stdout, "control plane stopped")
	}
	return err
}

func (a *app) runtimeCommand() *cobra.Command {
	return group("runtime", "Runtimes, their keys and nodes on a control plane",
		a.adminCmd("create NAME", "Create a runtime", exactArgs("NAME"), func(c *cobra.Command) {
			c.Flags().Int("max-nodes", api.DefaultMaxNodes, "most nodes the runtime may have")
			c.Flags().String("description", "", "description")
			jsonFlag(c)
		}, func(ctx context.Context, c *cobra.Command, cl *client.Client, args []string) error {
			maxNodes, _ := c.Flags().GetInt("max-nodes")
			desc, _ := c.Flags().GetString("description")
			if maxNodes < 1 || maxNodes > api.MaxMaxNodes {
				return usageError("--max-nodes: must be from 1 to %d", api.MaxMaxNodes)
			}
			rt, err := cl.CreateRuntime(ctx, api.CreateRuntimeRequest{Name: args[0], Description: desc, MaxNodes: maxNodes})
			if err != nil {
				return err
			}
			if wantJSON(c) {
				return printJSON(a.stdout, rt)
			}
			fmt.Fprintf(a.stdout, "runtime %s created (id %s, at most %d nodes)\nits keys: shir runtime keys %s\n", rt.Name, rt.ID, rt.MaxNodes, rt.Name)
			return nil
		}),
		a.adminCmd("list", "List runtimes", noArgs, jsonFlag, func(ctx context.Context, c *cobra.Command, cl *client.Client, _ []string) error {
			rts, err := cl.Runtimes(ctx)
			if err != nil {
				return err
			}
			if wantJSON(c) {
				return printJSON(a.stdout, api.RuntimeList{Runtimes: rts})
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tID\tSTATUS\tNODES")
			for _, rt := range rts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\n", rt.Name, rt.ID, rt.Status, rt.NodeCount, rt.MaxNodes)
			}
			return tw.Flush()
		}),
		a.adminCmd("show NAME", "Show a runtime, its nodes and status", exactArgs("NAME"), jsonFlag, func(ctx context.Context, c *cobra.Command, cl *client.Client, args []string) error {
			rt, err := cl.Runtime(ctx, args[0])
			if err != nil {
				return err
			}
			if wantJSON(c) {
				return printJSON(a.stdout, rt)
			}
			fmt.Fprintf(a.stdout, "name:        %s\nid:          %s\nstatus:      %s\nnodes:       %d of at most %d\n", rt.Name, rt.ID, rt.Status, rt.NodeCount, rt.MaxNodes)
			if rt.Description != "" {
				fmt.Fprintf(a.stdout, "description: %s\n", rt.Description)
			}
			if rt.DesiredVersion != "" {
				fmt.Fprintf(a.stdout, "version pin: %s\n", rt.DesiredVersion)
			}
			if len(rt.Nodes) == 0 {
				return nil
			}
			fmt.Fprintln(a.stdout)
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NODE\tID\tSTATUS\tVERSION\tUPDATE\tCPU%\tJOBS\tLIMIT\tLAST SEEN")
			for _, n := range rt.Nodes {
				limit := strconv.Itoa(n.Concurrency)
				if n.Concurrency == 0 {
					limit = fmt.Sprintf("%d (node default)", n.ReportedConcurrency)
				}
				seen := "never"
				if !n.LastSeen.IsZero() {
					seen = n.LastSeen.Local().Format(time.DateTime)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.0f\t%d\t%s\t%s\n", n.Name, n.ID, n.Status, orDash(n.Version), orDash(n.Update.State),
					n.Metrics.CPUPercent, n.LeasedJobs, limit, seen)
			}
			return tw.Flush()
		}),
		a.adminCmd("delete NAME", "Delete a runtime", exactArgs("NAME"), nil, func(ctx context.Context, c *cobra.Command, cl *client.Client, args []string) error {
			if err := cl.DeleteRuntime(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "runtime %s deleted (its nodes can no longer connect)\n", args[0])
			return nil
		}),
		a.adminCmd("keys NAME", "Print the two authentication keys of a runtime", exactArgs("NAME"), jsonFlag, func(ctx context.Context, c *cobra.Command, cl *client.Client, args []string) error {
			k, err := cl.Keys(ctx, args[0])
			if err != nil {
				return err
			}
			if wantJSON(c) {
				return printJSON(a.stdout, k)
			}
			fmt.Fprintf(a.stdout, "key1: %s\nkey2: %s\n", k.Key1, k.Key2)
			return nil
		}),
		a.adminCmd("regenerate-key NAME key1|key2", "Regenerate one key (nodes stay registered)", exactArgs("NAME", "key1|key2"), nil, func(ctx context.Context, c *cobra.Command, cl *client.Client, args []string) error {
			slot := strings.ToLower(args[1])
			if slot != "key1" && slot != "key2" {
				return usageError("second argument must be key1 or key2, got %q", args[1])
			}
			k, err := cl.RegenerateKey(ctx, args[0], slot)
			if err != nil {
				return err
			}
			v := k.Key1
			if slot == "key2" {
				v = k.Key2
			}
			fmt.Fprintf(a.stdout, "%s: %s\n(the old %s no longer registers nodes; registered nodes keep working)\n", slot, v, slot)
			return nil
		}),
		a.adminCmd("remove-node NAME NODE", "Remove a node from a runtime", exactArgs("NAME", "NODE"), nil, func(ctx context.Context, c *cobra.Command, cl *client.Client, args []string) error {
			if err := cl.RemoveNode(ctx, args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "node %s removed from runtime %s (its jobs are queued again)\n", args[1], args[0])
			return nil
		}),
		a.adminCmd("set-concurrency NAME NODE N", "Set a node's concurrent job limit (scale up)", exactArgs("NAME", "NODE", "N"), nil, func(ctx context.Context, c *cobra.Command, cl *client.Client, args []string) error {
			n, err := strconv.Atoi(args[2])
			if err != nil || n < 0 || n > api.MaxConcurrency {
				return usageError("N must be a whole number from 1 to %d, or 0 for the node's default, got %q", api.MaxConcurrency, args[2])
			}
			node, err := cl.SetConcurrency(ctx, args[0], args[1], n)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "node %s of runtime %s: concurrency %d\n", node.Name, args[0], node.Concurrency)
			return nil
		}),
	)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (a *app) jobCommand() *cobra.Command {
	return group("job", "Jobs queued on a runtime",
		a.adminCmd("submit", "Submit a job", noArgs, func(c *cobra.Command) {
			c.Flags().String("runtime", "", "runtime name")
			c.Flags().String("kind", "", "copy, testconnection or exec")
			c.Flags().String("spec", "", "JSON file with the job's parameters (- for stdin)")
			c.Flags().Int("max-attempts", api.DefaultMaxAttempts, "leases before the job is dead")
			c.Flags().Int("lease-seconds", int(api.DefaultLeaseDuration/time.Second), "lease duration without renewal")
			jsonFlag(c)
		}, func(ctx context.Context, c *cobra.Command, cl *client.Client, _ []string) error {
			f := c.Flags()
			rt, _ := f.GetString("runtime")
			kind, _ := f.GetString("kind")
			specPath, _ := f.GetString("spec")
			attempts, _ := f.GetInt("max-attempts")
			lease, _ := f.GetInt("lease-seconds")
			if rt == "" {
				return usageError("--runtime is required")
			}
			if kind == "" {
				return usageError("--kind is required (%s)", strings.Join(api.JobKinds, ", "))
			}
			if specPath == "" {
				return usageError("--spec is required (a JSON file, or - for stdin)")
			}
			var spec []byte
			var err error
			if specPath == "-" {
				spec, err = io.ReadAll(io.LimitReader(a.stdin, api.MaxSpecBytes+1))
			} else {
				spec, err = os.ReadFile(specPath)
			}
			if err != nil {
				return usageError("--spec: %v", err)
			}
			if !json.Valid(spec) {
				return usageError("--spec: %s is not valid JSON", specPath)
			}
			j, err := cl.SubmitJob(ctx, api.SubmitJobRequest{Runtime: rt, Kind: kind, Spec: spec, MaxAttempts: attempts, LeaseSeconds: lease})
			if err != nil {
				return err
			}
			if wantJSON(c) {
				return printJSON(a.stdout, j)
			}
			fmt.Fprintln(a.stdout, j.ID)
			return nil
		}),
		a.adminCmd("list", "List jobs", noArgs, func(c *cobra.Command) {
			c.Flags().String("runtime", "", "runtime name")
			c.Flags().String("state", "", "queued, leased, succeeded, failed, dead or cancelled")
			c.Flags().Int("limit", 100, "most jobs to list (newest first)")
			jsonFlag(c)
		}, func(ctx context.Context, c *cobra.Command, cl *client.Client, _ []string) error {
			f := c.Flags()
			rt, _ := f.GetString("runtime")
			state, _ := f.GetString("state")
			limit, _ := f.GetInt("limit")
			jobs, err := cl.Jobs(ctx, client.JobFilter{Runtime: rt, State: state, Limit: limit})
			if err != nil {
				return err
			}
			if wantJSON(c) {
				return printJSON(a.stdout, api.JobList{Jobs: jobs})
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tSTATE\tATTEMPTS\tNODE\tCREATED")
			for _, j := range jobs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", j.ID, j.Kind, j.State, j.Attempts, j.MaxAttempts, orDash(j.NodeID), j.CreatedAt.Local().Format(time.DateTime))
			}
			return tw.Flush()
		}),
		a.adminCmd("show ID", "Show a job", exactArgs("ID"), nil, func(ctx context.Context, c *cobra.Command, cl *client.Client, args []string) error {
			j, err := cl.Job(ctx, args[0])
			if err != nil {
				return err
			}
			return printJSON(a.stdout, j)
		}),
		a.adminCmd("cancel ID", "Cancel a job", exactArgs("ID"), nil, func(ctx context.Context, c *cobra.Command, cl *client.Client, args []string) error {
			j, err := cl.CancelJob(ctx, args[0])
			if err != nil {
				return err
			}
			if j.State == api.JobCancelled {
				fmt.Fprintf(a.stdout, "job %s cancelled\n", j.ID)
			} else {
				fmt.Fprintf(a.stdout, "job %s: cancel requested; node %s stops it at its next lease renewal\n", j.ID, j.NodeID)
			}
			return nil
		}),
	)
}
