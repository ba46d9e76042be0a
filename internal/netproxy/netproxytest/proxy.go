// Package netproxytest runs a real forward HTTP proxy on loopback for tests:
// plain HTTP requests and CONNECT tunnels, optional basic authentication, and
// a log of the targets it served.
package netproxytest

import (
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Proxy is a forward proxy listening on 127.0.0.1.
type Proxy struct {
	*httptest.Server
	User, Password string // when User is set, Proxy-Authorization is required

	mu      sync.Mutex
	targets []string
	denied  int
}

// New starts a proxy; Close it when done.
func New(user, password string) *Proxy {
	p := &Proxy{User: user, Password: password}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	return p
}

// Targets returns the hosts (host:port) it forwarded to, in order.
func (p *Proxy) Targets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...)
}

// Denied counts requests refused for missing or wrong credentials.
func (p *Proxy) Denied() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.denied
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if p.User != "" {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.User+":"+p.Password))
		if r.Header.Get("Proxy-Authorization") != want {
			p.mu.Lock()
			p.denied++
			p.mu.Unlock()
			w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
			http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
			return
		}
	}
	p.mu.Lock()
	p.targets = append(p.targets, r.Host)
	p.mu.Unlock()
	if r.Method == http.MethodConnect {
		p.tunnel(w, r)
		return
	}
	r.RequestURI = ""
	r.Header.Del("Proxy-Authorization")
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func (p *Proxy) tunnel(w http.ResponseWriter, r *http.Request) {
	up, err := net.DialTimeout("tcp", r.Host, 5*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		http.Error(w, "no hijack", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
	conn, buf, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	go func() {
		if n := buf.Reader.Buffered(); n > 0 {
			b, _ := buf.Peek(n)
			up.Write(b)
		}
		io.Copy(up, conn)
		up.Close()
	}()
	io.Copy(conn, up)
	conn.Close()
}
