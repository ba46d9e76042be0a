package svcrun

import (
	"bytes"
	"context"
	"log/slog"
	"sync"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
)

func run(ctx context.Context, name string, asService bool, fallback slog.Handler, body Body) error {
	isSvc, err := svc.IsWindowsService()
	if !asService && (err != nil || !isSvc) {
		return body(ctx, slog.New(fallback))
	}
	log := slog.New(fallback)
	if el, err := eventlog.Open(name); err == nil {
		defer el.Close()
		log = slog.New(multiHandler{fallback, NewEventLogHandler(el, fallback)})
	}
	h := &handler{ctx: ctx, body: body, log: log}
	if err := svc.Run(name, h); err != nil {
		return err
	}
	return h.err
}

// handler is the svc.Handler of the body.
type handler struct {
	ctx  context.Context
	body Body
	log  *slog.Logger
	err  error
}

var _ svc.Handler = (*handler)(nil)

func (h *handler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.body(ctx, h.log) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case err := <-done:
			h.err = err
			status <- svc.Status{State: svc.StopPending}
			if err != nil {
				return true, 1
			}
			return false, 0
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending, WaitHint: 60000}
				cancel()
			}
		}
	}
}

// eventWriter is the part of *eventlog.Log the handler uses.
type eventWriter interface {
	Info(eid uint32, msg string) error
	Warning(eid uint32, msg string) error
	Error(eid uint32, msg string) error
}

// EventLogHandler writes records to the Windows Event Log as text lines
// (the level picks Information, Warning or Error; event ID 1).
type EventLogHandler struct {
	mu    *sync.Mutex
	w     eventWriter
	level slog.Leveler
	buf   *bytes.Buffer
	text  slog.Handler
}

// NewEventLogHandler formats with slog's text format, at the level of
// leveler (e.g. the fallback handler; nil: info).
func NewEventLogHandler(w eventWriter, leveler interface {
	Enabled(context.Context, slog.Level) bool
}) *EventLogHandler {
	buf := &bytes.Buffer{}
	lv := slog.LevelInfo
	if leveler != nil && leveler.Enabled(context.Background(), slog.LevelDebug) {
		lv = slog.LevelDebug
	}
	return &EventLogHandler{mu: &sync.Mutex{}, w: w, level: lv, buf: buf,
		text: slog.NewTextHandler(buf, &slog.HandlerOptions{Level: lv, ReplaceAttr: dropTime})}
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

func (h *EventLogHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *EventLogHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.Reset()
	if err := h.text.Handle(ctx, r); err != nil {
		return err
	}
	msg := string(bytes.TrimRight(h.buf.Bytes(), "\n"))
	switch {
	case r.Level >= slog.LevelError:
		return h.w.Error(1, msg)
	case r.Level >= slog.LevelWarn:
		return h.w.Warning(1, msg)
	default:
		return h.w.Info(1, msg)
	}
}

func (h *EventLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.text = h.text.WithAttrs(as)
	return &c
}

func (h *EventLogHandler) WithGroup(g string) slog.Handler {
	c := *h
	c.text = h.text.WithGroup(g)
	return &c
}
