package svcrun

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
)

// TestHandlerStop drives the SCM handler as the SCM would: Running, then
// Stop cancels the body, which returns after its shutdown.
func TestHandlerStop(t *testing.T) {
	stopped := make(chan struct{})
	h := &handler{ctx: context.Background(), log: slog.New(slog.DiscardHandler), body: func(ctx context.Context, _ *slog.Logger) error {
		<-ctx.Done()
		close(stopped)
		return nil
	}}
	req := make(chan svc.ChangeRequest)
	st := make(chan svc.Status, 10)
	res := make(chan uint32, 1)
	go func() { _, code := h.Execute(nil, req, st); res <- code }()
	if s := <-st; s.State != svc.StartPending {
		t.Fatalf("first status %v", s.State)
	}
	if s := <-st; s.State != svc.Running || s.Accepts&svc.AcceptStop == 0 {
		t.Fatalf("second status %+v", s)
	}
	req <- svc.ChangeRequest{Cmd: svc.Stop}
	<-stopped
	if code := <-res; code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

func TestHandlerBodyFails(t *testing.T) {
	h := &handler{ctx: context.Background(), log: slog.New(slog.DiscardHandler), body: func(context.Context, *slog.Logger) error {
		return errors.New("not registered")
	}}
	st := make(chan svc.Status, 10)
	if _, code := h.Execute(nil, make(chan svc.ChangeRequest), st); code != 1 || h.err == nil {
		t.Fatalf("code %d err %v", code, h.err)
	}
}

type recorder struct{ lines []string }

func (r *recorder) Info(_ uint32, m string) error    { r.lines = append(r.lines, "I "+m); return nil }
func (r *recorder) Warning(_ uint32, m string) error { r.lines = append(r.lines, "W "+m); return nil }
func (r *recorder) Error(_ uint32, m string) error   { r.lines = append(r.lines, "E "+m); return nil }

func TestEventLogHandler(t *testing.T) {
	rec := &recorder{}
	log := slog.New(NewEventLogHandler(rec, nil)).With("node", "n1")
	log.Debug("hidden")
	log.Info("started", "jobs", 2)
	log.Warn("slow")
	log.Error("failed")
	got := strings.Join(rec.lines, "\n")
	want := "I level=INFO msg=started node=n1 jobs=2\nW level=WARN msg=slow node=n1\nE level=ERROR msg=failed node=n1"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestRealEventLog registers an event source and writes to the Event Log
// (Wine implements the calls; nothing is read back there).
func TestRealEventLog(t *testing.T) {
	const src = "shirtest-svcrun"
	if err := eventlog.InstallAsEventCreate(src, eventlog.Info|eventlog.Warning|eventlog.Error); err != nil && !strings.Contains(err.Error(), "exists") {
		t.Fatal(err)
	}
	t.Cleanup(func() { eventlog.Remove(src) })
	el, err := eventlog.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer el.Close()
	log := slog.New(NewEventLogHandler(el, nil))
	log.Info("hello from the test", "at", time.Now().Unix())
}
