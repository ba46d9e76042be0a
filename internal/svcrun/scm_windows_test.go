package svcrun

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

// TestMain doubles as the service body: started by the SCM with the
// arguments "svcrun-child DIR", it runs Run(asService) with a body that
// writes DIR\started, waits for its context, and writes DIR\stopped.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "svcrun-child" {
		dir := os.Args[2]
		err := Run(context.Background(), "shirsvcruntest", true, slog.DiscardHandler, func(ctx context.Context, _ *slog.Logger) error {
			os.WriteFile(filepath.Join(dir, "started"), nil, 0o644)
			<-ctx.Done()
			return os.WriteFile(filepath.Join(dir, "stopped"), nil, 0o644)
		})
		if err != nil {
			os.WriteFile(filepath.Join(dir, "error"), []byte(err.Error()), 0o644)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func waitFile(t *testing.T, p string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(p); err == nil {
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "error"))
			t.Fatalf("%s did not appear (error file: %q)", p, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRealSCM installs this test binary as a service with the SCM (Wine's
// services.exe here), starts it, sees Running, stops it and sees the body's
// graceful stop and Stopped.
func TestRealSCM(t *testing.T) {
	m, err := mgr.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Disconnect()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const name = "shirsvcruntest"
	if old, err := m.OpenService(name); err == nil {
		old.Control(svc.Stop)
		old.Delete()
		old.Close()
	}
	s, err := m.CreateService(name, exe, mgr.Config{DisplayName: "shir svcrun test", StartType: mgr.StartManual}, "svcrun-child", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Delete(); s.Close() }()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(dir, "started"))
	waitState(t, s, svc.Running)
	if _, err := s.Control(svc.Stop); err != nil && !strings.Contains(err.Error(), "not") {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(dir, "stopped"))
	waitState(t, s, svc.Stopped)
}

func waitState(t *testing.T, s *mgr.Service, want svc.State) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := s.Query()
		if err == nil && st.State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("service state %v (%v), want %v", st.State, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
