package fleet

import (
	"fmt"
	"strings"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/prereq"
)

// Action is what apply does to a host.
type Action string

// Actions, in the words of `shir fleet plan`.
const (
	ActionInstall Action = "install" // no shir on the host, or an install that did not finish (resume)
	ActionUpgrade Action = "upgrade" // another shir binary is installed: repair with the new one
	ActionRekey   Action = "re-key"  // installed, but the runtime has no node by this name: repair with the key
	ActionRepair  Action = "repair"  // installed and registered, but the node is not Online
	ActionNothing Action = "nothing" // same binary, registered, Online
	ActionUnknown Action = "unknown" // the host could not be inspected (Error says why)
)

// Observed is what a probe found on a host and in the control plane. It is
// the input of Decide.
type Observed struct {
	OS, Arch         string // of the host (uname / PROCESSOR_ARCHITECTURE), Go names
	InstalledSHA256  string // of the installed shir binary; "" when absent
	InstalledVersion string // `shir version --short` of the installed binary
	Journal          bool   // an install journal exists
	JournalCompleted bool   // and says the install completed
	CandidateSHA256  string // of the binary apply would copy
	Node             *api.Node
	Check            *prereq.Results // `shir check --json` on the host; nil when not run
	CheckNote        string          // why Check is nil, or what was odd about it
}

// Decide is the pure decision of plan and apply.
func Decide(o Observed) (Action, string) {
	switch {
	case o.InstalledSHA256 == "" && !o.Journal:
		return ActionInstall, "shir is not installed"
	case o.Journal && !o.JournalCompleted:
		return ActionInstall, "an earlier install did not finish: resume it"
	case o.InstalledSHA256 == "":
		return ActionInstall, "the install journal exists but the binary is missing"
	case o.InstalledSHA256 != o.CandidateSHA256:
		from := o.InstalledVersion
		if from == "" {
			from = "sha256 " + short(o.InstalledSHA256)
		}
		return ActionUpgrade, fmt.Sprintf("installed %s differs from the binary to roll out (sha256 %s)", from, short(o.CandidateSHA256))
	case o.Node == nil:
		return ActionRekey, "installed, but the runtime has no node of this name: register it with the key"
	case o.Node.Status != api.StatusOnline:
		return ActionRepair, fmt.Sprintf("registered, but the node is %s", o.Node.Status)
	}
	return ActionNothing, fmt.Sprintf("version %s, node %s Online", o.InstalledVersion, o.Node.Name)
}

// Problems lists the failed and unknown prerequisite checks ("id: message"),
// errors first, with "(ignored)" for demoted ones.
func Problems(r *prereq.Results) (errs, warns []string) {
	if r == nil {
		return nil, nil
	}
	for _, c := range r.Checks {
		if c.Status != prereq.StatusFailed && c.Status != prereq.StatusUnknown {
			continue
		}
		line := c.ID + ": " + oneLine(c.Message)
		if c.Ignored {
			line += " (ignored)"
		}
		if c.Severity == prereq.SeverityError {
			errs = append(errs, line)
		} else {
			warns = append(warns, line)
		}
	}
	return errs, warns
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// Waves splits hosts into waves: the canary wave first, then waves of
// spec.Size (all the rest when Size is not set). Order is kept.
func Waves(hosts []Host, spec WaveSpec) [][]Host {
	if len(hosts) == 0 {
		return nil
	}
	canary := spec.Canary.Of(len(hosts))
	if !spec.Canary.set {
		canary = 1
	}
	var waves [][]Host
	if canary > 0 {
		waves = append(waves, hosts[:canary])
	}
	rest := hosts[canary:]
	size := len(rest)
	if spec.Size.set {
		size = max(1, spec.Size.Of(len(hosts)))
	}
	for len(rest) > 0 {
		n := min(size, len(rest))
		waves = append(waves, rest[:n])
		rest = rest[n:]
	}
	return waves
}
