package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/provision"
)

// Config is a parsed and validated fleet.yaml. The package doc describes the
// file.
type Config struct {
	ControlPlane ControlPlaneSpec `yaml:"control_plane"`
	Runtime      string           `yaml:"runtime"`
	AuthKey      AuthKeySource    `yaml:"auth_key"`
	KnownHosts   string           `yaml:"known_hosts"`
	Binaries     Binaries         `yaml:"binaries"`
	Defaults     HostSpec         `yaml:"defaults"`
	Waves        WaveSpec         `yaml:"waves"`
	Hosts        []HostSpec       `yaml:"hosts"`
	Dir          string           `yaml:"-"` // directory of the file; relative paths are resolved against it
	hostsByName  map[string]int
	resolved     []Host
}

// ControlPlaneSpec says where the control plane is and how an admin reaches it.
type ControlPlaneSpec struct {
	URL            string `yaml:"url"`
	CASHA256       string `yaml:"ca_sha256"`        // hex SHA-256 of the server certificate (pin); empty: system roots
	AdminTokenFile string `yaml:"admin_token_file"` // file with the admin token (never the token itself)
}

// AuthKeySource says where the runtime's authentication key comes from. It is
// never written in the file in clear: exactly one of File, Env and
// ControlPlane is set.
type AuthKeySource struct {
	File         string `yaml:"file"`          // a file holding the key (0600 recommended)
	Env          string `yaml:"env"`           // an environment variable holding the key
	ControlPlane string `yaml:"control_plane"` // key1 or key2: fetched with the admin token
}

// Binaries says which shir binary goes to which OS/arch.
type Binaries struct {
	// Dir holds shir_<os>_<arch>/shir[.exe], the layout of `make build`'s
	// dist directory.
	Dir string `yaml:"dir"`
	// Files maps "<os>/<arch>" to a binary; it wins over Dir.
	Files map[string]string `yaml:"files"`
}

// HostSpec is one host as written in the file (or the defaults). Empty
// fields take the defaults.
type HostSpec struct {
	Name         string            `yaml:"name"`          // label in output and --only; default the address
	Address      string            `yaml:"address"`       // DNS name or IP
	Port         int               `yaml:"port"`          // SSH port, default 22
	User         string            `yaml:"user"`          // SSH user
	IdentityFile string            `yaml:"identity_file"` // private key file (unencrypted; use the agent for encrypted keys)
	Agent        *bool             `yaml:"agent"`         // use the SSH agent (SSH_AUTH_SOCK)
	NodeName     string            `yaml:"node_name"`     // NODENAME; default the host's name
	OS           string            `yaml:"os"`            // linux (default) or windows
	Sudo         *bool             `yaml:"sudo"`          // run the installer with sudo -n (Linux)
	Root         string            `yaml:"root"`          // install with --root DIR --no-service (sandbox hosts)
	Properties   map[string]string `yaml:"properties"`    // installer properties, merged over the defaults'
}

// WaveSpec shapes the rollout.
type WaveSpec struct {
	Canary        Count    `yaml:"canary"`         // hosts in the first wave: a count or "N%"; default 1
	Size          Count    `yaml:"size"`           // hosts per later wave: a count or "N%"; default all the rest
	MaxParallel   int      `yaml:"max_parallel"`   // hosts at a time inside a wave; default 5
	Pause         Duration `yaml:"pause"`          // between waves; default 0
	MaxFailures   int      `yaml:"max_failures"`   // stop the rollout after this many failed hosts; default 1
	OnlineTimeout Duration `yaml:"online_timeout"` // wait for the node to be Online; default 2m
}

// Host is a host with the defaults applied and properties validated.
type Host struct {
	Name         string
	Address      string
	Port         int
	User         string
	IdentityFile string
	Agent        bool
	NodeName     string
	OS           string
	Sudo         bool
	Root         string
	Properties   provision.PropertySet // never AUTHKEY or NODENAME, never a secret
}

