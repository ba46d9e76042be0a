// Package svcrun runs a service body under the platform's service manager
// and gives it a logger that goes where that manager expects.
//
// On Windows, when the process was started by the Service Control Manager,
// Run answers the SCM (svc.Run): it reports Running, turns Stop and Shutdown
// into cancelling the body's context, and reports Stopped when the body has
// returned (after its graceful shutdown). Logs then go to the Windows Event
// Log under the service's source, as well as to any other handler given.
// Started from a console, or on Linux (where systemd reads stderr into the
// journal), Run just calls the body.
package svcrun

import (
	"context"
	"log/slog"
)

// Body is the service's work: it runs until ctx ends.
type Body func(ctx context.Context, log *slog.Logger) error

// Run runs body as the service name, or in the foreground.
// fallback is the handler used outside the service manager (e.g. a text
// handler on stderr) and alongside the Event Log inside it. asService skips
// the detection and answers the SCM in any case: the installer puts it in
// the service's arguments (`shir agent run --service`), because detection
// fails where services do not run in session 0 (Wine).
func Run(ctx context.Context, name string, asService bool, fallback slog.Handler, body Body) error {
	return run(ctx, name, asService, fallback, body)
}

// multiHandler sends each record to every handler that is enabled for it.
type multiHandler []slog.Handler

func (m multiHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range m {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (m multiHandler) Handle(ctx context.Context, r slog.Record) error {
	var first error
	for _, h := range m {
		if h.Enabled(ctx, r.Level) {
			if err := h.Handle(ctx, r.Clone()); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

func (m multiHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (m multiHandler) WithGroup(g string) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithGroup(g)
	}
	return out
}
