package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/shirhq/shir/controlplane"
	"github.com/shirhq/shir/controlplane/cptest"
)

// BenchmarkInstallToHeartbeat measures `shir install` in a --root sandbox,
// as a process, from start to exit: prerequisite checks, layout, config,
// registration with a local control plane, start of the host process and its
// first acknowledged heartbeat. Each iteration also uninstalls (not timed).
//
//	go test -run '^$' -bench InstallToHeartbeat -benchtime 20x ./cmd/shir
func BenchmarkInstallToHeartbeat(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("linux only")
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "shir")
	out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput()
	if err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	cp := cptest.Start(b, controlplane.Options{})
	_, keys := cp.Runtime(b, "bench", 10000)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		root := filepath.Join(dir, fmt.Sprintf("n%d", i))
		cmd := exec.Command(bin, "install", "/q", "--root", root, "--no-service", "AUTHKEY=-",
			fmt.Sprintf("NODENAME=n%d", i), "NOFIREWALL=1", "IGNOREPREREQ=all")
		cmd.Stdin = strings.NewReader(keys.Key1)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("install: %v\n%s", err, out)
		}
		b.StopTimer()
		if out, err := exec.Command(bin, "uninstall", "/q", "--root", root, "--no-service", "--purge").CombinedOutput(); err != nil {
			b.Fatalf("uninstall: %v\n%s", err, out)
		}
		b.StartTimer()
	}
}

// BenchmarkCheck measures `shir check --json` as a process.
func BenchmarkCheck(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("linux only")
	}
	bin := filepath.Join(b.TempDir(), "shir")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	b.ResetTimer()
	for b.Loop() {
		// exit 3 (a failed check on this machine) is a result, not an error
		_ = exec.Command(bin, "check", "--json", "--no-remote-access").Run()
	}
}
