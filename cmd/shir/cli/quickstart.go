package cli

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/controlplane"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
	"github.com/shirhq/shir/internal/atomicfile"
	"github.com/shirhq/shir/internal/credstore"
	"github.com/shirhq/shir/internal/nodecert"
	"github.com/shirhq/shir/internal/secret"
	"github.com/shirhq/shir/provision"
)

func (a *app) quickstartCommand() *cobra.Command {
	var o quickstartOptions
	c := &cobra.Command{
		Use:   "quickstart",
		Short: "Start a control plane and two nodes on this machine, run two jobs, show the result (no root)",
		Long: `quickstart shows shir end to end on this machine, without root:

  1. starts a control plane (shir server) on 127.0.0.1 with its data in DIR
  2. creates a runtime and takes its authentication key
  3. installs two nodes with the installer pipeline into sandbox roots
     (shir install --root DIR/nodeN --no-service AUTHKEY=... NODENAME=nodeN)
  4. waits until both nodes heartbeat (runtime Online, 2 of 4 nodes)
  5. runs a copy job and a testconnection job and prints their results;
     stores a credential on node1 and reads it back on node2 (the nodes
     sync credentials over remote access: mutual TLS on 127.0.0.1, each
     node's certificate pinned by the control plane)
  6. uninstalls the nodes and stops the control plane (--keep leaves them running)
` + exitStatusHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runQuickstart(cmd.Context(), o)
		},
	}
	c.Flags().StringVar(&o.dir, "dir", "", "working directory (default: a new temp directory, removed at the end)")
	c.Flags().BoolVar(&o.keep, "keep", false, "leave the control plane and the nodes running until Ctrl-C, then clean up")
	c.Flags().DurationVar(&o.timeout, "timeout", 60*time.Second, "give up when a step takes longer")
	return c
}

type quickstartOptions struct {
	dir     string
	keep    bool
	timeout time.Duration
}