// Addr is host:port for dialing.
func (h Host) Addr() string { return net.JoinHostPort(h.Address, strconv.Itoa(h.Port)) }

// Count is a number of hosts or a percentage of them ("25%").
type Count struct {
	N       int
	Percent bool
	set     bool
}

// Of returns the count for total hosts: a percentage rounds up (so a
// non-zero percentage is at least one host).
func (c Count) Of(total int) int {
	n := c.N
	if c.Percent {
		n = int(math.Ceil(float64(total) * float64(c.N) / 100))
		if n < 1 && total > 0 && c.N > 0 {
			n = 1
		}
	}
	return min(n, total)
}

func (c Count) String() string {
	if c.Percent {
		return strconv.Itoa(c.N) + "%"
	}
	return strconv.Itoa(c.N)
}

// UnmarshalYAML reads 3 or "25%".
func (c *Count) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("must be a count or a percentage like \"25%\"")
	}
	s := strings.TrimSpace(n.Value)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil || v < 0 || (pct && v > 100) || v > 100000 {
		return fmt.Errorf("%q is not a count or a percentage (0-100%%)", n.Value)
	}
	*c = Count{N: v, Percent: pct, set: true}
	return nil
}

// Duration is a time.Duration written as "30s", "2m".
type Duration struct{ time.Duration }

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("must be a duration like \"30s\" or \"2m\"")
	}
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration like \"30s\" or \"2m\"", n.Value)
	}
	d.Duration = v
	return nil
}

// Defaults of WaveSpec.
const (
	DefaultMaxParallel   = 5
	DefaultMaxFailures   = 1
	DefaultOnlineTimeout = 2 * time.Minute
	maxFileSize          = 4 << 20
)

// Load reads and validates a fleet file.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: fleet file: %w", exitcode.ErrUsage, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	c.Dir = abs
	return c, nil
}

// Parse decodes and validates fleet.yaml. Unknown fields are errors; every
// error wraps exitcode.ErrUsage and names the host and the field.
func Parse(b []byte) (*Config, error) {
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%w: the file is larger than %d bytes", exitcode.ErrUsage, maxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: the fleet file is empty", exitcode.ErrUsage)
		}
		return nil, fmt.Errorf("%w: %s", exitcode.ErrUsage, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: the fleet file must hold one YAML document", exitcode.ErrUsage)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", exitcode.ErrUsage, err)
	}
	return &c, nil
}

var hexRE = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

