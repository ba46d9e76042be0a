package provision

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/internal/exitcode"
)

// Property describes one installer property (msiexec style NAME=VALUE, or the
// flag --name).
type Property struct {
	Name   string // upper case, as in DESIGN.md
	Help   string
	Secret bool // never printed; shown as <redacted>
	Bool   bool // 0 or 1; given as a flag it needs no value
	check  func(v string) error
}

// Properties is the complete installer property set of DESIGN.md. Unknown
// names are an error, never ignored.
var Properties = []Property{
	{Name: "AUTHKEY", Help: "authentication key of the runtime (or - to read it from stdin, @file to read it from a file)", Secret: true, check: checkAuthKey},
	{Name: "NODENAME", Help: "node name (default: the host name)", check: checkNodeName},
	{Name: "INSTALLDIR", Help: "directory for the binaries", check: checkAbsPath},
	{Name: "DATADIR", Help: "directory for state (identity, credentials, journal)", check: checkAbsPath},
	{Name: "NOFIREWALL", Help: "1: do not touch the firewall (the port must then be opened by hand)", Bool: true, check: checkBool},
	{Name: "PORT", Help: "remote-access port for high availability (default 8060)", check: checkPort},
	{Name: "CERTTHUMBPRINT", Help: "SHA-1 thumbprint of the remote-access certificate (Windows certificate store)", check: checkThumbprint},
	{Name: "CERTFILE", Help: "PEM file with the remote-access certificate and key", check: checkAbsPath},
	{Name: "PROXY", Help: "none, system, or http://host:port", check: checkProxy},
	{Name: "PROXYUSER", Help: "user name for the proxy", check: checkNonEmpty},
	{Name: "PROXYPASSWORD", Help: "password for the proxy", Secret: true, check: checkNonEmpty},
	{Name: "SERVICEACCOUNT", Help: `account of the host service (default NT SERVICE\shirhost on Windows, shir on Linux)`, check: checkNonEmpty},
	{Name: "SERVICEPASSWORD", Help: "password of SERVICEACCOUNT, when it is not a virtual or managed account", Secret: true, check: checkNonEmpty},
	{Name: "AUTOUPDATE", Help: "1 (default) or 0: automatic updates", Bool: true, check: checkBool},
	{Name: "UPDATECHANNEL", Help: "stable (default) or beta", check: checkChannel},
	{Name: "UPDATESOURCE", Help: "where the upgrade service looks for signed releases: github://owner/repo, https://feed/ or an absolute directory", check: checkUpdateSource},
	{Name: "IGNOREPREREQ", Help: "prerequisite check ids to turn into warnings, comma separated, or all", check: checkIgnoreList},
}

// LookupProperty finds a property by name, case-insensitively.
func LookupProperty(name string) (Property, bool) {
	for _, p := range Properties {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return Property{}, false
}

// PropertySet holds validated installer properties by upper-case name.
type PropertySet map[string]string

// Set validates and stores one property. The error names the property and
// never repeats a secret value.
func (s PropertySet) Set(name, value string) error {
	p, ok := LookupProperty(name)
	if !ok {
		return fmt.Errorf("%w: unknown property %q (known: %s)", exitcode.ErrUsage, redactArg(name), strings.Join(PropertyNames(), ", "))
	}
	if old, dup := s[p.Name]; dup && old != value {
		return fmt.Errorf("%w: property %s is given twice with different values", exitcode.ErrUsage, p.Name)
	}
	if err := p.check(value); err != nil {
		if p.Secret || strings.Contains(value, "@") { // a user:password@ or a key
			return fmt.Errorf("%w: property %s: %v", exitcode.ErrUsage, p.Name, err)
		}
		return fmt.Errorf("%w: property %s=%q: %v", exitcode.ErrUsage, p.Name, value, err)
	}
	s[p.Name] = value
	return nil
}

// String lists the properties sorted by name with secrets redacted.
func (s PropertySet) String() string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := s[n]
		if p, _ := LookupProperty(n); p.Secret {
			v = "<redacted>"
		}
		fmt.Fprintf(&b, "%s=%s", n, v)
	}
	return b.String()
}

// PropertyNames returns the known property names in table order.
func PropertyNames() []string {
	out := make([]string, len(Properties))
	for i, p := range Properties {
		out[i] = p.Name
	}
	return out
}

func checkAuthKey(v string) error {
	if v == "-" || strings.HasPrefix(v, "@") {
		if v == "@" {
			return errors.New("@ must be followed by a file name")
		}
		return nil // read later, from stdin or the file
	}
	_, err := register.ParseKey(v)
	return err
}

func checkNodeName(v string) error {
	if v == "" || len(v) > 63 {
		return errors.New("must be 1-63 characters")
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("character %q is not allowed (letters, digits, '-', '_', '.')", r)
		}
	}
	return nil
}

func checkAbsPath(v string) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	// Accept both forms whatever the OS we run on: C:\... and /...
	if !filepath.IsAbs(v) && !strings.HasPrefix(v, "/") && !(len(v) >= 3 && v[1] == ':' && (v[2] == '\\' || v[2] == '/')) {
		return errors.New("must be an absolute path")
	}
	return nil
}

func checkBool(v string) error {
	if v != "0" && v != "1" {
		return errors.New("must be 0 or 1")
	}
	return nil
}

func checkPort(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		return errors.New("must be a TCP port number from 1 to 65535")
	}
	return nil
}

func checkThumbprint(v string) error {
	v = strings.ReplaceAll(v, " ", "")
	if len(v) != 40 {
		return errors.New("must be 40 hex digits (a SHA-1 thumbprint)")
	}
	for _, r := range strings.ToLower(v) {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return errors.New("must be 40 hex digits (a SHA-1 thumbprint)")
		}
	}
	return nil
}

func checkProxy(v string) error {
	switch strings.ToLower(v) {
	case "none", "system":
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Port() == "" {
		return errors.New("must be none, system or http://host:port")
	}
	if u.User != nil {
		return errors.New("must not contain a user or password: use PROXYUSER and PROXYPASSWORD")
	}
	return nil
}

func checkNonEmpty(v string) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func checkChannel(v string) error {
	if v != "stable" && v != "beta" {
		return errors.New("must be stable or beta")
	}
	return nil
}

func checkUpdateSource(v string) error {
	switch {
	case strings.HasPrefix(v, "github://"):
		owner, repo, ok := strings.Cut(strings.TrimPrefix(v, "github://"), "/")
		if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
			return errors.New("must be github://owner/repo")
		}
	case strings.HasPrefix(v, "https://"), strings.HasPrefix(v, "http://"):
		if u, err := url.Parse(v); err != nil || u.Host == "" || u.User != nil {
			return errors.New("must be an http(s) URL with a host and no user info")
		}
	case strings.Contains(v, "://"):
		return errors.New("must be github://owner/repo, an https:// feed or an absolute directory")
	default:
		return checkAbsPath(v)
	}
	return nil
}

func checkIgnoreList(v string) error {
	for id := range strings.SplitSeq(v, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			return errors.New("has an empty id")
		}
		for _, r := range id {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("id %q must be lowercase letters, digits and '-'", id)
			}
		}
	}
	return nil
}
