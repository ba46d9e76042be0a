package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/shirhq/shir/controlplane"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
	"github.com/shirhq/shir/provision/fleet"
)

// sshHost is one test host: a real sshd with its own host key, in its own
// network namespace (10.233.0.N:22) or, without root, on a 127.0.0.1 port.
type sshHost struct {
	name    string
	ns      string // network namespace; "" on loopback
	addr    string
	port    int
	hostKey ssh.PublicKey
	root    string // install root (--root DIR --no-service)
}

func (h *sshHost) hostport() string { return net.JoinHostPort(h.addr, strconv.Itoa(h.port)) }

const sshdPath = "/usr/sbin/sshd"

func writeKey(t testing.TB, path string) ssh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startSSHD starts a real sshd -D for host name with its own host key,
// config and authorized_keys (the test's client key). On a fleetNet with
// namespaces it gets its own namespace and listens on its address, port 22
// (ip netns exec); otherwise on a random 127.0.0.1 port. A non-root sshd lets
// in only the user that runs it.
func startSSHD(t testing.TB, fn *fleetNet, name string, clientKey ssh.PublicKey) *sshHost {
	t.Helper()
	dir := t.TempDir()
	h := &sshHost{name: name, addr: "127.0.0.1", root: filepath.Join(t.TempDir(), name)}
	if fn.netns() {
		h.ns, h.addr = fn.addHost(name)
		h.port = 22
	} else {
		h.port = freePort(t)
	}
	// Stop the host's agent and remove its installation before the test's
	// temp dirs go (t.Cleanup runs last-registered first).
	t.Cleanup(func() {
		if _, err := os.Stat(h.root); err == nil {
			if err := uninstallSandbox(h.root); err != nil {
				t.Logf("uninstall %s: %v", h.root, err)
			}
		}
	})
	h.hostKey = writeKey(t, filepath.Join(dir, "host_ed25519"))
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientKey), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		_ = os.MkdirAll("/run/sshd", 0o755) // privilege separation dir of a root sshd
	}
	// SetEnv SHLVL: bash runs ~/.bashrc for commands that come over ssh when
	// it is the first shell level; this VM's root .bashrc runs pyenv init
	// (1.3 s for every remote command). A test host has no business with the
	// tester's shell setup; the fleet sends plain sh command lines.
	cfg := fmt.Sprintf(`Port %d
ListenAddress %s
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PermitRootLogin prohibit-password
SetEnv SHLVL=1
Subsystem sftp internal-sftp
LogLevel ERROR
`, h.port, h.addr, filepath.Join(dir, "host_ed25519"), filepath.Join(dir, "sshd.pid"), filepath.Join(dir, "authorized_keys"))
	cf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	cmd := command(h.ns, sshdPath, "-D", "-e", "-f", cf)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() && log.Len() > 0 {
			t.Logf("sshd %s log:\n%s", name, log.String())
		}
	})
	// Wait until it listens, seen from where the fleet runs (the hub).
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := dialIn(t, fn.hub, h.hostport())
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd %s did not listen on %s: %v\n%s", name, h.hostport(), err, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return h
}

// watchBuffer collects output and shows it all to f after every write. (Not
// an embedded bytes.Buffer: io.Copy would use its ReadFrom, not Write.)
type watchBuffer struct {
	b bytes.Buffer
	f func(string)
}

func (w *watchBuffer) Write(p []byte) (int, error) {
	n, err := w.b.Write(p)
	if w.f != nil {
		w.f(w.b.String())
	}
	return n, err
}

func (w *watchBuffer) String() string { return w.b.String() }

// syncBuffer is a bytes.Buffer safe for a process's output and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

func knownHostsLine(h *sshHost, key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(h.hostport())}, key) + "\n"
}

type fleetEnv struct {
	t          testing.TB
	net        *fleetNet
	dir        string
	shir       string
	clientKey  string
	cpURL      string
	tokenFile  string
	pin        string
	keyFile    string
	cl         *client.Client
	runtime    string
	knownHosts string
}

