// Package cptest runs a real control plane (controlplane.Server: SQLite,
// TLS with a self-signed certificate) on a loopback port for the tests and
// benchmarks of other packages, and stops it when the test ends.
package cptest

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"github.com/shirhq/shir/controlplane"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
)

// Server is a running control plane.
type Server struct {
	// Addr is the host:port it listens on.
	Addr string
	// Admin is an admin client (token and certificate pin set).
	Admin *client.Client
	// Config is what Admin was made from (URL, token file, pin).
	Config client.Config
}

// Start serves a control plane on 127.0.0.1 until tb ends. Empty DataDir and
// Logger in opts are filled with tb.TempDir() and a discarding logger.
func Start(tb testing.TB, opts controlplane.Options) *Server {
	tb.Helper()
	if opts.DataDir == "" {
		opts.DataDir = tb.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := controlplane.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx, ln); close(done) }()
	tb.Cleanup(func() { cancel(); <-done; srv.Close() })
	s := &Server{Addr: ln.Addr().String(), Config: srv.ClientConfig(ln.Addr().String())}
	if s.Admin, err = client.New(s.Config); err != nil {
		tb.Fatal(err)
	}
	return s
}

// Runtime creates a runtime (maxNodes 0: the default) and returns it with
// its two keys.
func (s *Server) Runtime(tb testing.TB, name string, maxNodes int) (api.Runtime, api.Keys) {
	tb.Helper()
	ctx := context.Background()
	rt, err := s.Admin.CreateRuntime(ctx, api.CreateRuntimeRequest{Name: name, MaxNodes: maxNodes})
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := s.Admin.Keys(ctx, rt.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return rt, keys
}
