// Package nodeconfig reads and validates a node's shir.toml, the file the
// installer writes and `shir agent run` reads:
//
//	# shir.toml
//	server = "https://cp.example:8443"  # optional: overrides the endpoint stored at registration
//	node_name = "node1"                  # optional: default the host name
//	state_dir = "/var/lib/shir"          # optional: default per platform (see DefaultPaths)
//	concurrency = 0                      # 0: default from cores and memory; the control plane may change it
//	log_level = "info"                   # debug, info, warn, error
//	shutdown_timeout = "30s"             # how long running jobs get to finish on shutdown
//	remote_access_host = "node1.corp"    # optional: host peers reach this node's remote-access port at
//	                                     # (default: the local address of the connection to the control plane)
//
//	[exec]
//	allow = ["/usr/bin/systemctl"]       # absolute paths; empty (default): exec jobs are refused
//
//	[proxy]
//	mode = "none"                        # none, system, custom
//	url = "http://proxy:3128"            # custom only
//	user = "bob"                         # custom only; the password is sealed in the state dir
//
// Unknown keys are an error, never ignored. Every error names the field.
package nodeconfig

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/internal/netproxy"
)

// Config is a node's configuration.
type Config struct {
	// RemoteAccessHost is the host (name or IP, no port) advertised to the
	// runtime's other nodes for remote access; see RemoteAccess.
	RemoteAccessHost string `toml:"remote_access_host,omitempty"`

	Server          string   `toml:"server"`
	NodeName        string   `toml:"node_name"`
	StateDir        string   `toml:"state_dir"`
	Concurrency     int      `toml:"concurrency"`
	LogLevel        string   `toml:"log_level"`
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
	Exec            Exec     `toml:"exec"`
	Proxy           Proxy    `toml:"proxy"`
	Update          Update   `toml:"update,omitempty"`
}

// Update is the [update] table: what the upgrade service (shir updater run)
// checks. Its flags override these. With no source the service idles.
type Update struct {
	// Source is github://owner/repo, an https:// feed or a local directory.
	Source     string `toml:"source,omitempty"`
	Channel    string `toml:"channel,omitempty"`    // stable (default) or beta
	Constraint string `toml:"constraint,omitempty"` // go-version constraint, e.g. "~> 1.4"
	// Window is the maintenance window in local time, e.g. "Sun 02:00-04:00";
	// the updater validates its form.
	Window string `toml:"window,omitempty"`
	// Interval is the time between checks (default 1h, at least 1m).
	Interval  Duration `toml:"interval,omitempty"`
	GitHubAPI string   `toml:"github_api,omitempty"` // GitHub Enterprise API base URL
}

// Update channels.
var updateChannels = []string{"stable", "beta"}

// Exec is the allow-list of commands exec jobs may run.
type Exec struct {
	Allow []string `toml:"allow"`
}

// Proxy is the [proxy] table (the password is not in the file).
type Proxy struct {
	Mode string `toml:"mode"`
	URL  string `toml:"url"`
	User string `toml:"user"`
}

// Duration is a time.Duration written as "30s" in TOML.
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return errors.New("want a duration such as \"30s\"")
	}
	d.Duration = v
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// MaxConcurrency bounds concurrency (the control plane's MaxConcurrency).
const MaxConcurrency = 256

// DefaultShutdownTimeout is used when shutdown_timeout is not set.
const DefaultShutdownTimeout = 30 * time.Second

// Paths are where a node keeps its config and state.
type Paths struct {
	Config   string // shir.toml
	StateDir string
}

// DefaultPaths returns the platform layout of DESIGN.md, under root when root
// is not empty (a node installed with --root DIR):
//
//	Linux:   /etc/shir/shir.toml, /var/lib/shir
//	Windows: %ProgramData%\shir\shir.toml, %ProgramData%\shir\state
func DefaultPaths(root string) Paths {
	if runtime.GOOS == "windows" {
		pd := os.Getenv("ProgramData")
		if pd == "" || root != "" {
			pd = `C:\ProgramData`
		}
		if root != "" {
			pd = filepath.Join(root, "ProgramData")
		}
		return Paths{Config: filepath.Join(pd, "shir", "shir.toml"), StateDir: filepath.Join(pd, "shir", "state")}
	}
	base := "/"
	if root != "" {
		base = root
	}
	return Paths{Config: filepath.Join(base, "etc", "shir", "shir.toml"), StateDir: filepath.Join(base, "var", "lib", "shir")}
}