func (a *app) runQuickstart(ctx context.Context, o quickstartOptions) (err error) {
	start := time.Now()
	say := func(format string, args ...any) { fmt.Fprintf(a.stdout, format+"\n", args...) }
	dir := o.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "shir-quickstart-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}

	// 1. Control plane.
	cfgPath := filepath.Join(dir, "client.json")
	// Heartbeats every second: the nodes learn each other's remote-access
	// certificates within a second.
	srv, err := controlplane.New(controlplane.Options{DataDir: filepath.Join(dir, "controlplane"),
		ClientConfigPath: cfgPath, Logger: slog.New(slog.DiscardHandler), HeartbeatInterval: time.Second})
	if err != nil {
		return fmt.Errorf("start the control plane: %w", err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(srvCtx, ln) }()
	defer func() { stopSrv(); <-served }()
	say("[1/6] control plane on https://%s (data in %s)", ln.Addr(), filepath.Join(dir, "controlplane"))

	// 2. Runtime and key.
	cl, err := client.New(srv.ClientConfig(ln.Addr().String()))
	if err != nil {
		return err
	}
	stepCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	rt, err := cl.CreateRuntime(stepCtx, api.CreateRuntimeRequest{Name: "quickstart", Description: "made by shir quickstart"})
	if err != nil {
		return fmt.Errorf("create runtime: %w", err)
	}
	keys, err := cl.Keys(stepCtx, rt.ID)
	if err != nil {
		return fmt.Errorf("runtime keys: %w", err)
	}
	say("[2/6] runtime %q created (max %d nodes); key1 and key2 made (secrets: not shown)", rt.Name, rt.MaxNodes)

	// 3. Two nodes through the installer pipeline.
	var roots []string
	defer func() {
		for _, root := range roots {
			if uerr := uninstallSandbox(root); uerr != nil {
				err = errors.Join(err, uerr)
			}
		}
	}()
	for _, name := range []string{"node1", "node2"} {
		root := filepath.Join(dir, name)
		var log strings.Builder
		t0 := time.Now()
		ra, rerr := quickstartRemoteAccess(dir, name)
		if rerr != nil {
			return rerr
		}
		ierr := installSandbox(stepCtx, root, name, keys.Key1, ra, &log)
		roots = append(roots, root)
		if ierr != nil {
			fmt.Fprint(a.stderr, log.String())
			return fmt.Errorf("install %s: %w", name, ierr)
		}
		say("[3/6] %s installed in %s, registered, first heartbeat seen (%s)", name, root, time.Since(t0).Round(time.Millisecond))
	}

	// A credential on node1, synced to node2 while the jobs run.
	credSecret := rand.Text()
	t0 := time.Now()
	if err := nodeStore(filepath.Join(dir, "node1")).Put(quickstartCred, "demo", credSecret); err != nil {
		return fmt.Errorf("credential on node1: %w", err)
	}

	// 4. Both nodes online.
	if rt, err = waitOnline(stepCtx, cl, rt.ID, 2); err != nil {
		return err
	}
	say("[4/6] runtime %s: %d of %d nodes online", rt.Status, online(rt), rt.MaxNodes)

	// 5. Jobs.
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	content := []byte("hello from shir quickstart\n")
	src, sink := filepath.Join(data, "input.txt"), filepath.Join(data, "output.txt")
	if err := os.WriteFile(src, content, 0o644); err != nil {
		return err
	}
	sum := sha256.Sum256(content)
	copyJob, err := submit(stepCtx, cl, rt.ID, api.KindCopy, api.CopySpec{Source: src, Sink: sink, SHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		return err
	}
	tcJob, err := submit(stepCtx, cl, rt.ID, api.KindTestConnection, api.TestConnectionSpec{Protocol: "tcp", Address: ln.Addr().String()})
	if err != nil {
		return err
	}
	names := nodeNames(rt)
	for _, id := range []string{copyJob.ID, tcJob.ID} {
		j, err := waitJob(stepCtx, cl, id)
		if err != nil {
			return err
		}
		say("[5/6] %s job %s %s on %s: %s", j.Kind, j.ID, j.State, names[j.NodeID], jobOutput(j))
		if j.State != api.JobSucceeded {
			return fmt.Errorf("%s job %s ended %s: %s", j.Kind, j.ID, j.State, j.Error)
		}
	}

	if err := waitCredential(stepCtx, filepath.Join(dir, "node2"), credSecret); err != nil {
		return err
	}
	say("[5/6] credential %q stored on node1, read back on node2 after %s (synced over mutual TLS; secret not shown)", quickstartCred, time.Since(t0).Round(time.Millisecond))

	// 6. Summary.
	if rt, err = cl.Runtime(stepCtx, rt.ID); err != nil {
		return err
	}
	say("[6/6] runtime %q is %s with %d nodes:", rt.Name, rt.Status, len(rt.Nodes))
	for _, n := range rt.Nodes {
		say("      %-6s %-7s version %s, %d jobs running", n.Name, n.Status, n.Version, n.LeasedJobs)
	}
	say("quickstart done in %s.", time.Since(start).Round(10*time.Millisecond))
	if !o.keep {
		say("Next: run it with --keep and try `shir runtime show quickstart` and `shir job list`, or read `shir install --help`.")
		return nil
	}
	say("Running until Ctrl-C. Try:\n  shir runtime show quickstart --config %s\n  shir job list --config %s", cfgPath, cfgPath)
	<-ctx.Done()
	return nil
}

const quickstartCred = "quickstart-demo"

// quickstartRemoteAccess makes a node's remote-access certificate (a PEM
// file, as an admin would give with CERTFILE) and picks a free port.
func quickstartRemoteAccess(dir, name string) (map[string]string, error) {
	b, err := nodecert.GenerateSelfSigned(name, time.Now(), 24*time.Hour)
	if err != nil {
		return nil, err
	}
	certDir := filepath.Join(dir, "certs")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(certDir, name+".pem")
	if err := atomicfile.Write(path, b, 0o600); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return map[string]string{"CERTFILE": path, "PORT": strconv.Itoa(port)}, nil
}

// nodeStore opens the credential store of the sandbox node under root.
func nodeStore(root string) *credstore.Store {
	st := provision.RootPaths(runtime.GOOS, root).StateDir
	p, err := secret.ForStateDir(st)
	if err != nil {
		return credstore.Open(st, nil)
	}
	return credstore.Open(st, p)
}

// waitCredential polls node root until it holds quickstartCred with want.
func waitCredential(ctx context.Context, root, want string) error {
	s := nodeStore(root)
	for {
		if c, err := s.Get(quickstartCred); err == nil && c.Secret == want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("credential %s did not reach %s: %w", quickstartCred, filepath.Base(root), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// installSandbox installs a node under root with the real installer pipeline.
// The key goes in-process, never on a command line.
func installSandbox(ctx context.Context, root, name, key string, extra map[string]string, out io.Writer) error {
	props := provision.PropertySet{}
	base := map[string]string{"AUTHKEY": key, "NODENAME": name, "NOFIREWALL": "1", "IGNOREPREREQ": "all"}
	for k, v := range extra {
		base[k] = v
	}
	for k, v := range base {
		if err := props.Set(k, v); err != nil {
			return err
		}
	}
	in, err := provision.Open(provision.Options{Inv: provision.Invocation{Quiet: true, Root: root, NoService: true, Props: props},
		Out: out, VerifyTimeout: 30 * time.Second})
	if err != nil {
		return err
	}
	defer in.Close()
	return in.Install(ctx)
}

func uninstallSandbox(root string) error {
	in, err := provision.Open(provision.Options{Inv: provision.Invocation{Root: root, NoService: true, Props: provision.PropertySet{}}})
	if err != nil {
		return err
	}
	defer in.Close()
	return in.Uninstall(context.Background(), true)
}

func submit(ctx context.Context, cl *client.Client, runtime, kind string, spec any) (api.Job, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return api.Job{}, err
	}
	j, err := cl.SubmitJob(ctx, api.SubmitJobRequest{Runtime: runtime, Kind: kind, Spec: b})
	if err != nil {
		return api.Job{}, fmt.Errorf("submit %s job: %w", kind, err)
	}
	return j, nil
}

func waitJob(ctx context.Context, cl *client.Client, id string) (api.Job, error) {
	for {
		j, err := cl.Job(ctx, id)
		if err != nil {
			return j, err
		}
		switch j.State {
		case api.JobSucceeded, api.JobFailed, api.JobDead, api.JobCancelled:
			return j, nil
		}
		select {
		case <-ctx.Done():
			return j, fmt.Errorf("job %s still %s: %w", id, j.State, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitOnline(ctx context.Context, cl *client.Client, runtime string, want int) (api.Runtime, error) {
	for {
		rt, err := cl.Runtime(ctx, runtime)
		if err != nil {
			return rt, err
		}
		if online(rt) >= want {
			return rt, nil
		}
		select {
		case <-ctx.Done():
			return rt, fmt.Errorf("runtime %s: %d of %d nodes online: %w", rt.Name, online(rt), want, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func online(rt api.Runtime) int {
	n := 0
	for _, nd := range rt.Nodes {
		if nd.Status == api.StatusOnline {
			n++
		}
	}
	return n
}

func nodeNames(rt api.Runtime) map[string]string {
	m := map[string]string{}
	for _, n := range rt.Nodes {
		m[n.ID] = n.Name
	}
	return m
}

func jobOutput(j api.Job) string {
	switch j.Kind {
	case api.KindCopy:
		var o api.CopyOutput
		if json.Unmarshal(j.Output, &o) == nil {
			return fmt.Sprintf("%d bytes, sha256 %s (verified)", o.Bytes, o.SHA256)
		}
	case api.KindTestConnection:
		var o api.TestConnectionOutput
		if json.Unmarshal(j.Output, &o) == nil {
			return fmt.Sprintf("reachable=%t in %d ms", o.Reachable, o.LatencyMS)
		}
	}
	if j.Error != "" {
		return j.Error
	}
	return string(j.Output)
}
