// Package firewall owns the one inbound rule for the remote-access port (8060
// by default): open, check and remove it on Windows Firewall, nftables,
// firewalld, ufw and iptables, tagged "shir remote access" so that it is found
// again and nothing else is touched. NOFIREWALL=1 skips it; SkipNotice says
// which port the admin must open by hand.
//
// # Design
//
// Manager holds the logic that is the same everywhere (validation, the
// "is another program on the port" check, idempotency, verification, update of
// the port, rollback). A Backend is the thin adapter to one firewall and only
// knows four things: list the ports of tagged rules, add the tagged rule for a
// port, remove it, and its name. Every backend builds its rules with pure
// functions (nftRuleExprs, iptablesSpec, firewalldAddCmds, ufwAllowCmd,
// windowsRule) that are tested on Linux, and does its I/O through a small
// interface (a command runner, a COM rule list, a netlink connection) that the
// tests replace with a recorder. firewalltest.Run is the conformance suite every
// backend passes: on every `go test` against a fake and against simulators of
// firewall-cmd and ufw; as root against real nftables, real iptables/ip6tables
// and real ufw (its --rootdir pointed at a temp copy, no systemd needed) inside
// network namespaces made by the test, checked with real TCP connects over
// IPv4 and IPv6. firewalld is tested only with its simulator: it needs a
// D-Bus system bus and a running daemon, which was not attempted here.
//
// Windows: rule building and the backend logic run on Linux with a fake
// INetFwRules. Under Wine 8, HNetCfg.FwPolicy2 is created and its Rules
// collection handed out, but the collection and HNetCfg.FWRule fail every
// IDispatch call (TYPE_E_ELEMENTNOTFOUND); the Wine test checks that the COM
// path gets that far and fails with a clear error. A full cycle against the
// real Windows Firewall runs with SHIR_WINDOWS_FIREWALL_TEST=1 on Windows.
//
// # Backends and how the tag is kept
//
//   - windows: COM HNetCfg.FwPolicy2 through go-ole. A rule named
//     "shir remote access (TCP 8060)" with Grouping "shir remote access". COM
//     was chosen over netsh because netsh cannot put a rule into a group
//     ("Adding rules to a custom rule group isn't possible in Netsh"), does not
//     dedupe on add, and reports "no such rule" only by a localized text; COM
//     gives the group tag, Remove-by-name that is a no-op when absent, and no
//     process or text parsing. PowerShell's New-NetFirewallRule would also do,
//     at a second per call.
//   - nftables (github.com/google/nftables): a packet passes every base chain on
//     the input hook and a drop in any of them is final, so a table of our own
//     cannot open a port another table drops. The rule
//     `meta l4proto tcp tcp dport 8060 accept comment "shir remote access"` is
//     therefore inserted at the top of every filter base chain on the input
//     hook of the inet, ip and ip6 families (normally the one `inet filter
//     input` chain of /etc/nftables.conf), except the tables that iptables-nft
//     and firewalld own. Removal deletes rules by their comment only.
//   - iptables / ip6tables (github.com/coreos/go-iptables): `-p tcp -m tcp
//     --dport 8060 -m comment --comment "shir remote access" -j ACCEPT` inserted
//     first in filter INPUT of both families; ip6tables is skipped with a log
//     line when missing. Works with iptables-legacy and iptables-nft.
//   - firewalld (firewall-cmd): a permanent service "shir-remote-access" holding
//     the port, added to the default zone, plus the port in the runtime
//     configuration (a new service only reaches the runtime by a reload, and a
//     reload would drop other tools' runtime changes, so shir never reloads).
//   - ufw: `ufw allow 8060/tcp comment 'shir remote access'`; ufw adds v4 and v6.
//   - none: no active firewall filters inbound traffic (Linux only): nothing is
//     opened, and Open says so; nothing is removed on Close.
//
// Detection on Linux (Detect): firewalld running, else ufw active, else an
// nftables input chain of our own kind, else iptables INPUT filtering, else
// none. Options.Backend overrides it. Windows always uses windows.
//
// # What counts as bad input
//
// A port outside 1-65535 wraps exitcode.ErrUsage; missing privileges wrap
// ErrPermission (which wraps exitcode.ErrPrereq); a port held by a program that
// is not shir makes Open fail with ErrPortInUse (also ErrPrereq) and Status
// report the program. When the program on a port cannot be named (Windows),
// Open logs a warning and goes on.
package firewall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/shirhq/shir/internal/exitcode"
)

