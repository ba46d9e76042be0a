package cli

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shirhq/shir/internal/netnstest"
)

// fleetNet is where the fleet test's hosts live. As root it is a set of
// network namespaces made by the test: a "hub" namespace with a bridge
// (10.233.0.1/24), and one namespace per host joined to the bridge by a veth
// pair, its end addressed 10.233.0.N/24. Nothing is addressed, and no link is
// made, in the root namespace: the test's addresses are reachable only from
// inside the namespaces. The control plane listens in the hub, `shir fleet`
// runs there (ip netns exec), every host's sshd and the agent its install
// starts run in the host's namespace.
//
// Without root (or without ip) the hosts are sshd instances on 127.0.0.1
// ports, as before: the same scenarios, no namespaces.
type fleetNet struct {
	t      testing.TB
	hub    string // hub namespace; "" on loopback
	prefix string // "<pid>-<seq>": namespace names are shirfl-<prefix>-<name>
	mu     sync.Mutex
	hosts  int // hosts made so far (addresses 10.233.0.2...)
}

const (
	fleetNetHubIP = "10.233.0.1"
	fleetNetMask  = "/24"
)

var fleetNetSeq atomic.Int32

// netnsUnavailable says why the namespace hosts cannot be made, or "".
// SHIR_TEST_FLEET_LOOPBACK=1 asks for the loopback hosts (to try that path
// as root).
func netnsUnavailable() string {
	if os.Getenv("SHIR_TEST_FLEET_LOOPBACK") != "" {
		return "SHIR_TEST_FLEET_LOOPBACK is set"
	}
	if os.Geteuid() != 0 {
		return "not root"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "ip (iproute2) is not installed"
	}
	return ""
}

// newFleetNet makes the hub namespace (or, when namespaces are not possible,
// a loopback fleetNet and a log line saying what was not run). Everything is
// deleted in t.Cleanup, also when the test fails.
func newFleetNet(t testing.TB) *fleetNet {
	t.Helper()
	n := &fleetNet{t: t, prefix: fmt.Sprintf("%d-%d", os.Getpid(), fleetNetSeq.Add(1))}
	if why := netnsUnavailable(); why != "" {
		t.Logf("%s: the fleet hosts are sshd instances on 127.0.0.1 ports; the network-namespace hosts were NOT made (CI runs as root)", why)
		return n
	}
	n.hub = n.nsName("hub")
	n.ip("netns", "add", n.hub)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.hub).Run() })
	n.ip("-n", n.hub, "link", "set", "lo", "up")
	n.ip("-n", n.hub, "link", "add", "br0", "type", "bridge")
	n.ip("-n", n.hub, "addr", "add", fleetNetHubIP+fleetNetMask, "dev", "br0")
	n.ip("-n", n.hub, "link", "set", "br0", "up")
	return n
}

func (n *fleetNet) netns() bool { return n.hub != "" }

func (n *fleetNet) nsName(name string) string { return "shirfl-" + n.prefix + "-" + name }

func (n *fleetNet) ip(args ...string) {
	n.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		n.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// addHost makes the namespace of host name, joined to the hub's bridge, and
// returns the namespace and the host's address.
func (n *fleetNet) addHost(name string) (ns, addr string) {
	n.t.Helper()
	n.mu.Lock()
	n.hosts++
	i := n.hosts
	n.mu.Unlock()
	if i > 250 {
		n.t.Fatal("more than 250 fleet test hosts")
	}
	ns, addr = n.nsName(name), fmt.Sprintf("10.233.0.%d", i+1)
	n.ip("netns", "add", ns)
	n.t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	port := fmt.Sprintf("p%d", i) // the hub's end, on the bridge
	n.ip("-n", n.hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
	n.ip("-n", n.hub, "link", "set", port, "master", "br0", "up")
	n.ip("-n", ns, "addr", "add", addr+fleetNetMask, "dev", "eth0")
	n.ip("-n", ns, "link", "set", "eth0", "up")
	n.ip("-n", ns, "link", "set", "lo", "up")
	return ns, addr
}

// command runs argv in namespace ns (ip netns exec, which execs argv: the
// process's PID is argv's), or directly when ns is "".
func command(ns string, argv ...string) *exec.Cmd {
	if ns == "" {
		return exec.Command(argv[0], argv[1:]...)
	}
	return exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
}

// inNetns runs f in namespace ns (see netnstest.Do).
func inNetns(t testing.TB, ns string, f func()) { netnstest.Do(t, ns, f) }

// listenIn opens a TCP listener in namespace ns.
func listenIn(t testing.TB, ns, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	var err error
	inNetns(t, ns, func() { ln, err = net.Listen("tcp", addr) })
	if err != nil {
		t.Fatalf("listen on %s in %q: %v", addr, ns, err)
	}
	return ln
}

// dialIn connects to addr from namespace ns.
func dialIn(t testing.TB, ns, addr string) (net.Conn, error) {
	var c net.Conn
	var err error
	inNetns(t, ns, func() { c, err = net.Dial("tcp", addr) })
	return c, err
}

// multiListener accepts from several listeners: the control plane listens in
// the hub (for the fleet and the agents) and on 127.0.0.1 in the test's own
// namespace (for the test's admin client). Addr is the first one's.
type multiListener struct {
	lns   []net.Listener
	conns chan net.Conn
	errs  chan error
	done  chan struct{}
	once  sync.Once
}

func newMultiListener(lns ...net.Listener) *multiListener {
	m := &multiListener{lns: lns, conns: make(chan net.Conn), errs: make(chan error, len(lns)), done: make(chan struct{})}
	for _, ln := range lns {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					m.errs <- err
					return
				}
				select {
				case m.conns <- c:
				case <-m.done:
					c.Close()
					return
				}
			}
		}()
	}
	return m
}

func (m *multiListener) Accept() (net.Conn, error) {
	select {
	case c := <-m.conns:
		return c, nil
	case err := <-m.errs:
		return nil, err
	case <-m.done:
		return nil, net.ErrClosed
	}
}

func (m *multiListener) Close() error {
	m.once.Do(func() {
		close(m.done)
		for _, ln := range m.lns {
			ln.Close()
		}
	})
	return nil
}

func (m *multiListener) Addr() net.Addr { return m.lns[0].Addr() }
