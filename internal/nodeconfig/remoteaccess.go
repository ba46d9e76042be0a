package nodeconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/shirhq/shir/internal/atomicfile"
	"github.com/shirhq/shir/internal/exitcode"
)

// RemoteAccessFile is the remote-access setting in the state directory,
// written by `dmgcmd -era/-erac/-dra` and watched by the running agent:
//
//	{"enabled": true, "port": 8060, "inContainer": false,
//	 "certFile": "/etc/shir/node.pem"}            // or "thumbprint": "0123…" (Windows)
//
// With neither certFile nor thumbprint the node uses a self-signed
// certificate it generates in the state directory (AutoCertFile), so the
// channel is always TLS. The peers pin each other's certificates by the
// SHA-256 fingerprint the control plane relays, so no CA is involved.
const RemoteAccessFile = "remote-access.json"

// AutoCertFile is the generated certificate and key (PEM, 0600) used when
// remote access has no certificate of its own.
const AutoCertFile = "remote-access.pem"

// RemoteAccess is the content of RemoteAccessFile.
type RemoteAccess struct {
	Enabled bool `json:"enabled"`
	Port    int  `json:"port,omitempty"`
	// Thumbprint is the SHA-1 thumbprint (40 upper-case hex digits) of a
	// certificate with a private key in the Windows LocalMachine\My store.
	Thumbprint string `json:"thumbprint,omitempty"`
	// CertFile is an absolute path to a PEM file holding the certificate
	// (chain) and its private key.
	CertFile string `json:"certFile,omitempty"`
	// InContainer: the firewall is not touched (-erac).
	InContainer bool `json:"inContainer,omitempty"`
}

// Validate checks the fields; errors wrap exitcode.ErrUsage and name the field.
func (r RemoteAccess) Validate() error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s %s", exitcode.ErrUsage, RemoteAccessFile, field, fmt.Sprintf(format, a...))
	}
	if !r.Enabled {
		return nil
	}
	if r.Port < 1 || r.Port > 65535 {
		return bad("port", "must be a TCP port number from 1 to 65535, got %d", r.Port)
	}
	if r.Thumbprint != "" && r.CertFile != "" {
		return bad("thumbprint", "and certFile exclude each other")
	}
	if r.Thumbprint != "" && !IsThumbprint(r.Thumbprint) {
		return bad("thumbprint", "must be 40 hex digits (a SHA-1 thumbprint)")
	}
	if r.CertFile != "" && !filepath.IsAbs(r.CertFile) {
		return bad("certFile", "must be an absolute path, got %q", r.CertFile)
	}
	return nil
}

// IsThumbprint reports whether s is 40 hex digits (spaces allowed, as the
// Windows certificate dialog shows them).
func IsThumbprint(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	if len(s) != 40 {
		return false
	}
	for _, r := range strings.ToLower(s) {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// NormalizeThumbprint removes spaces and upper-cases.
func NormalizeThumbprint(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, " ", ""))
}

// ParseRemoteAccess decodes and validates RemoteAccessFile content.
func ParseRemoteAccess(b []byte) (RemoteAccess, error) {
	var r RemoteAccess
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return RemoteAccess{}, fmt.Errorf("%w: %s: %v", exitcode.ErrUsage, RemoteAccessFile, err)
	}
	if err := r.Validate(); err != nil {
		return RemoteAccess{}, err
	}
	return r, nil
}

// LoadRemoteAccess reads the setting of stateDir; a missing file means off.
func LoadRemoteAccess(stateDir string) (RemoteAccess, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, RemoteAccessFile))
	if errors.Is(err, os.ErrNotExist) {
		return RemoteAccess{}, nil
	}
	if err != nil {
		return RemoteAccess{}, fmt.Errorf("read remote-access setting: %w", err)
	}
	return ParseRemoteAccess(b)
}

// SaveRemoteAccess validates r and writes it atomically (0600).
func SaveRemoteAccess(stateDir string, r RemoteAccess) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if !r.Enabled {
		r = RemoteAccess{}
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	return atomicfile.Write(filepath.Join(stateDir, RemoteAccessFile), append(b, '\n'), 0o600)
}

// validHost accepts an IP address or a DNS name (no port).
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