// Tag is the name, comment or group that marks the rule shir owns.
const Tag = "shir remote access"

// DefaultPort is the remote-access port of a node.
const DefaultPort = 8060

// Backend names, as accepted by Options.Backend and shown by Status.
const (
	Windows   = "windows"
	NFTables  = "nftables"
	Firewalld = "firewalld"
	UFW       = "ufw"
	IPTables  = "iptables"
	None      = "none"
)

// Backends lists the names Options.Backend accepts besides "auto".
var Backends = []string{Windows, NFTables, Firewalld, UFW, IPTables, None}

var (
	// ErrPermission says the firewall could not be changed for lack of rights.
	ErrPermission = fmt.Errorf("%w: changing the firewall needs root or CAP_NET_ADMIN (Linux) or an elevated administrator (Windows)", exitcode.ErrPrereq)
	// ErrPortInUse says another program than shir listens on the port.
	ErrPortInUse = fmt.Errorf("%w: port in use by another program", exitcode.ErrPrereq)
)

// Backend is one firewall. Implementations keep only rules carrying Tag in
// view: Ports lists them, Add and Remove are idempotent and never touch a
// rule without the tag. changed reports whether anything was modified.
type Backend interface {
	Name() string
	Ports(ctx context.Context) ([]int, error)
	Add(ctx context.Context, port int) (changed bool, err error)
	Remove(ctx context.Context, port int) (changed bool, err error)
}

// Listener is what is known about the program listening on a port.
type Listener struct {
	Listening bool
	Program   string // process name; "" when it cannot be found
	PID       int
}

// PortProbe finds the program listening on a TCP port.
type PortProbe func(port int) (Listener, error)

// Options configure a Manager.
type Options struct {
	// Backend is "", "auto" or one of Backends.
	Backend string
	// Logger gets diagnostics; nil discards them.
	Logger *slog.Logger
	// Probe finds the listener on the port; nil uses the OS (ProbePort).
	Probe PortProbe
	// Programs are the process names allowed to listen on the port during
	// Open; default "shir" and "shir.exe".
	Programs []string
}

// Manager opens, checks and closes the tagged rule on one Backend.
type Manager struct {
	b        Backend
	log      *slog.Logger
	probe    PortProbe
	programs []string
}

