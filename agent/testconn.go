package agent

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/shirhq/shir/controlplane/api"
)

// runTestConnection checks that the node reaches an address: a TCP connect,
// a TLS handshake (verified against the system roots), or an HTTP(S) GET
// through the node's proxy. Unreachable is a failed job whose output still
// says what happened.
func runTestConnection(ctx context.Context, env *jobEnv, raw json.RawMessage) (any, error) {
	var spec api.TestConnectionSpec
	if err := decodeSpec(raw, &spec); err != nil {
		return nil, err
	}
	timeout := 10 * time.Second
	if spec.TimeoutSeconds < 0 || spec.TimeoutSeconds > 300 {
		return nil, permanent("spec.timeoutSeconds must be 0-300")
	}
	if spec.TimeoutSeconds > 0 {
		timeout = time.Duration(spec.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := api.TestConnectionOutput{}
	start := time.Now()
	var err error
	switch spec.Protocol {
	case "tcp", "tls":
		if _, _, e := net.SplitHostPort(spec.Address); e != nil {
			return nil, permanent("spec.address must be host:port for %s", spec.Protocol)
		}
		var c net.Conn
		if spec.Protocol == "tcp" {
			c, err = (&net.Dialer{}).DialContext(ctx, "tcp", spec.Address)
		} else {
			c, err = (&tls.Dialer{Config: &tls.Config{MinVersion: tls.VersionTLS12}}).DialContext(ctx, "tcp", spec.Address)
			if err == nil {
				st := c.(*tls.Conn).ConnectionState()
				out.Detail = fmt.Sprintf("TLS %s, certificate %s", tls.VersionName(st.Version), st.PeerCertificates[0].Subject)
			}
		}
		if err == nil {
			c.Close()
		}
	case "http":
		u, e := url.Parse(spec.Address)
		if e != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, permanent("spec.address must be an http(s) URL for protocol http")
		}
		var req *http.Request
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err == nil {
			var resp *http.Response
			resp, err = env.http.Do(req)
			if err == nil {
				resp.Body.Close()
				out.StatusCode = resp.StatusCode
				out.Detail = resp.Status
			}
		}
	default:
		return nil, permanent("spec.protocol must be tcp, tls or http, got %q", spec.Protocol)
	}
	out.LatencyMS = time.Since(start).Milliseconds()
	if err != nil {
		out.Detail = err.Error()
		return out, permanent("%s %s unreachable: %v", spec.Protocol, redactURL(spec.Address), err)
	}
	out.Reachable = true
	return out, nil
}