func (c *Config) validate() error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, a...)))
	}
	if c.ControlPlane.URL == "" {
		bad("control_plane.url", "is required (https://host:port of the control plane)")
	} else if u, err := url.Parse(c.ControlPlane.URL); err != nil || u.Scheme != "https" || u.Host == "" {
		bad("control_plane.url", "%q is not an https://host:port URL", c.ControlPlane.URL)
	}
	if s := strings.TrimPrefix(c.ControlPlane.CASHA256, "sha256:"); s != "" && !hexRE.MatchString(s) {
		bad("control_plane.ca_sha256", "must be 64 hex digits (the SHA-256 of the server certificate)")
	}
	if c.ControlPlane.AdminTokenFile == "" {
		bad("control_plane.admin_token_file", "is required (plan and apply read the runtime's nodes as an admin)")
	}
	if c.Runtime == "" {
		bad("runtime", "is required (the runtime's name or id)")
	}
	k := c.AuthKey
	switch n := btoi(k.File != "") + btoi(k.Env != "") + btoi(k.ControlPlane != ""); {
	case n == 0:
		bad("auth_key", "set one of file, env or control_plane (the key itself never goes in this file)")
	case n > 1:
		bad("auth_key", "set only one of file, env and control_plane")
	}
	if k.ControlPlane != "" && k.ControlPlane != "key1" && k.ControlPlane != "key2" {
		bad("auth_key.control_plane", "%q must be key1 or key2", k.ControlPlane)
	}
	if k.Env != "" && !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(k.Env) {
		bad("auth_key.env", "%q is not an environment variable name", k.Env)
	}
	for p := range c.Binaries.Files {
		if !slices.Contains(Platforms, p) {
			bad("binaries.files", "%q is not one of %s", p, strings.Join(Platforms, ", "))
		}
	}
	w := &c.Waves
	if w.MaxParallel < 0 || w.MaxParallel > 1000 {
		bad("waves.max_parallel", "%d must be 1-1000", w.MaxParallel)
	}
	if w.MaxFailures < 0 {
		bad("waves.max_failures", "%d must not be negative", w.MaxFailures)
	}
	if w.Size.set && w.Size.N == 0 {
		bad("waves.size", "must be at least 1")
	}
	if c.Defaults.Name != "" || c.Defaults.Address != "" || c.Defaults.NodeName != "" {
		bad("defaults", "name, address and node_name are per host")
	}
	if len(c.Hosts) == 0 {
		bad("hosts", "the list is empty")
	}
	c.hostsByName = map[string]int{}
	c.resolved = nil
	nodes := map[string]string{}
	for i, hs := range c.Hosts {
		h, herrs := resolveHost(c.Defaults, hs)
		label := fmt.Sprintf("hosts[%d]", i)
		if h.Name != "" {
			label += " (" + h.Name + ")"
		}
		for _, e := range herrs {
			errs = append(errs, fmt.Errorf("%s: %w", label, e))
		}
		if h.Name == "" {
			continue
		}
		if _, dup := c.hostsByName[h.Name]; dup {
			bad(label+": name", "%q is used by another host", h.Name)
		}
		if other, dup := nodes[strings.ToLower(h.NodeName)]; dup && h.NodeName != "" {
			bad(label+": node_name", "%q is also the node name of host %s", h.NodeName, other)
		}
		nodes[strings.ToLower(h.NodeName)] = h.Name
		c.hostsByName[h.Name] = len(c.resolved)
		c.resolved = append(c.resolved, h)
	}
	if w.MaxParallel == 0 {
		w.MaxParallel = DefaultMaxParallel
	}
	if w.OnlineTimeout.Duration == 0 {
		w.OnlineTimeout.Duration = DefaultOnlineTimeout
	}
	if !w.Canary.set {
		w.Canary = Count{N: 1, set: true}
	}
	return errors.Join(errs...)
}

