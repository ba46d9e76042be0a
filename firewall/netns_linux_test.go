package firewall_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shirhq/shir/firewall"
	"github.com/shirhq/shir/firewall/firewalltest"
	"github.com/shirhq/shir/internal/netnstest"
)

// netnsPair is two network namespaces joined by a veth pair: the server side
// (10.231.0.1, fd31::1) holds the firewall and the listener, the client side
// (10.231.0.2, fd31::2) connects. The host's own namespace is not touched.
type netnsPair struct {
	srv, cli string
}

var netnsSeq atomic.Int32

func requireNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root: the real-firewall tests in network namespaces (nftables, iptables, ufw) were NOT run (CI runs them as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) not installed: the network-namespace tests were NOT run")
	}
}

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func newNetnsPair(t *testing.T) *netnsPair {
	t.Helper()
	requireNetns(t)
	n := netnsSeq.Add(1)
	p := &netnsPair{
		srv: fmt.Sprintf("shirfw-%d-%d-s", os.Getpid(), n),
		cli: fmt.Sprintf("shirfw-%d-%d-c", os.Getpid(), n),
	}
	sh(t, "ip", "netns", "add", p.srv)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", p.srv).Run() })
	sh(t, "ip", "netns", "add", p.cli)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", p.cli).Run() })
	sh(t, "ip", "-n", p.srv, "link", "add", "vs", "type", "veth", "peer", "name", "vc", "netns", p.cli)
	for _, c := range [][]string{
		{"-n", p.srv, "addr", "add", "10.231.0.1/24", "dev", "vs"},
		{"-n", p.srv, "addr", "add", "fd31::1/64", "dev", "vs", "nodad"},
		{"-n", p.srv, "link", "set", "vs", "up"},
		{"-n", p.srv, "link", "set", "lo", "up"},
		{"-n", p.cli, "addr", "add", "10.231.0.2/24", "dev", "vc"},
		{"-n", p.cli, "addr", "add", "fd31::2/64", "dev", "vc", "nodad"},
		{"-n", p.cli, "link", "set", "vc", "up"},
		{"-n", p.cli, "link", "set", "lo", "up"},
	} {
		sh(t, "ip", c...)
	}
	return p
}

// inNetns runs f in namespace ns (see netnstest.Do).
func inNetns(t testing.TB, ns string, f func()) { netnstest.Do(t, ns, f) }

func selfComm(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// env fills the parts of Env that do not depend on the firewall.
func (p *netnsPair) env(t *testing.T, b firewall.Backend, dump func(*testing.T) string) *firewalltest.Env {
	return &firewalltest.Env{
		Backend: b,
		Self:    selfComm(t),
		Probe: func(port int) (l firewall.Listener, err error) {
			inNetns(t, p.srv, func() { l, err = firewall.ProbePort(port) })
			return l, err
		},
		Listen: func(t *testing.T, port int) func() {
			var ln net.Listener
			var err error
			inNetns(t, p.srv, func() { ln, err = net.Listen("tcp", ":"+strconv.Itoa(port)) })
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
			return func() { ln.Close() }
		},
		Reachable: func(t *testing.T, port int) bool {
			// IPv4 and IPv6 must agree: the rule covers both.
			v4, v6 := p.connect(t, "10.231.0.1", port), p.connect(t, "fd31::1", port)
			if v4 != v6 {
				t.Fatalf("port %d: IPv4 reachable=%v but IPv6 reachable=%v", port, v4, v6)
			}
			return v4
		},
		Dump: dump,
	}
}

// connect dials from the client namespace; a timeout means dropped.
func (p *netnsPair) connect(t *testing.T, host string, port int) bool {
	var c net.Conn
	var err error
	d := net.Dialer{Timeout: 700 * time.Millisecond}
	inNetns(t, p.cli, func() { c, err = d.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(port))) })
	if err == nil {
		c.Close()
		return true
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	t.Fatalf("connect %s port %d: %v (want success or a timeout, not a refusal)", host, port, err)
	return false
}

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed: this real-firewall test was NOT run (apt-get install %s)", name, name)
	}
}

// nftRuleset is the server side's firewall before shir: a default-drop inet
// filter input chain, a second dropping input chain in another table (both
// must be opened), and unrelated rules that must survive untouched.
const nftRuleset = `
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		meta l4proto ipv6-icmp accept
		tcp dport 22 accept comment "ssh, by the admin"
	}
}
table inet blocker {
	chain input {
		type filter hook input priority 10; policy drop;
		meta l4proto ipv6-icmp accept
		ct state established,related accept
	}
}
table ip other {
	chain out {
		type filter hook output priority 0; policy accept;
		ip daddr 192.0.2.1 drop
	}
}
`

func TestConformanceNFTablesNetns(t *testing.T) {
	requireNetns(t)
	requireTool(t, "nft")
	firewalltest.Run(t, func(t *testing.T) *firewalltest.Env {
		p := newNetnsPair(t)
		cmd := exec.Command("ip", "netns", "exec", p.srv, "nft", "-f", "-")
		cmd.Stdin = strings.NewReader(nftRuleset)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nft -f: %v\n%s", err, out)
		}
		ns, err := os.Open("/run/netns/" + p.srv)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ns.Close() })
		b, err := firewall.NewNFTables(firewall.NFTablesOptions{NetNSFd: int(ns.Fd())})
		if err != nil {
			t.Fatal(err)
		}
		return p.env(t, b, func(t *testing.T) string {
			return sh(t, "ip", "netns", "exec", p.srv, "nft", "list", "ruleset")
		})
	})
}