// fleetYAML writes a fleet file for hosts; extra is appended to each host
// (indented properties), waves replaces the waves block.
func (e *fleetEnv) fleetYAML(name string, hosts []*sshHost, waves string, hostExtra map[string]string) string {
	e.t.Helper()
	u, err := user.Current()
	if err != nil {
		e.t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# test fleet
control_plane:
  url: %s
  ca_sha256: %s
  admin_token_file: %s
runtime: %s
auth_key:
  file: %s
known_hosts: %s
binaries:
  files:
    linux/amd64: %s
    linux/arm64: %s
defaults:
  user: %s
  identity_file: %s
  properties:
    NOFIREWALL: "1"
waves:
%s
hosts:
`, e.cpURL, e.pin, e.tokenFile, e.runtime, e.keyFile, e.knownHosts, e.shir, e.shir, u.Username, e.clientKey, waves)
	for _, h := range hosts {
		fmt.Fprintf(&b, "  - name: %s\n    address: %s\n    port: %d\n    root: %s\n", h.name, h.addr, h.port, h.root)
		if x := hostExtra[h.name]; x != "" {
			b.WriteString(x)
		}
	}
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// command is `shir fleet args...` as a process of the built binary, in the
// hub namespace when there is one.
func (e *fleetEnv) command(ctx context.Context, args ...string) *exec.Cmd {
	argv := append([]string{e.shir, "fleet"}, args...)
	if e.net.netns() {
		argv = append([]string{"ip", "netns", "exec", e.net.hub}, argv...)
	}
	return exec.CommandContext(ctx, argv[0], argv[1:]...)
}

// run runs `shir fleet args...` and returns its exit code, the JSON report
// (when --json) and all its output.
func (e *fleetEnv) run(args ...string) (int, fleet.Report, string) {
	e.t.Helper()
	return e.runWatch(nil, args...)
}

// runWatch is run; onOutput (if not nil) sees the progress output (stderr
// with --json) so far after every write.
func (e *fleetEnv) runWatch(onOutput func(string), args ...string) (int, fleet.Report, string) {
	e.t.Helper()
	var out bytes.Buffer
	errOut := &watchBuffer{f: onOutput}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := e.command(ctx, args...)
	cmd.Stdout, cmd.Stderr = &out, errOut
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			e.t.Fatalf("shir fleet %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	var rep fleet.Report
	if slices.Contains(args, "--json") {
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			e.t.Logf("fleet %v: exit %d, stdout not a JSON report (%v):\n%s\nstderr:\n%s", args, code, err, out.String(), errOut.String())
		}
	}
	return code, rep, out.String() + errOut.String()
}

func byHost(rep fleet.Report) map[string]fleet.HostReport {
	m := map[string]fleet.HostReport{}
	for _, h := range rep.Hosts {
		m[h.Host] = h
	}
	return m
}

func (e *fleetEnv) nodes() map[string]api.Node {
	e.t.Helper()
	m := map[string]api.Node{}
	for _, n := range e.nodeList() {
		m[n.Name] = n
	}
	return m
}

func (e *fleetEnv) nodeList() []api.Node {
	e.t.Helper()
	rt, err := e.cl.Runtime(context.Background(), e.runtime)
	if err != nil {
		e.t.Fatal(err)
	}
	return rt.Nodes
}

// newFleetEnv builds shir, starts a control plane with a runtime and one
// sshd per name; it skips when sshd is missing.
func newFleetEnv(t testing.TB, names []string) (*fleetEnv, []*sshHost, ssh.PublicKey, string) {
	if _, err := os.Stat(sshdPath); err != nil {
		t.Skipf("%s not found (apt-get install openssh-server): the SSH fleet test was not run", sshdPath)
	}
	if testing.Short() {
		t.Skip("-short: the SSH fleet test (real sshd, builds shir) was not run")
	}
	e := &fleetEnv{t: t, net: newFleetNet(t), dir: t.TempDir(), runtime: "fleet"}

	// The shir binary that goes to the hosts.
	e.shir = filepath.Join(e.dir, "shir")
	build := exec.Command("go", "build", "-o", e.shir, "github.com/shirhq/shir/cmd/shir")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build shir: %v\n%s", err, out)
	}

	// Control plane.
	srv, err := controlplane.New(controlplane.Options{DataDir: filepath.Join(e.dir, "cp"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// It listens where the fleet and the agents are (the hub) and, for the
	// test's own admin client, on 127.0.0.1 here.
	local := listenIn(t, "", "127.0.0.1:0")
	ln := net.Listener(local)
	if e.net.netns() {
		ln = newMultiListener(listenIn(t, e.net.hub, fleetNetHubIP+":0"), local)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { stop(); <-served; srv.Close() })
	cc := srv.ClientConfig(ln.Addr().String())
	e.cpURL, e.tokenFile, e.pin = cc.URL, cc.TokenFile, hex.EncodeToString(cc.CASHA256)
	if e.cl, err = client.New(srv.ClientConfig(local.Addr().String())); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cl.CreateRuntime(context.Background(), api.CreateRuntimeRequest{Name: e.runtime, MaxNodes: max(16, len(names))}); err != nil {
		t.Fatal(err)
	}
	keys, err := e.cl.Keys(context.Background(), e.runtime)
	if err != nil {
		t.Fatal(err)
	}
	e.keyFile = filepath.Join(e.dir, "authkey")
	if err := os.WriteFile(e.keyFile, []byte(keys.Key1+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := keys.Key1[strings.LastIndex(keys.Key1, "@")+1:]

	// Hosts: one sshd each, with its own host key and install root.
	e.clientKey = filepath.Join(e.dir, "id_ed25519")
	clientPub := writeKey(t, e.clientKey)
	var hosts []*sshHost
	for _, n := range names {
		hosts = append(hosts, startSSHD(t, e.net, n, clientPub))
	}
	return e, hosts, clientPub, secret
}

// TestFleetEndToEnd runs plan and apply against real sshd hosts whose
// "machines" are sandbox roots, with a real control plane in-process.
func TestFleetEndToEnd(t *testing.T) {
	e, hosts, clientPub, secret := newFleetEnv(t, []string{"h1", "h2", "h3"})
	e.knownHosts = filepath.Join(e.dir, "known_hosts")
	var kh strings.Builder
	for _, h := range hosts {
		kh.WriteString(knownHostsLine(h, h.hostKey))
	}
	if err := os.WriteFile(e.knownHosts, []byte(kh.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	waves := "  canary: 1\n  max_parallel: 2\n  max_failures: 1\n  online_timeout: 60s"
	file := e.fleetYAML("fleet.yaml", hosts, waves, nil)

	t.Run("plan changes nothing", func(t *testing.T) {
		code, rep, out := e.run("plan", "-f", file, "--json")
		if code != 0 {
			t.Fatalf("plan: exit %d\n%s", code, out)
		}
		for _, h := range hosts {
			r := byHost(rep)[h.name]
			if r.Action != fleet.ActionInstall || r.Result != fleet.ResultPlanned || r.Arch == "" || len(r.Problems) != 0 {
				t.Errorf("%s: %+v", h.name, r)
			}
			if _, err := os.Stat(h.root); err == nil {
				t.Errorf("%s: plan created %s", h.name, h.root)
			}
		}
		if rep.Changed != 3 || rep.Waves != 2 {
			t.Errorf("changed %d waves %d, want 3 and 2 (canary, rest)", rep.Changed, rep.Waves)
		}
		if n := len(e.nodes()); n != 0 {
			t.Errorf("plan registered %d nodes", n)
		}
		if left, _ := filepath.Glob("/tmp/shir-fleet.*"); len(left) > 0 {
			t.Logf("note: temp dirs present (maybe other runs): %v", left)
		}
		// The table form.
		code, _, out = e.run("plan", "-f", file)
		if code != 0 || !strings.Contains(out, "install") || !strings.Contains(out, "Nothing was changed") {
			t.Errorf("plan table: exit %d\n%s", code, out)
		}
	})

	t.Run("apply installs, nodes online", func(t *testing.T) {
		code, rep, out := e.run("apply", "-f", file, "--json")
		if code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, out)
		}
		if rep.Changed != 3 || rep.Failed != 0 {
			t.Errorf("changed %d failed %d", rep.Changed, rep.Failed)
		}
		if r := byHost(rep)["h1"]; r.Wave != 1 {
			t.Errorf("h1 (canary) in wave %d", r.Wave)
		}
		for _, r := range rep.Hosts {
			for _, p := range []string{"connect", "copy", "check", "install", "online", "cleanup"} {
				if _, ok := r.Phases[p]; !ok {
					t.Errorf("%s: no %s phase in %v", r.Host, p, r.Phases)
				}
			}
		}
		nodes := e.nodes()
		for _, h := range hosts {
			if n, ok := nodes[h.name]; !ok || n.Status != api.StatusOnline {
				t.Errorf("node %s: %+v", h.name, n)
			}
			b, err := os.ReadFile(filepath.Join(h.root, "opt", "shir", "shir"))
			if err != nil || !bytes.Equal(b[:min(len(b), 1<<16)], mustRead(t, e.shir)[:min(len(b), 1<<16)]) {
				t.Errorf("%s: installed binary: %v", h.name, err)
			}
		}
		if strings.Contains(out, secret) {
			t.Error("the key's secret appears in the output")
		}
		if !strings.Contains(out, "[wave 1/2] h1") || !strings.Contains(out, "verified on the host") {
			t.Errorf("progress lines missing:\n%s", out)
		}
	})

	t.Run("second apply changes nothing", func(t *testing.T) {
		before, _ := os.Stat(filepath.Join(hosts[0].root, "opt", "shir", "shir"))
		code, rep, out := e.run("apply", "-f", file, "--json")
		if code != 0 || rep.Changed != 0 || rep.Waves != 0 {
			t.Fatalf("exit %d changed %d waves %d\n%s", code, rep.Changed, rep.Waves, out)
		}
		for _, h := range rep.Hosts {
			if h.Action != fleet.ActionNothing || h.Result != fleet.ResultUnchanged {
				t.Errorf("%s: %s/%s (%s)", h.Host, h.Action, h.Result, h.Reason)
			}
		}
		after, _ := os.Stat(filepath.Join(hosts[0].root, "opt", "shir", "shir"))
		if before == nil || after == nil || !before.ModTime().Equal(after.ModTime()) {
			t.Error("the installed binary was rewritten")
		}
	})

	t.Run("changed host key is refused", func(t *testing.T) {
		bad := filepath.Join(e.dir, "known_hosts_changed")
		other := writeKey(t, filepath.Join(e.dir, "other_key"))
		if err := os.WriteFile(bad, []byte(knownHostsLine(hosts[1], other)), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, extra := range [][]string{nil, {"--accept-new"}} {
			args := append([]string{"plan", "-f", file, "--only", "h2", "--json", "--known-hosts", bad}, extra...)
			code, rep, out := e.run(args...)
			r := byHost(rep)["h2"]
			if code != 1 || r.Action != fleet.ActionUnknown || !strings.Contains(r.Error, "CHANGED") {
				t.Errorf("%v: exit %d, %+v\n%s", extra, code, r, out)
			}
		}
		if b, _ := os.ReadFile(bad); string(b) != knownHostsLine(hosts[1], other) {
			t.Errorf("known_hosts was changed:\n%s", b)
		}
	})

	t.Run("unknown host refused, accept-new adds it", func(t *testing.T) {
		fresh := filepath.Join(e.dir, "known_hosts_fresh")
		if err := os.WriteFile(fresh, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		code, rep, out := e.run("plan", "-f", file, "--only", "h1", "--json", "--known-hosts", fresh)
		if r := byHost(rep)["h1"]; code != 1 || !strings.Contains(r.Error, "is not in") {
			t.Errorf("unknown host: exit %d %+v\n%s", code, r, out)
		}
		code, rep, out = e.run("apply", "-f", file, "--only", "h1,h3", "--json", "--known-hosts", fresh, "--accept-new")
		if code != 0 || len(rep.Hosts) != 2 || rep.Changed != 0 {
			t.Errorf("accept-new: exit %d %+v\n%s", code, rep, out)
		}
		b, _ := os.ReadFile(fresh)
		if want := knownHostsLine(hosts[0], hosts[0].hostKey) + knownHostsLine(hosts[2], hosts[2].hostKey); !sameLines(string(b), want) {
			t.Errorf("known_hosts after accept-new:\n%s\nwant:\n%s", b, want)
		}
		// Now known: the same call without --accept-new works.
		if code, _, out := e.run("plan", "-f", file, "--only", "h1", "--json", "--known-hosts", fresh); code != 0 {
			t.Errorf("known after accept-new: exit %d\n%s", code, out)
		}
	})

	t.Run("failing hosts stop the rollout at the budget, a re-run converges", func(t *testing.T) {
		var fh []*sshHost
		for _, n := range []string{"f1", "f2", "f3"} {
			h := startSSHD(t, e.net, n, clientPub)
			fh = append(fh, h)
			e.addKnown(h)
		}
		// f1 and f2 fail the port-free prerequisite: remote access on a port
		// that is busy in their namespace (on loopback: on this machine).
		var busy []net.Listener
		failing := map[string]string{}
		for _, h := range fh[:2] {
			addr := "127.0.0.1:0"
			if h.ns != "" {
				addr = ":0"
			}
			ln := listenIn(t, h.ns, addr)
			defer ln.Close()
			busy = append(busy, ln)
			failing[h.name] = fmt.Sprintf("    properties:\n      NOFIREWALL: \"0\"\n      PORT: \"%d\"\n", ln.Addr().(*net.TCPAddr).Port)
		}
		waves := "  canary: 1\n  size: 1\n  max_parallel: 1\n  max_failures: 2\n  online_timeout: 60s"
		ff := e.fleetYAML("failing.yaml", fh, waves, failing)
		code, rep, out := e.run("apply", "-f", ff, "--json")
		m := byHost(rep)
		if code != 1 || !rep.Stopped || rep.Failed != 2 || rep.Waves != 3 {
			t.Fatalf("exit %d stopped %v failed %d waves %d\n%s", code, rep.Stopped, rep.Failed, rep.Waves, out)
		}
		for _, n := range []string{"f1", "f2"} {
			if m[n].Result != fleet.ResultFailed || !strings.Contains(m[n].Error, "port-free") {
				t.Errorf("%s: %+v", n, m[n])
			}
		}
		if m["f3"].Result != fleet.ResultSkipped {
			t.Errorf("f3 after the budget: %+v", m["f3"])
		}
		if _, err := os.Stat(fh[2].root); err == nil {
			t.Error("f3 was touched after the rollout stopped")
		}
		nodes := e.nodes()
		for _, n := range []string{"f1", "f2", "f3"} {
			if _, ok := nodes[n]; ok {
				t.Errorf("node %s registered", n)
			}
		}
		// The port is free again: the same apply converges.
		for _, ln := range busy {
			ln.Close()
		}
		code, rep, out = e.run("apply", "-f", ff, "--json")
		if code != 0 || rep.Changed != 3 {
			t.Fatalf("re-run: exit %d changed %d\n%s", code, rep.Changed, out)
		}
		nodes = e.nodes()
		for _, n := range []string{"f1", "f2", "f3"} {
			if nodes[n].Status != api.StatusOnline {
				t.Errorf("node %s after the re-run: %+v", n, nodes[n])
			}
		}
		if code, rep, out = e.run("apply", "-f", ff, "--json"); code != 0 || rep.Changed != 0 {
			t.Errorf("third apply: exit %d changed %d\n%s", code, rep.Changed, out)
		}
	})

	// A crashed apply, resumed, converges: `shir fleet apply` (the binary) is
	// SIGKILLed mid-wave, once as soon as the canary's installer has saved its
	// first step, once as soon as the canary's node is registered in the
	// control plane (its installer has not recorded that yet).
	t.Run("a crashed apply resumed converges", func(t *testing.T) {
		for _, c := range []struct {
			what     string
			hosts    []string
			when     func(canary *sshHost) bool
			holdLock bool
		}{
			{"install journal", []string{"c1", "c2", "c3"}, func(h *sshHost) bool {
				_, err := os.Stat(filepath.Join(h.root, "var", "lib", "shir", "install.json"))
				return err == nil
			}, true},
			{"node registered", []string{"d1", "d2"}, func(h *sshHost) bool {
				_, ok := e.nodes()[h.name]
				return ok
			}, false},
		} {
			t.Run(c.what, func(t *testing.T) {
				var hs []*sshHost
				for _, n := range c.hosts {
					h := startSSHD(t, e.net, n, clientPub)
					hs = append(hs, h)
					e.addKnown(h)
				}
				crashAndResume(t, e, hs, c.when, c.holdLock)
			})
		}
	})
}

// crashAndResume starts `shir fleet apply` on hosts (canary 1, then the
// rest 2 at a time), SIGKILLs it once when(canary) holds, runs the same
// apply again and checks that every host converged: exactly one node per
// host name, Online, one agent process, a completed journal, no leftover
// temp file or held lock; and that a third apply changes nothing. With
// holdLock the test holds the canary's install lock, as the killed apply's
// installer would if it were still running, until the resumed apply says it
// waits for it.
func crashAndResume(t *testing.T, e *fleetEnv, hosts []*sshHost, when func(canary *sshHost) bool, holdLock bool) {
	t.Helper()
	waves := "  canary: 1\n  max_parallel: 2\n  max_failures: 1\n  online_timeout: 60s"
	cf := e.fleetYAML("crash.yaml", hosts, waves, nil)
	var killedAt time.Time
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := e.command(ctx, "apply", "-f", cf, "--json")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// The killed apply cannot remove its staging dir on the host (/tmp,
	// which all test hosts share with this machine): the test does, for
	// the dirs that appeared while it ran.
	stagedBefore, _ := filepath.Glob("/tmp/shir-fleet.*")
	defer func() {
		now, _ := filepath.Glob("/tmp/shir-fleet.*")
		for _, d := range now {
			if fi, err := os.Stat(d); err == nil && !slices.Contains(stagedBefore, d) && fi.ModTime().Before(killedAt) {
				os.RemoveAll(d)
			}
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
watch:
	for {
		select {
		case err := <-exited:
			t.Fatalf("apply ended (%v) before the moment to kill it: nothing was crashed\n%s", err, out.String())
		case <-ctx.Done():
			t.Fatalf("the moment to kill apply never came\n%s", out.String())
		case <-time.After(5 * time.Millisecond):
		}
		if when(hosts[0]) {
			break watch
		}
	}
	killedAt = time.Now()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("apply was not killed: %v", err)
	}
	j, _ := os.ReadFile(filepath.Join(hosts[0].root, "var", "lib", "shir", "install.json"))
	t.Logf("killed apply; its output:\n%s\n%s's journal then:\n%s", out.String(), hosts[0].name, j)

	// Resume: the same apply, at once.
	var onOutput func(string)
	released := make(chan struct{})
	if holdLock {
		fl := flock.New(filepath.Join(hosts[0].root, "var", "lib", "shir", "install.lock"))
		lctx, lcancel := context.WithTimeout(ctx, time.Minute)
		ok, err := fl.TryLockContext(lctx, 20*time.Millisecond)
		lcancel()
		if !ok || err != nil {
			t.Fatalf("take %s's install lock: %v", hosts[0].name, err)
		}
		var once sync.Once
		release := func() { once.Do(func() { fl.Unlock(); close(released) }) }
		defer release()
		onOutput = func(s string) {
			if strings.Contains(s, hosts[0].name+": another install is running on the host") {
				release()
			}
		}
	}
	code, rep, outs := e.runWatch(onOutput, "apply", "-f", cf, "--json")
	if code != 0 || rep.Failed != 0 {
		t.Fatalf("resumed apply: exit %d failed %d\n%s", code, rep.Failed, outs)
	}
	if holdLock {
		select {
		case <-released:
		default:
			t.Errorf("the resumed apply did not wait for the held install lock:\n%s", outs)
		}
	}
	count := map[string]int{}
	for _, n := range e.nodeList() {
		count[n.Name]++
	}
	nodes := e.nodes()
	for _, h := range hosts {
		if count[h.name] != 1 || nodes[h.name].Status != api.StatusOnline {
			t.Errorf("%s: %d node(s), status %q; want exactly one, Online", h.name, count[h.name], nodes[h.name].Status)
		}
		if n := agentProcesses(t, h.root); n != 1 {
			t.Errorf("%s: %d agent processes run, want 1", h.name, n)
		}
		state := filepath.Join(h.root, "var", "lib", "shir")
		var jr struct {
			Completed bool `json:"completed"`
		}
		if b, err := os.ReadFile(filepath.Join(state, "install.json")); err != nil || json.Unmarshal(b, &jr) != nil || !jr.Completed {
			t.Errorf("%s: journal not completed: %v %s", h.name, err, b)
		}
		if tmp, _ := filepath.Glob(filepath.Join(state, "*.tmp*")); len(tmp) > 0 {
			t.Errorf("%s: half-written files left: %v", h.name, tmp)
		}
		fl := flock.New(filepath.Join(state, "install.lock"))
		if ok, err := fl.TryLock(); !ok || err != nil {
			t.Errorf("%s: the install lock is still held (%v)", h.name, err)
		} else {
			fl.Unlock()
		}
	}
	// Converged: a third apply changes nothing.
	if code, rep, outs := e.run("apply", "-f", cf, "--json"); code != 0 || rep.Changed != 0 {
		t.Errorf("third apply: exit %d changed %d\n%s", code, rep.Changed, outs)
	}
}

// agentProcesses counts the running `shir agent run` processes of the
// installation in root.
func agentProcesses(t testing.TB, root string) int {
	t.Helper()
	pids, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range pids {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte("agent\x00run\x00")) && bytes.Contains(b, []byte(root+"/")) {
			n++
		}
	}
	return n
}

// addKnown appends h's host key to the fleet's known_hosts.
func (e *fleetEnv) addKnown(h *sshHost) {
	e.t.Helper()
	f, err := os.OpenFile(e.knownHosts, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(knownHostsLine(h, h.hostKey)); err != nil {
		e.t.Fatal(err)
	}
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameLines(a, b string) bool {
	la, lb := strings.Fields(a), strings.Fields(b)
	if len(la) != len(lb) {
		return false
	}
	seen := map[string]int{}
	for _, s := range la {
		seen[s]++
	}
	for _, s := range lb {
		seen[s]--
	}
	for _, v := range seen {
		if v != 0 {
			return false
		}
	}
	return true
}

// BenchmarkFleetApply provisions 20 namespace hosts (one real sshd each, in
// its own network namespace) into a fresh runtime per iteration, with
// max_parallel 1 and 10, `shir fleet apply` running in the hub namespace. It
// reports the wall time per host (ns/host), the mean time one host took from
// the first connect to Online (host-s) and the mean of each of apply's phases
// (connect-s, copy-s, check-s, install-s, online-s, cleanup-s; the report's
// phases). docs/benchmarks.md has the numbers.
func BenchmarkFleetApply(b *testing.B) {
	if why := netnsUnavailable(); why != "" {
		b.Skipf("%s: the fleet benchmark on 20 network-namespace hosts was NOT run", why)
	}
	const n = 20
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("b%02d", i))
	}
	e, hosts, _, _ := newFleetEnv(b, names)
	e.knownHosts = filepath.Join(e.dir, "known_hosts")
	var kh strings.Builder
	for _, h := range hosts {
		kh.WriteString(knownHostsLine(h, h.hostKey))
	}
	if err := os.WriteFile(e.knownHosts, []byte(kh.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	uninstall := func() {
		for _, h := range hosts {
			if _, err := os.Stat(h.root); err == nil {
				_ = uninstallSandbox(h.root)
				os.RemoveAll(h.root)
			}
		}
	}
	b.Cleanup(uninstall)
	round := 0
	for _, par := range []int{1, 10} {
		b.Run(fmt.Sprintf("hosts=%d/parallel=%d", n, par), func(b *testing.B) {
			var hostSec float64
			phases := map[string]float64{}
			for b.Loop() {
				b.StopTimer()
				uninstall()
				round++
				e.runtime = fmt.Sprintf("bench%d", round)
				if _, err := e.cl.CreateRuntime(context.Background(), api.CreateRuntimeRequest{Name: e.runtime, MaxNodes: n}); err != nil {
					b.Fatal(err)
				}
				keys, err := e.cl.Keys(context.Background(), e.runtime)
				if err != nil {
					b.Fatal(err)
				}
				if err := os.WriteFile(e.keyFile, []byte(keys.Key1), 0o600); err != nil {
					b.Fatal(err)
				}
				file := e.fleetYAML("bench.yaml", hosts, fmt.Sprintf("  canary: 0\n  max_parallel: %d\n  max_failures: 1\n  online_timeout: 120s", par), map[string]string{})
				b.StartTimer()
				code, rep, out := e.run("apply", "-f", file, "--json")
				if code != 0 || rep.Changed != n {
					b.Fatalf("apply: exit %d changed %d\n%s", code, rep.Changed, out)
				}
				for _, h := range rep.Hosts {
					hostSec += h.Seconds
					for k, v := range h.Phases {
						phases[k] += v
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/host")
			b.ReportMetric(hostSec/float64(b.N*n), "host-s")
			for k, v := range phases {
				b.ReportMetric(v/float64(b.N*n), k+"-s")
			}
		})
	}
}