// Platforms are the OS/arch pairs shir is built for.
var Platforms = []string{"linux/amd64", "linux/arm64", "windows/amd64", "windows/arm64"}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// resolveHost applies the defaults and validates one host.
func resolveHost(d, s HostSpec) (Host, []error) {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, a...)))
	}
	h := Host{
		Name: s.Name, Address: s.Address, Port: or(s.Port, d.Port, 22), User: or(s.User, d.User, ""),
		IdentityFile: or(s.IdentityFile, d.IdentityFile, ""), NodeName: s.NodeName,
		OS: or(s.OS, d.OS, "linux"), Root: or(s.Root, d.Root, ""), Properties: provision.PropertySet{},
	}
	h.Agent = orBool(s.Agent, d.Agent, h.IdentityFile == "")
	h.Sudo = orBool(s.Sudo, d.Sudo, false)
	if h.Address == "" {
		bad("address", "is required")
	} else if strings.ContainsAny(h.Address, " \t\n/@") {
		bad("address", "%q is not a host name or IP address", h.Address)
	}
	if h.Name == "" {
		h.Name = h.Address
	}
	if h.Name != "" && !nameRE.MatchString(h.Name) && net.ParseIP(h.Name) == nil {
		bad("name", "%q: use letters, digits, '.', '_' and '-' (up to 63)", h.Name)
	}
	if h.Port < 1 || h.Port > 65535 {
		bad("port", "%d is not a TCP port (1-65535)", h.Port)
	}
	if h.User == "" {
		bad("user", "is required (here or in defaults)")
	}
	if h.IdentityFile == "" && !h.Agent {
		bad("identity_file", "is required when agent is false")
	}
	if h.OS != "linux" && h.OS != "windows" {
		bad("os", "%q must be linux or windows", h.OS)
	}
	if h.Sudo && h.OS == "windows" {
		bad("sudo", "is for Linux hosts (connect as an administrator on Windows)")
	}
	if h.Root != "" && !(strings.HasPrefix(h.Root, "/") || (len(h.Root) > 2 && h.Root[1] == ':')) {
		bad("root", "%q must be an absolute path", h.Root)
	}
	if h.NodeName == "" {
		h.NodeName = h.Name
		if net.ParseIP(h.NodeName) != nil {
			h.NodeName = strings.NewReplacer(".", "-", ":", "-").Replace(h.NodeName)
		}
	}
	if err := (provision.PropertySet{}).Set("NODENAME", h.NodeName); err != nil {
		bad("node_name", "%v", trimUsage(err))
	}
	props := map[string]string{}
	for k, v := range d.Properties {
		props[strings.ToUpper(k)] = v
	}
	for k, v := range s.Properties {
		props[strings.ToUpper(k)] = v
	}
	for _, k := range sortedKeys(props) {
		v := props[k]
		p, ok := provision.LookupProperty(k)
		switch {
		case !ok:
			bad("properties."+k, "unknown installer property (known: %s)", strings.Join(provision.PropertyNames(), ", "))
		case k == "AUTHKEY":
			bad("properties.AUTHKEY", "the key never goes in fleet.yaml: use auth_key (file, env or control_plane)")
		case k == "NODENAME":
			bad("properties.NODENAME", "use the host's node_name field")
		case p.Secret:
			bad("properties."+k, "is a secret: it must not be written in fleet.yaml")
		default:
			if err := h.Properties.Set(k, v); err != nil {
				bad("properties."+k, "%v", trimUsage(err))
			}
		}
	}
	return h, errs
}

func trimUsage(err error) string {
	return strings.TrimPrefix(err.Error(), exitcode.ErrUsage.Error()+": ")
}

func or[T comparable](vs ...T) T {
	var zero T
	for _, v := range vs {
		if v != zero {
			return v
		}
	}
	return zero
}

func orBool(a, b *bool, def bool) bool {
	if a != nil {
		return *a
	}
	if b != nil {
		return *b
	}
	return def
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// HostList returns the hosts in file order, restricted to only (names) when
// it is not empty; an unknown name is a usage error.
func (c *Config) HostList(only []string) ([]Host, error) {
	if len(only) == 0 {
		return slices.Clone(c.resolved), nil
	}
	want := map[string]bool{}
	for _, n := range only {
		n = strings.TrimSpace(n)
		if _, ok := c.hostsByName[n]; !ok {
			return nil, fmt.Errorf("%w: --only: no host named %q in the fleet file", exitcode.ErrUsage, n)
		}
		want[n] = true
	}
	var out []Host
	for _, h := range c.resolved {
		if want[h.Name] {
			out = append(out, h)
		}
	}
	return out, nil
}

// Host returns the host named name.
func (c *Config) Host(name string) (Host, bool) {
	i, ok := c.hostsByName[name]
	if !ok {
		return Host{}, false
	}
	return c.resolved[i], true
}

// Path resolves p against the fleet file's directory; ~/ is the home dir.
func (c *Config) Path(p string) string {
	if p == "" {
		return ""
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if filepath.IsAbs(p) || c.Dir == "" {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// CAPin returns the certificate pin bytes (nil when none).
func (c *Config) CAPin() []byte {
	s := strings.TrimPrefix(c.ControlPlane.CASHA256, "sha256:")
	if s == "" {
		return nil
	}
	b := make([]byte, 32)
	for i := range b {
		v, _ := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		b[i] = byte(v)
	}
	return b
}
