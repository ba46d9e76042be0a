package agent

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/updater"
)

// The agent is the updater's link to the control plane (DESIGN.md: agent
// imports updater for reporting only). Each heartbeat carries the outcome of
// the last update attempt (updater's last-update.json) and each reply's
// update settings (auto-update on/off, a pinned version) are written to
// update-policy.json, which the upgrade service reads before every run.

// lastUpdateFile is where updater.FileReporter writes its report.
const lastUpdateFile = "last-update.json"

// updateStatus reads the updater's files in stateDir into the heartbeat's
// UpdateStatus.
func updateStatus(stateDir string) api.UpdateStatus {
	st := api.UpdateStatus{State: api.UpdateIdle}
	if b, err := os.ReadFile(filepath.Join(stateDir, lastUpdateFile)); err == nil {
		var r updater.Report
		if json.Unmarshal(b, &r) == nil {
			st.TargetVersion, st.Message, st.LastCheck = r.To, r.Error, r.Time
			switch r.Outcome {
			case updater.OutcomeRolledBack:
				st.State = api.UpdateRolledBack
			case updater.OutcomeFailed:
				st.State = api.UpdateFailed
			}
		}
	}
	if cp, err := updater.LoadControlPolicy(filepath.Join(stateDir, updater.PolicyFileName)); err == nil && cp.AutoUpdate != nil && !*cp.AutoUpdate {
		st.State = api.UpdateDisabled
	}
	return st
}

// syncUpdatePolicy writes the control plane's update settings for the
// upgrade service. A reply without an auto-update setting keeps the local one
// (dmgcmd -tonau/-toffau). It reports whether the file changed.
func syncUpdatePolicy(stateDir string, resp api.HeartbeatResponse) (bool, error) {
	path := filepath.Join(stateDir, updater.PolicyFileName)
	cp, err := updater.LoadControlPolicy(path)
	if err != nil && !os.IsNotExist(err) {
		cp = updater.ControlPolicy{}
	}
	next := cp
	if resp.AutoUpdate != nil {
		v := *resp.AutoUpdate
		next.AutoUpdate = &v
	}
	next.PinnedVersion = resp.DesiredVersion
	if next.PinnedVersion == cp.PinnedVersion && boolEq(next.AutoUpdate, cp.AutoUpdate) {
		return false, nil
	}
	return true, updater.WriteControlPolicy(path, next)
}

func boolEq(a, b *bool) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}
