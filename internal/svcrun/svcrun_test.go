package svcrun

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestForeground: from a console (and always outside Windows) Run calls the
// body with the fallback handler.
func TestForeground(t *testing.T) {
	var buf bytes.Buffer
	err := Run(context.Background(), "shirhost", false, slog.NewTextHandler(&buf, nil), func(_ context.Context, log *slog.Logger) error {
		log.Info("body ran")
		return nil
	})
	if err != nil || !strings.Contains(buf.String(), "body ran") {
		t.Fatalf("err %v, log %q", err, buf.String())
	}
}

func TestMultiHandler(t *testing.T) {
	var a, b bytes.Buffer
	m := multiHandler{slog.NewTextHandler(&a, nil), slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelWarn})}
	log := slog.New(m).With("k", "v")
	log.Info("one")
	log.Warn("two")
	if !strings.Contains(a.String(), "one") || !strings.Contains(a.String(), "two") || strings.Contains(b.String(), "one") || !strings.Contains(b.String(), "k=v") {
		t.Fatalf("a=%q b=%q", a.String(), b.String())
	}
}
