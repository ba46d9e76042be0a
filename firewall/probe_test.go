package firewall

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestProbePort(t *testing.T) {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	l, err := ProbePort(port)
	if err != nil || !l.Listening {
		t.Fatalf("ProbePort(%d) with a listener = %+v, %v", port, l, err)
	}
	if runtime.GOOS == "linux" {
		self := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
		if l.PID != os.Getpid() || !strings.HasPrefix(self, l.Program) || l.Program == "" {
			t.Errorf("ProbePort named %q pid %d, want this test (%s, pid %d)", l.Program, l.PID, self, os.Getpid())
		}
	}
	ln.Close()
	if l, err := ProbePort(port); err != nil || l.Listening {
		t.Fatalf("ProbePort(%d) after close = %+v, %v", port, l, err)
	}
	if _, err := ProbePort(0); err == nil {
		t.Error("ProbePort(0) accepted")
	}
}
