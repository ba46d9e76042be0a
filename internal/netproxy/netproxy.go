// Package netproxy decides which proxy the node's HTTP traffic uses: the
// control-plane client and the jobs' HTTP sources share one Transport built
// here.
//
// Modes (node config [proxy] mode, installer property PROXY):
//
//   - none: direct connections.
//   - system: the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, upper or
//     lower case) when any of it is set; else, on Windows, the machine's
//     WinHTTP proxy (netsh winhttp set proxy), read from the registry value
//     WinHttpSettings; else direct. As with Go's own environment handling,
//     loopback destinations are never proxied in this mode. Go reads the
//     environment once per process.
//   - custom: every request goes through the given http://host:port, with
//     basic proxy authentication when a user is set (the password is kept
//     sealed in the state directory, file proxy-password.sealed, and never
//     printed: String redacts it).
package netproxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shirhq/shir/internal/secret"
)

// Modes.
const (
	ModeNone   = "none"
	ModeSystem = "system"
	ModeCustom = "custom"
)

// PasswordFile is the sealed proxy password in the state directory.
const PasswordFile = "proxy-password.sealed"

// Config is the proxy setting of a node.
type Config struct {
	Mode     string // none (or ""), system, custom
	URL      string // custom: http://host:port
	User     string // custom: optional
	Password string // custom: optional; secret
}

// ErrConfig is wrapped by Validate's errors.
var ErrConfig = errors.New("invalid proxy setting")

// Validate checks the setting; errors name the field (proxy.mode, proxy.url, proxy.user).
func (c Config) Validate() error {
	switch c.Mode {
	case "", ModeNone, ModeSystem:
		if c.URL != "" {
			return fmt.Errorf("%w: proxy.url is set but proxy.mode is %q (want \"custom\")", ErrConfig, c.Mode)
		}
		return nil
	case ModeCustom:
		_, err := parseCustom(c.URL)
		if err != nil {
			return fmt.Errorf("%w: proxy.url: %v", ErrConfig, err)
		}
		if c.User == "" && c.Password != "" {
			return fmt.Errorf("%w: proxy.user is empty but a proxy password is set", ErrConfig)
		}
		if strings.ContainsAny(c.User, ":@/") {
			return fmt.Errorf("%w: proxy.user must not contain ':', '@' or '/'", ErrConfig)
		}
		return nil
	default:
		return fmt.Errorf("%w: proxy.mode must be none, system or custom, got %q", ErrConfig, c.Mode)
	}
}

// parseCustom accepts http://host:port (no user info, no path).
func parseCustom(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("is empty; want http://host:port")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("is not a URL; want http://host:port")
	}
	if u.Scheme != "http" || u.Hostname() == "" || u.Port() == "" {
		return nil, errors.New("want http://host:port")
	}
	if u.User != nil {
		return nil, errors.New("must not contain a user or password (use proxy.user and the sealed password)")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("must not have a path or query; want http://host:port")
	}
	return &url.URL{Scheme: "http", Host: u.Host}, nil
}

// String describes the setting for logs and errors, without the password.
func (c Config) String() string {
	switch c.Mode {
	case ModeCustom:
		s := c.URL
		if c.User != "" {
			s += " (user " + c.User + ")"
		}
		return s
	case ModeSystem:
		return "system"
	default:
		return "none"
	}
}

// ProxyFunc returns the function for http.Transport.Proxy.
func (c Config) ProxyFunc() (func(*http.Request) (*url.URL, error), error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	switch c.Mode {
	case ModeCustom:
		u, _ := parseCustom(c.URL)
		if c.User != "" {
			u.User = url.UserPassword(c.User, c.Password)
		}
		return func(*http.Request) (*url.URL, error) { return u, nil }, nil
	case ModeSystem:
		if !envProxySet() {
			if sys, err := systemProxy(); err == nil && sys != nil {
				return sys.proxyFunc(), nil
			}
		}
		return http.ProxyFromEnvironment, nil
	default:
		return nil, nil
	}
}

func envProxySet() bool {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}

// Transport returns a Transport that honours the proxy setting and uses tlsc
// (nil: default verification).
func (c Config) Transport(tlsc *tls.Config) (*http.Transport, error) {
	pf, err := c.ProxyFunc()
	if err != nil {
		return nil, err
	}
	return &http.Transport{
		Proxy:                 pf,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsc,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	}, nil
}

// SavePassword seals the proxy password into stateDir (empty: removes it).
func SavePassword(stateDir string, p secret.Protector, password string) error {
	path := filepath.Join(stateDir, PasswordFile)
	if password == "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	return secret.WriteFile(path, p, []byte(password))
}

// LoadPassword opens the sealed proxy password ("" when none is stored).
func LoadPassword(stateDir string, p secret.Protector) (string, error) {
	b, err := secret.ReadFile(filepath.Join(stateDir, PasswordFile), p)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("proxy password: %w", err)
	}
	return string(b), nil
}
