package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"time"

	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/internal/netproxy"
)

// client calls the node endpoints of the control plane with the node token.
type client struct {
	base  *url.URL
	token string
	proxy netproxy.Config
	http  *http.Client
	// onLocalAddr, when set, gets the local IP of each connection to the
	// control plane (the default remote-access host).
	onLocalAddr func(host string)
}

// errTokenRefused: the control plane no longer knows this node (removed, or
// registered again elsewhere). Permanent.
var errTokenRefused = errors.New("the control plane refused this node's token (the node was removed or registered again); register it again")

func newClient(endpoint string, id register.Identity, proxy netproxy.Config, rt http.RoundTripper) (*client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("control plane endpoint %q is not an https URL", endpoint)
	}
	if rt == nil {
		tr, err := proxy.Transport(id.TLSConfig())
		if err != nil {
			return nil, err
		}
		rt = tr
	}
	// No client timeout: each call sets its own deadline (lease long-polls).
	return &client{base: u, token: id.Token, proxy: proxy, http: &http.Client{Transport: rt}}, nil
}

// call POSTs in to path and decodes the 200 reply into out. Errors: a
// *api.Problem for HTTP errors (401 wraps errTokenRefused), or a transport
// error naming the URL and the proxy.
func (c *client) call(ctx context.Context, path string, timeout time.Duration, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	if c.onLocalAddr != nil {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
			if a, ok := info.Conn.LocalAddr().(*net.TCPAddr); ok {
				c.onLocalAddr(a.IP.String())
			}
		}})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.JoinPath(path).String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return err
		}
		return register.TransportError(c.base.String(), c.proxy, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		p := api.ReadProblem(resp)
		if resp.StatusCode == http.StatusUnauthorized {
			return fmt.Errorf("%w: %v", errTokenRefused, p)
		}
		return p
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, api.MaxBodyBytes))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, api.MaxBodyBytes)).Decode(out); err != nil {
		return fmt.Errorf("%s: bad response: %w", path, err)
	}
	return nil
}

const callTimeout = 30 * time.Second

func (c *client) heartbeat(ctx context.Context, r api.HeartbeatRequest) (api.HeartbeatResponse, error) {
	var out api.HeartbeatResponse
	err := c.call(ctx, api.PathHeartbeat, callTimeout, r, &out)
	return out, err
}

func (c *client) lease(ctx context.Context, r api.LeaseRequest) (api.LeaseResponse, error) {
	var out api.LeaseResponse
	err := c.call(ctx, api.PathLease, time.Duration(r.WaitSeconds)*time.Second+callTimeout, r, &out)
	return out, err
}

func (c *client) renew(ctx context.Context, id string, r api.RenewRequest) (api.RenewResponse, error) {
	var out api.RenewResponse
	err := c.call(ctx, api.JobPath(id, "renew"), callTimeout, r, &out)
	return out, err
}

func (c *client) progress(ctx context.Context, id string, r api.ProgressRequest) (api.RenewResponse, error) {
	var out api.RenewResponse
	err := c.call(ctx, api.JobPath(id, "progress"), callTimeout, r, &out)
	return out, err
}

func (c *client) result(ctx context.Context, id string, r api.ResultRequest) error {
	return c.call(ctx, api.JobPath(id, "result"), callTimeout, r, nil)
}

// isLeaseLost reports a 409 lease-lost or 404 (job gone): drop the work.
func isLeaseLost(err error) bool {
	var p *api.Problem
	if errors.As(err, &p) {
		return p.Type == api.ProblemLeaseLost || p.Status == http.StatusNotFound
	}
	return false
}

// isPermanent: errors that retrying cannot fix.
func isPermanent(err error) bool {
	if errors.Is(err, errTokenRefused) {
		return true
	}
	var p *api.Problem
	return errors.As(err, &p) && p.Status >= 400 && p.Status < 500 && p.Status != http.StatusTooManyRequests && p.Status != http.StatusRequestTimeout
}

func isTokenErr(err error) bool { return errors.Is(err, errTokenRefused) }
