package netproxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"net"
	"net/http"
	"net/url"
	"path"
)

// parseWinHTTPSettings decodes the registry value WinHttpSettings
// (HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections),
// which `netsh winhttp set proxy` writes:
//
//	uint32 struct size (0x18) | uint32 counter | uint32 flags (1 direct, 3 proxy)
//	uint32 len | proxy server (ASCII) | uint32 len | bypass list (ASCII)
//
// It returns nil for a direct setting. Pure; fuzzed.
func parseWinHTTPSettings(b []byte) (*winProxy, error) {
	if len(b) < 16 {
		return nil, errors.New("WinHttpSettings: too short")
	}
	flags := binary.LittleEndian.Uint32(b[8:])
	rest := b[12:]
	str := func() (string, error) {
		if len(rest) < 4 {
			return "", errors.New("WinHttpSettings: truncated")
		}
		n := binary.LittleEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return "", errors.New("WinHttpSettings: length beyond the value")
		}
		s := string(rest[:n])
		rest = rest[n:]
		return s, nil
	}
	server, err := str()
	if err != nil {
		return nil, err
	}
	bypass := ""
	if len(rest) > 0 {
		if bypass, err = str(); err != nil {
			return nil, err
		}
	}
	if flags&2 == 0 || strings.TrimSpace(server) == "" {
		return nil, nil
	}
	cfg := &winProxy{}
	for _, part := range strings.Split(server, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		scheme, addr, ok := strings.Cut(part, "=")
		if !ok {
			addr, scheme = part, ""
		}
		if !strings.Contains(addr, "://") {
			addr = "http://" + addr
		}
		u, err := url.Parse(addr)
		if err != nil || u.Host == "" {
			continue
		}
		switch strings.ToLower(scheme) {
		case "":
			cfg.http, cfg.https = u, u
		case "http":
			cfg.http = u
		case "https":
			cfg.https = u
		}
	}
	if cfg.http == nil && cfg.https == nil {
		return nil, fmt.Errorf("WinHttpSettings: no usable proxy in %q", server)
	}
	for _, e := range strings.Split(bypass, ";") {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			cfg.bypass = append(cfg.bypass, e)
		}
	}
	return cfg, nil
}

// winProxy is a parsed WinHTTP proxy setting.
type winProxy struct {
	http, https *url.URL
	bypass      []string // lower case: "<local>", host names, globs such as *.corp or 10.*
}

// skip reports whether host goes direct: loopback always, "<local>" for
// names without a dot, otherwise a glob or exact match of an entry.
func (w *winProxy) skip(host string) bool {
	host = strings.ToLower(host)
	if host == "localhost" {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	for _, e := range w.bypass {
		if e == "<local>" {
			if !strings.Contains(host, ".") && net.ParseIP(host) == nil {
				return true
			}
			continue
		}
		if ok, _ := path.Match(e, host); ok || e == host {
			return true
		}
	}
	return false
}

func (w *winProxy) proxyFunc() func(*http.Request) (*url.URL, error) {
	return func(r *http.Request) (*url.URL, error) {
		if w.skip(r.URL.Hostname()) {
			return nil, nil
		}
		if r.URL.Scheme == "https" {
			return w.https, nil
		}
		return w.http, nil
	}
}