// NewManager returns a Manager for b.
func NewManager(b Backend, opts Options) *Manager {
	m := &Manager{b: b, log: opts.Logger, probe: opts.Probe, programs: opts.Programs}
	if m.log == nil {
		m.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if m.probe == nil {
		m.probe = ProbePort
	}
	if len(m.programs) == 0 {
		m.programs = []string{"shir", "shir.exe"}
	}
	return m
}

// New detects the active firewall of this machine (or takes opts.Backend) and
// returns a Manager for it. This is the constructor the installer uses.
func New(ctx context.Context, opts Options) (*Manager, error) {
	name := strings.ToLower(strings.TrimSpace(opts.Backend))
	if name != "" && name != "auto" && !slices.Contains(Backends, name) {
		return nil, fmt.Errorf("%w: backend %q: must be auto or one of %s", exitcode.ErrUsage, opts.Backend, strings.Join(Backends, ", "))
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	b, err := newBackend(ctx, name, log)
	if err != nil {
		return nil, err
	}
	opts.Logger = log
	return NewManager(b, opts), nil
}

// Backend returns the name of the backend in use.
func (m *Manager) Backend() string { return m.b.Name() }

// Result says what Open or Close did.
type Result struct {
	Backend string `json:"backend"`
	Port    int    `json:"port,omitempty"`
	Changed bool   `json:"changed"`
	Removed []int  `json:"removed,omitempty"` // ports whose tagged rule was removed
	Note    string `json:"note,omitempty"`
}

// Status is the state of the rule and the port.
type Status struct {
	Backend     string `json:"backend"`
	Port        int    `json:"port"`
	RulePresent bool   `json:"rulePresent"`
	TaggedPorts []int  `json:"taggedPorts"` // every port with a rule tagged Tag
	Listening   bool   `json:"listening"`
	Program     string `json:"program,omitempty"` // who listens, when known
	PID         int    `json:"pid,omitempty"`
	OtherOwner  bool   `json:"otherProgram"` // the listener is known and is not shir
	Note        string `json:"note,omitempty"`
}

// ValidatePort checks a remote-access port.
func ValidatePort(port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("%w: port %d: must be between 1 and 65535", exitcode.ErrUsage, port)
	}
	return nil
}

// SkipNotice is what the installer logs and puts in its summary for
// NOFIREWALL=1: nothing was changed, and which port the admin must open.
func SkipNotice(port int) string {
	return fmt.Sprintf("firewall: skipped (NOFIREWALL=1); nothing was changed. "+
		"For remote access between nodes, allow inbound TCP port %d in this machine's firewall by hand", port)
}

const noneNote = "no active firewall filters inbound traffic here; nothing to open"

// Open makes sure the tagged rule allows inbound TCP on port, and removes
// tagged rules of other ports (the port was changed). It rolls back what it
// added when a later step fails.
func (m *Manager) Open(ctx context.Context, port int) (Result, error) {
	res := Result{Backend: m.b.Name(), Port: port}
	if err := ValidatePort(port); err != nil {
		return res, err
	}
	if l, err := m.probe(port); err != nil {
		m.log.Warn("cannot tell which program listens on the port", "port", port, "err", err)
	} else if l.Listening {
		switch {
		case l.Program == "":
			m.log.Warn("a program listens on the port, and it cannot be named", "port", port)
		case !m.isShir(l.Program):
			return res, fmt.Errorf("open port %d: %w: %s (pid %d) listens on it; stop it or choose another port", port, ErrPortInUse, l.Program, l.PID)
		}
	}
	if m.b.Name() == None {
		res.Note = noneNote
		return res, nil
	}
	before, err := m.b.Ports(ctx)
	if err != nil {
		return res, m.wrap("list rules", err)
	}
	changed, err := m.b.Add(ctx, port)
	if changed || (err != nil && !slices.Contains(before, port)) {
		res.Changed = true
	}
	if err != nil {
		return res, m.rollback(ctx, port, before, m.wrap(fmt.Sprintf("add rule for port %d", port), err))
	}
	after, err := m.b.Ports(ctx)
	if err == nil && !slices.Contains(after, port) {
		err = fmt.Errorf("rule for port %d is missing after it was added", port)
	}
	if err != nil {
		return res, m.rollback(ctx, port, before, m.wrap("verify", err))
	}
	for _, p := range after {
		if p == port {
			continue
		}
		if _, err := m.b.Remove(ctx, p); err != nil {
			return res, m.rollback(ctx, port, before, m.wrap(fmt.Sprintf("remove the old rule for port %d", p), err))
		}
		res.Removed = append(res.Removed, p)
		res.Changed = true
	}
	if res.Changed {
		m.log.Info("firewall rule added", "backend", m.b.Name(), "port", port, "tag", Tag)
	}
	return res, nil
}

// rollback removes the rule for port if it was not there before Open.
func (m *Manager) rollback(ctx context.Context, port int, before []int, err error) error {
	if slices.Contains(before, port) {
		return err
	}
	if _, uerr := m.b.Remove(ctx, port); uerr != nil {
		return errors.Join(err, fmt.Errorf("roll back rule for port %d: %w", port, uerr))
	}
	m.log.Info("rolled back firewall rule", "port", port)
	return err
}

// Close removes the tagged rule of port, or of every port when port is 0.
// Rules without the tag are never touched. Closing what is not open is fine.
func (m *Manager) Close(ctx context.Context, port int) (Result, error) {
	res := Result{Backend: m.b.Name(), Port: port}
	if port != 0 {
		if err := ValidatePort(port); err != nil {
			return res, err
		}
	}
	if m.b.Name() == None {
		res.Note = "no active firewall; nothing to remove"
		return res, nil
	}
	ports, err := m.b.Ports(ctx)
	if err != nil {
		return res, m.wrap("list rules", err)
	}
	targets := ports
	if port != 0 {
		targets = []int{port} // Remove is idempotent; covers a rule Ports cannot parse
	}
	for _, p := range targets {
		changed, err := m.b.Remove(ctx, p)
		if err != nil {
			return res, m.wrap(fmt.Sprintf("remove rule for port %d", p), err)
		}
		if changed {
			res.Changed = true
			res.Removed = append(res.Removed, p)
		}
	}
	after, err := m.b.Ports(ctx)
	if err != nil {
		return res, m.wrap("verify", err)
	}
	for _, p := range targets {
		if slices.Contains(after, p) {
			return res, m.wrap("verify", fmt.Errorf("rule for port %d is still there after it was removed", p))
		}
	}
	if res.Changed {
		m.log.Info("firewall rule removed", "backend", m.b.Name(), "ports", res.Removed)
	}
	return res, nil
}

// Status reports whether the tagged rule for port exists and who listens on
// the port.
func (m *Manager) Status(ctx context.Context, port int) (Status, error) {
	st := Status{Backend: m.b.Name(), Port: port, TaggedPorts: []int{}}
	if err := ValidatePort(port); err != nil {
		return st, err
	}
	if l, err := m.probe(port); err != nil {
		st.Note = fmt.Sprintf("cannot tell whether the port is in use: %v", err)
	} else {
		st.Listening, st.Program, st.PID = l.Listening, l.Program, l.PID
		st.OtherOwner = l.Listening && l.Program != "" && !m.isShir(l.Program)
	}
	if m.b.Name() == None {
		st.Note = strings.TrimPrefix(st.Note+"; "+noneNote, "; ")
		return st, nil
	}
	ports, err := m.b.Ports(ctx)
	if err != nil {
		return st, m.wrap("list rules", err)
	}
	slices.Sort(ports)
	st.TaggedPorts = append(st.TaggedPorts, ports...)
	st.RulePresent = slices.Contains(ports, port)
	return st, nil
}

func (m *Manager) isShir(program string) bool {
	for _, p := range m.programs {
		if strings.EqualFold(program, p) {
			return true
		}
	}
	return false
}

// wrap adds the backend and classifies permission errors.
func (m *Manager) wrap(what string, err error) error {
	if isPermission(err) && !errors.Is(err, ErrPermission) {
		return fmt.Errorf("firewall %s: %s: %w: %w", m.b.Name(), what, ErrPermission, err)
	}
	return fmt.Errorf("firewall %s: %s: %w", m.b.Name(), what, err)
}

// permissionTexts are what firewall tools print when run without rights.
var permissionTexts = []string{
	"permission denied", "operation not permitted", "you must be root",
	"need to be root", "authorization failed", "access is denied", "not_authorized",
}

func isPermission(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrPermission) || errors.Is(err, fs.ErrPermission) {
		return true
	}
	s := strings.ToLower(err.Error())
	for _, t := range permissionTexts {
		if strings.Contains(s, t) {
			return true
		}
	}
	return false
}

// portProto renders "8060/tcp".
func portProto(port int) string { return strconv.Itoa(port) + "/tcp" }

// parsePortProto parses "8060/tcp" (other protocols and ranges are not ours).
func parsePortProto(s string) (int, bool) {
	p, ok := strings.CutSuffix(strings.TrimSpace(s), "/tcp")
	if !ok {
		return 0, false
	}
	return parsePort(p)
}

func parsePort(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || s != strconv.Itoa(n) {
		return 0, false
	}
	return n, true
}
