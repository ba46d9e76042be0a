package register

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Key is a parsed authentication key:
//
//	SHIR@<runtimeID>@<runtimeName>@ServiceEndpoint=<https-url>@<secret>[@ca=sha256:<hex>]
//
// Its String method never shows the secret.
type Key struct {
	RuntimeID   string
	RuntimeName string
	Endpoint    *url.URL
	Secret      string
	// CASHA256 is the SHA-256 of the control plane's self-signed certificate
	// (32 bytes), or nil when the endpoint has a publicly trusted certificate.
	CASHA256 []byte
}

// ErrBadKey is wrapped by every ParseKey error. The errors name the part that
// is wrong and never contain the key or its secret.
var ErrBadKey = errors.New("invalid authentication key")

// ParseKey parses and validates an authentication key.
func ParseKey(s string) (Key, error) {
	bad := func(format string, a ...any) (Key, error) {
		return Key{}, fmt.Errorf("%w: %s", ErrBadKey, fmt.Sprintf(format, a...))
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return bad("the key is empty")
	}
	parts := strings.Split(s, "@")
	if parts[0] != "SHIR" {
		return bad("it must start with \"SHIR@\"")
	}
	if len(parts) != 5 && len(parts) != 6 {
		return bad("it must have 5 or 6 parts separated by '@' (SHIR@id@name@ServiceEndpoint=url@secret[@ca=sha256:hex]), got %d", len(parts))
	}
	k := Key{RuntimeID: parts[1], RuntimeName: parts[2], Secret: parts[4]}
	if !validID(k.RuntimeID) {
		return bad("runtime id must be 1-64 letters, digits, '-' or '_'")
	}
	if k.RuntimeName == "" || len(k.RuntimeName) > 128 {
		return bad("runtime name must be 1-128 characters")
	}
	ep, ok := strings.CutPrefix(parts[3], "ServiceEndpoint=")
	if !ok {
		return bad("part 4 must be \"ServiceEndpoint=<https-url>\"")
	}
	u, err := url.Parse(ep)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return bad("ServiceEndpoint must be an https:// URL with a host and no user info")
	}
	k.Endpoint = u
	if len(k.Secret) < 16 {
		return bad("secret is too short (want at least 16 characters)")
	}
	if len(parts) == 6 {
		h, ok := strings.CutPrefix(parts[5], "ca=sha256:")
		if !ok {
			return bad("part 6 must be \"ca=sha256:<64 hex digits>\"")
		}
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != 32 {
			return bad("ca=sha256: must be followed by 64 hex digits")
		}
		k.CASHA256 = b
	}
	return k, nil
}

func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Encode returns the key in its text form (with the secret: a secret itself).
func (k Key) Encode() string {
	s := fmt.Sprintf("SHIR@%s@%s@ServiceEndpoint=%s@%s", k.RuntimeID, k.RuntimeName, k.Endpoint, k.Secret)
	if k.CASHA256 != nil {
		s += "@ca=sha256:" + hex.EncodeToString(k.CASHA256)
	}
	return s
}

// String is safe to log: the secret is replaced.
func (k Key) String() string {
	ep := ""
	if k.Endpoint != nil {
		ep = k.Endpoint.String()
	}
	return fmt.Sprintf("SHIR@%s@%s@ServiceEndpoint=%s@<redacted>", k.RuntimeID, k.RuntimeName, ep)
}
