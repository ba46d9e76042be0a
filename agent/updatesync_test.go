package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/updater"
)

func TestUpdatePolicyAndStatus(t *testing.T) {
	dir := t.TempDir()
	if st := updateStatus(dir); st.State != api.UpdateIdle {
		t.Errorf("no files: %+v", st)
	}
	off := false
	// The control plane pins a version and turns auto-update off.
	changed, err := syncUpdatePolicy(dir, api.HeartbeatResponse{DesiredVersion: "1.4.2", AutoUpdate: &off})
	if err != nil || !changed {
		t.Fatalf("sync: %v %v", changed, err)
	}
	cp, err := updater.LoadControlPolicy(filepath.Join(dir, updater.PolicyFileName))
	if err != nil || cp.PinnedVersion != "1.4.2" || cp.AutoUpdate == nil || *cp.AutoUpdate {
		t.Fatalf("policy %+v %v", cp, err)
	}
	if st := updateStatus(dir); st.State != api.UpdateDisabled {
		t.Errorf("auto-update off: %+v", st)
	}
	// The same reply again changes nothing; no auto-update setting keeps the local one.
	if changed, _ := syncUpdatePolicy(dir, api.HeartbeatResponse{DesiredVersion: "1.4.2", AutoUpdate: &off}); changed {
		t.Error("unchanged reply rewrote the policy")
	}
	if _, err := syncUpdatePolicy(dir, api.HeartbeatResponse{}); err != nil {
		t.Fatal(err)
	}
	cp, _ = updater.LoadControlPolicy(filepath.Join(dir, updater.PolicyFileName))
	if cp.AutoUpdate == nil || *cp.AutoUpdate || cp.PinnedVersion != "" {
		t.Errorf("after an empty reply: %+v", cp)
	}

	// The updater's report of a rollback reaches the heartbeat.
	if err := os.Remove(filepath.Join(dir, updater.PolicyFileName)); err != nil {
		t.Fatal(err)
	}
	rep := updater.FileReporter{Path: filepath.Join(dir, lastUpdateFile)}
	if err := rep.Report(context.Background(), updater.Report{From: "1.0.0", To: "1.1.0", Outcome: updater.OutcomeRolledBack, Error: "no healthy heartbeat", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	st := updateStatus(dir)
	if st.State != api.UpdateRolledBack || st.TargetVersion != "1.1.0" || st.Message != "no healthy heartbeat" {
		t.Errorf("status %+v", st)
	}
}