// TestNFTablesRuleText checks that nft itself reads our rule as intended.
func TestNFTablesRuleText(t *testing.T) {
	requireNetns(t)
	requireTool(t, "nft")
	p := newNetnsPair(t)
	cmd := exec.Command("ip", "netns", "exec", p.srv, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(nftRuleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft -f: %v\n%s", err, out)
	}
	ns, _ := os.Open("/run/netns/" + p.srv)
	defer ns.Close()
	b, err := firewall.NewNFTables(firewall.NFTablesOptions{NetNSFd: int(ns.Fd())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add(context.Background(), 8060); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"filter", "blocker"} {
		out := sh(t, "ip", "netns", "exec", p.srv, "nft", "list", "chain", "inet", table, "input")
		want := `tcp dport 8060 accept comment "shir remote access"`
		if !strings.Contains(out, want) {
			t.Errorf("inet %s input lacks %q:\n%s", table, want, out)
		}
	}
	if out := sh(t, "ip", "netns", "exec", p.srv, "nft", "list", "table", "ip", "other"); strings.Contains(out, "8060") {
		t.Errorf("the output-hook table got our rule:\n%s", out)
	}
}

var saveCounters = regexp.MustCompile(`\[\d+:\d+\]`)

// iptablesDump is iptables-save and ip6tables-save without counters and
// timestamps.
func iptablesDump(t *testing.T, ns string) string {
	var b strings.Builder
	for _, tool := range []string{"iptables-save", "ip6tables-save"} {
		for _, l := range strings.Split(sh(t, "ip", "netns", "exec", ns, tool), "\n") {
			if strings.HasPrefix(l, "#") {
				continue
			}
			b.WriteString(saveCounters.ReplaceAllString(l, "[]") + "\n")
		}
	}
	return b.String()
}

func TestConformanceIPTablesNetns(t *testing.T) {
	requireNetns(t)
	requireTool(t, "iptables")
	requireTool(t, "ip6tables")
	firewalltest.Run(t, func(t *testing.T) *firewalltest.Env {
		p := newNetnsPair(t)
		for _, c := range [][]string{
			{"iptables", "-P", "INPUT", "DROP"},
			{"iptables", "-A", "INPUT", "-i", "lo", "-j", "ACCEPT"},
			{"iptables", "-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
			{"iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-m", "comment", "--comment", "ssh, by the admin", "-j", "ACCEPT"},
			{"iptables", "-A", "OUTPUT", "-d", "192.0.2.1", "-j", "DROP"},
			{"ip6tables", "-P", "INPUT", "DROP"},
			{"ip6tables", "-A", "INPUT", "-p", "ipv6-icmp", "-j", "ACCEPT"},
			{"ip6tables", "-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
		} {
			sh(t, "ip", append([]string{"netns", "exec", p.srv}, c...)...)
		}
		// go-iptables runs the program it is given; these run the real
		// iptables and ip6tables inside the server namespace.
		dir := t.TempDir()
		paths := map[string]string{}
		for _, tool := range []string{"iptables", "ip6tables"} {
			path := filepath.Join(dir, tool)
			script := fmt.Sprintf("#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n", p.srv, tool)
			if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			paths[tool] = path
		}
		b, err := firewall.NewIPTables(firewall.IPTablesOptions{Path4: paths["iptables"], Path6: paths["ip6tables"]})
		if err != nil {
			t.Fatal(err)
		}
		return p.env(t, b, func(t *testing.T) string { return iptablesDump(t, p.srv) })
	})
}

// TestConformanceUFWNetns runs the real ufw (no systemd needed) inside the
// server namespace. --rootdir/--datadir point ufw at a copy of its files in a
// temp dir, so the machine's /etc/ufw is never touched.
func TestConformanceUFWNetns(t *testing.T) {
	requireNetns(t)
	requireTool(t, "ufw")
	requireTool(t, "iptables")
	firewalltest.Run(t, func(t *testing.T) *firewalltest.Env {
		p := newNetnsPair(t)
		root := t.TempDir()
		for _, d := range []string{"etc/default", "lib", "usr/share", "usr/sbin"} {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range [][2]string{{"/etc/ufw", "etc"}, {"/etc/default/ufw", "etc/default"}, {"/lib/ufw", "lib"}, {"/usr/share/ufw", "usr/share"}} {
			sh(t, "cp", "-a", c[0], filepath.Join(root, c[1]))
		}
		ufwArgs := []string{"netns", "exec", p.srv, "ufw", "--rootdir=" + root, "--datadir=" + root}
		run := func(ctx context.Context, name string, args ...string) (string, int, error) {
			if name != "ufw" {
				return "", -1, fmt.Errorf("unexpected tool %s", name)
			}
			out, err := exec.CommandContext(ctx, "ip", append(ufwArgs, args...)...).CombinedOutput()
			if ee, ok := err.(*exec.ExitError); ok {
				return string(out), ee.ExitCode(), nil
			}
			return string(out), 0, err
		}
		for _, args := range [][]string{{"--force", "enable"}, {"allow", "22/tcp", "comment", "ssh, by the admin"}, {"reload"}} {
			if out, code, err := run(context.Background(), "ufw", args...); err != nil || code != 0 {
				t.Fatalf("ufw %v: %d %v\n%s", args, code, err, out)
			}
		}
		b := firewall.NewUFW(firewall.ToolOptions{Run: run})
		return p.env(t, b, func(t *testing.T) string {
			out, _, err := run(context.Background(), "ufw", "show", "added")
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, l := range strings.Split(out, "\n") {
				if !strings.HasPrefix(l, "WARN:") {
					lines = append(lines, l)
				}
			}
			return strings.Join(lines, "\n") + iptablesDump(t, p.srv)
		})
	})
}