// Parse decodes and validates shir.toml content. Errors wrap exitcode.ErrUsage.
func Parse(b []byte) (Config, error) {
	var c Config
	md, err := toml.Decode(string(b), &c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			if pe.LastKey != "" {
				return Config{}, fmt.Errorf("%w: shir.toml line %d: %s: %s", exitcode.ErrUsage, pe.Position.Line, pe.LastKey, pe.Message)
			}
			return Config{}, fmt.Errorf("%w: shir.toml line %d: %s", exitcode.ErrUsage, pe.Position.Line, pe.Message)
		}
		return Config{}, fmt.Errorf("%w: shir.toml: %v", exitcode.ErrUsage, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return Config{}, fmt.Errorf("%w: shir.toml: unknown field %s", exitcode.ErrUsage, strings.Join(keys, ", "))
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Load reads path. A missing file is not an error when allowMissing is set:
// the zero Config (all defaults) is returned.
func Load(path string, allowMissing bool) (Config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && allowMissing {
		return Config{}, nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Validate checks every field; the error names it.
func (c Config) Validate() error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%w: shir.toml: %s %s", exitcode.ErrUsage, field, fmt.Sprintf(format, a...))
	}
	if c.Server != "" {
		u, err := url.Parse(c.Server)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
			return bad("server", "must be an https:// URL with a host and no user info")
		}
	}
	if c.NodeName != "" && !validName(c.NodeName) {
		return bad("node_name", "must be 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit")
	}
	if c.StateDir != "" && !filepath.IsAbs(c.StateDir) {
		return bad("state_dir", "must be an absolute path, got %q", c.StateDir)
	}
	if c.Concurrency < 0 || c.Concurrency > MaxConcurrency {
		return bad("concurrency", "must be 0 (automatic) to %d, got %d", MaxConcurrency, c.Concurrency)
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		return bad("log_level", "%v", err)
	}
	if c.ShutdownTimeout.Duration < 0 || c.ShutdownTimeout.Duration > time.Hour {
		return bad("shutdown_timeout", "must be between 0s and 1h, got %s", c.ShutdownTimeout.Duration)
	}
	for i, a := range c.Exec.Allow {
		if !filepath.IsAbs(a) {
			return bad(fmt.Sprintf("exec.allow[%d]", i), "must be an absolute path, got %q", a)
		}
	}
	if h := c.RemoteAccessHost; h != "" && !validHost(h) {
		return bad("remote_access_host", "must be a host name or IP address without a port, got %q", h)
	}
	if err := c.ProxyConfig("").Validate(); err != nil {
		return fmt.Errorf("%w: shir.toml: %v", exitcode.ErrUsage, err)
	}
	return c.Update.validate(bad)
}

func (u Update) validate(bad func(field, format string, a ...any) error) error {
	if u.Source != "" && strings.ContainsAny(u.Source, "\r\n") {
		return bad("update.source", "must be one line")
	}
	if u.Channel != "" && !slices.Contains(updateChannels, u.Channel) {
		return bad("update.channel", "must be stable or beta, got %q", u.Channel)
	}
	if u.Interval.Duration != 0 && (u.Interval.Duration < time.Minute || u.Interval.Duration > 7*24*time.Hour) {
		return bad("update.interval", "must be between 1m and 168h, got %s", u.Interval.Duration)
	}
	if u.GitHubAPI != "" {
		if p, err := url.Parse(u.GitHubAPI); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return bad("update.github_api", "must be an http(s) URL, got %q", u.GitHubAPI)
		}
	}
	return nil
}

// ProxyConfig returns the proxy setting with the (separately stored) password.
func (c Config) ProxyConfig(password string) netproxy.Config {
	return netproxy.Config{Mode: c.Proxy.Mode, URL: c.Proxy.URL, User: c.Proxy.User, Password: password}
}

// ParseLevel maps log_level to a slog level ("" is info). Case-insensitive.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug", "verbose":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error", "off":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("must be debug, info, warn or error, got %q", s)
}

// Encode renders c as TOML (what the installer writes).
func Encode(c Config) ([]byte, error) {
	var sb strings.Builder
	if err := toml.NewEncoder(&sb).Encode(c); err != nil {
		return nil, err
	}
	return []byte(sb.String()), nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !ok && i > 0 {
			ok = r == '-' || r == '_' || r == '.'
		}
		if !ok {
			return false
		}
	}
	return true
}
