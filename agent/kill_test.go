package agent_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/shirhq/shir/agent"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/internal/nodeconfig"
)

// TestMain doubles as the agent process of TestKilledNodeJobRequeued: with
// SHIR_AGENT_CHILD_ROOT set, the test binary runs the host service of that
// root until it is killed.
func TestMain(m *testing.M) {
	if root := os.Getenv("SHIR_AGENT_CHILD_ROOT"); root != "" {
		err := agent.Run(context.Background(), agent.Options{Root: root, LeaseWait: 2 * time.Second,
			Backoff: agent.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond}})
		fmt.Fprintln(os.Stderr, "child agent:", err)
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// TestKilledNodeJobRequeued (HA): node A runs as a separate process and is
// killed (SIGKILL, no shutdown) while it runs a job; the control plane
// requeues the job when the lease expires, and node B completes it.
func TestKilledNodeJobRequeued(t *testing.T) {
	c, rtID, key := setup(t)
	a := registerNode(t, c, key, "node-a")
	b := registerNode(t, c, key, "node-b")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SHIR_AGENT_CHILD_ROOT="+a.root)
	cmd.Stderr = t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	origin, open := gatedOrigin(t)
	sink := filepath.Join(t.TempDir(), "out")
	j := submit(t, c, rtID, api.KindCopy, api.CopySpec{Source: origin, Sink: sink})
	first := waitJob(t, c, j.ID, api.JobLeased)

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true
	open()
	<-b.start(t, nodeconfig.Config{})
	got := waitJob(t, c, j.ID, api.JobSucceeded, api.JobFailed, api.JobDead)
	if got.State != api.JobSucceeded || got.Attempts < 2 || got.NodeID == first.NodeID {
		t.Fatalf("job %+v: want succeeded by node B after A (%s) was killed", got, first.NodeID)
	}
	if b, _ := os.ReadFile(sink); string(b) != "payload" {
		t.Fatalf("sink %q", b)
	}
}
