package agent_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/controlplane"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
	"github.com/shirhq/shir/internal/nodeconfig"
)

// TestShirProcesses runs the real binary twice: `shir server` and
// `shir agent run --root DIR` as separate processes on 127.0.0.1. The node
// registers, takes a copy job, and stops cleanly on SIGTERM (exit 0),
// without the token or the key secret in its log.
func TestShirProcesses(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the go tool is not available inside the Windows test binary; the Linux run covers the processes")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "shir")
	build := exec.Command("go", "build", "-o", bin, "../cmd/shir")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	data := filepath.Join(dir, "cp")
	srv := exec.Command(bin, "server", "--data", data, "--listen", addr, "--no-client-config", "--heartbeat-interval", "1s", "--log-level", "warn")
	stdout, _ := srv.StdoutPipe()
	srv.Stderr = t.Output()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.Contains(sc.Text(), "control plane listening") {
	}
	go func() {
		for sc.Scan() {
		}
	}()
	_, err := os.ReadFile(filepath.Join(data, controlplane.CertFile))
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := os.ReadFile(filepath.Join(data, controlplane.AdminTokenFile))
	cfg, err := client.Resolve("https://"+addr, filepath.Join(data, controlplane.AdminTokenFile), "", func(string) string { return "" }, filepath.Join(dir, "none.json"))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := admin.CreateRuntime(t.Context(), api.CreateRuntimeRequest{Name: "procs"})
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := admin.Keys(t.Context(), rt.ID)
	k, err := register.ReadKey(keys.Key1, nil)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "node")
	id, err := register.Register(t.Context(), register.Options{Key: k, NodeName: "proc-node", StateDir: nodeconfig.DefaultPaths(root).StateDir})
	if err != nil {
		t.Fatal(err)
	}

	var agentLog bytes.Buffer
	ag := exec.Command(bin, "agent", "run", "--root", root)
	ag.Stderr = &agentLog
	if err := ag.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	t.Cleanup(func() {
		if !exited {
			ag.Process.Kill()
			ag.Wait()
		}
	})
	src := filepath.Join(dir, "src")
	os.WriteFile(src, []byte("via processes"), 0o644)
	sink := filepath.Join(dir, "sink")
	spec, _ := json.Marshal(api.CopySpec{Source: src, Sink: sink})
	j, err := admin.SubmitJob(t.Context(), api.SubmitJobRequest{Runtime: "procs", Kind: api.KindCopy, Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := admin.Job(t.Context(), j.ID)
		if err == nil && got.State == api.JobSucceeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %+v %v\nagent log:\n%s", got, err, agentLog.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if b, _ := os.ReadFile(sink); string(b) != "via processes" {
		t.Fatalf("sink %q", b)
	}
	if err := ag.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = ag.Wait()
	exited = true
	if err != nil {
		t.Fatalf("agent exit after SIGTERM: %v\n%s", err, agentLog.String())
	}
	logText := agentLog.String()
	if !strings.Contains(logText, "host service stopped") || strings.Contains(logText, id.Token) || strings.Contains(logText, k.Secret) || strings.Contains(logText, strings.TrimSpace(string(tok))) {
		t.Fatalf("agent log missing the stop line or leaking a secret:\n%s", logText)
	}
}
