package provision

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/internal/nodeconfig"
)

// DmgAction is one action of the dmgcmd tool, with the argument forms of the
// original (long and short names, case-insensitive, a leading - or /).
type DmgAction struct {
	Long, Short string
	Args        []string // names of the arguments; a leading '?' marks an optional one
	SecretArgs  []int    // indexes of arguments that are secrets
	Help        string
}

// DmgActions is the dmgcmd action table.
var DmgActions = []DmgAction{
	{"RegisterNewNode", "rn", []string{"AuthenticationKey", "?NodeName"}, []int{0}, "Register this machine as a node of the runtime the key belongs to."},
	{"EnableRemoteAccess", "era", []string{"port", "?thumbprint|certFile"}, nil, "Enable remote access (credential sync between the runtime's nodes, TLS) on port, with the certificate of a SHA-1 thumbprint in LocalMachine\\My (Windows only) or an absolute PEM file path with certificate and key (Windows and Linux); none: a self-signed certificate. Checked before anything changes."},
	{"EnableRemoteAccessInContainer", "erac", []string{"port", "?thumbprint|certFile"}, nil, "Enable remote access when the node runs in a container (the firewall is not touched; publish the port)."},
	{"DisableRemoteAccess", "dra", nil, nil, "Disable remote access."},
	{"Key", "k", []string{"AuthenticationKey"}, []int{0}, "Overwrite or update the authentication key."},
	{"GenerateBackupFile", "gbf", []string{"filePath", "password"}, []int{1}, "Write a backup of the node (identity, credentials), encrypted with password."},
	{"ImportBackupFile", "ibf", []string{"filePath", "password"}, []int{1}, "Restore a node from a backup file."},
	{"Restart", "r", nil, nil, "Restart the host service."},
	{"Start", "s", nil, nil, "Start the host service."},
	{"Stop", "t", nil, nil, "Stop the host service."},
	{"StartUpgradeService", "sus", nil, nil, "Start the upgrade service."},
	{"StopUpgradeService", "tus", nil, nil, "Stop the upgrade service."},
	{"TurnOnAutoUpdate", "tonau", nil, nil, "Turn on automatic updates."},
	{"TurnOffAutoUpdate", "toffau", nil, nil, "Turn off automatic updates."},
	{"SwitchServiceAccount", "ssa", []string{`domain\user`, "?password"}, []int{1}, "Run the host service as another account."},
	{"Loglevel", "ll", []string{"logLevel"}, nil, "Set the log level: Off, Error, Warning, Info or Verbose."},
}

// DmgCommand is a parsed dmgcmd call.
type DmgCommand struct {
	Action DmgAction
	Args   []string
	Help   bool // -? / -help / no action
}

// String shows the call with secrets redacted.
func (c DmgCommand) String() string {
	parts := []string{"-" + c.Action.Long}
	for i, a := range c.Args {
		if c.isSecret(i) {
			a = "<redacted>"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func (c DmgCommand) isSecret(i int) bool {
	for _, s := range c.Action.SecretArgs {
		if s == i {
			return true
		}
	}
	return false
}

// LogLevels are the values -Loglevel accepts.
var LogLevels = []string{"Off", "Error", "Warning", "Info", "Verbose"}

// ParseDmgcmd parses dmgcmd arguments: one action and its arguments.
func ParseDmgcmd(args []string) (DmgCommand, error) {
	if len(args) == 0 {
		return DmgCommand{Help: true}, nil
	}
	name, ok := actionName(args[0])
	if !ok {
		return DmgCommand{}, fmt.Errorf("%w: %q is not an action: actions start with - or / (see dmgcmd -?)", exitcode.ErrUsage, redactArg(args[0]))
	}
	switch strings.ToLower(name) {
	case "?", "h", "help":
		return DmgCommand{Help: true}, nil
	}
	var act *DmgAction
	for i := range DmgActions {
		if strings.EqualFold(DmgActions[i].Long, name) || strings.EqualFold(DmgActions[i].Short, name) {
			act = &DmgActions[i]
		}
	}
	if act == nil {
		return DmgCommand{}, fmt.Errorf("%w: unknown action %q (see dmgcmd -?)", exitcode.ErrUsage, args[0])
	}
	rest := args[1:]
	required := 0
	for _, a := range act.Args {
		if !strings.HasPrefix(a, "?") {
			required++
		}
	}
	if len(rest) < required || len(rest) > len(act.Args) {
		return DmgCommand{}, fmt.Errorf("%w: -%s takes %s, got %d argument(s)", exitcode.ErrUsage, act.Long, argSpec(*act), len(rest))
	}
	cmd := DmgCommand{Action: *act, Args: rest}
	if strings.EqualFold(act.Long, "Loglevel") {
		lvl, ok := matchFold(LogLevels, rest[0])
		if !ok {
			return DmgCommand{}, fmt.Errorf("%w: -Loglevel: %q is not one of %s", exitcode.ErrUsage, rest[0], strings.Join(LogLevels, ", "))
		}
		cmd.Args[0] = lvl
	}
	if act.Short == "rn" && len(rest) == 2 {
		if err := checkNodeName(rest[1]); err != nil {
			return DmgCommand{}, fmt.Errorf("%w: -%s NodeName %q: %v", exitcode.ErrUsage, act.Long, rest[1], err)
		}
	}
	if len(act.Args) > 1 && act.Args[1] == "?thumbprint|certFile" && len(rest) == 2 {
		if !nodeconfig.IsThumbprint(rest[1]) && !filepath.IsAbs(rest[1]) {
			return DmgCommand{}, fmt.Errorf("%w: -%s thumbprint|certFile %q: must be a SHA-1 thumbprint (40 hex digits, a certificate in the Windows LocalMachine\\My store) or the absolute path of a PEM file with the certificate and its key",
				exitcode.ErrUsage, act.Long, rest[1])
		}
	}
	if strings.EqualFold(act.Short, "era") || strings.EqualFold(act.Short, "erac") {
		if err := checkPort(rest[0]); err != nil {
			return DmgCommand{}, fmt.Errorf("%w: -%s port %q: %v", exitcode.ErrUsage, act.Long, rest[0], err)
		}
	}
	return cmd, nil
}

func actionName(s string) (string, bool) {
	if len(s) < 2 || (s[0] != '-' && s[0] != '/') {
		return "", false
	}
	return strings.TrimLeft(s, "-/"), true
}

func matchFold(list []string, s string) (string, bool) {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return v, true
		}
	}
	return "", false
}

func argSpec(a DmgAction) string {
	if len(a.Args) == 0 {
		return "no arguments"
	}
	var parts []string
	for _, n := range a.Args {
		if o, ok := strings.CutPrefix(n, "?"); ok {
			parts = append(parts, `["<`+o+`>"]`)
		} else {
			parts = append(parts, `"<`+n+`>"`)
		}
	}
	return strings.Join(parts, " ")
}

// DmgUsage is the help text of dmgcmd -?, in the original's style.
func DmgUsage() string {
	var b strings.Builder
	b.WriteString("Usage:\n  dmgcmd [ ")
	for i, a := range DmgActions {
		if i > 0 {
			b.WriteString("\n         | ")
		}
		fmt.Fprintf(&b, "-%s", a.Long)
		if len(a.Args) > 0 {
			b.WriteString(" " + argSpec(a))
		}
	}
	b.WriteString(" ]\n\nActions (case-insensitive; - or /; long or short name):\n")
	for _, a := range DmgActions {
		fmt.Fprintf(&b, "  -%-31s -%-7s %s\n", a.Long, a.Short, a.Help)
	}
	b.WriteString("  -?, -help                                 Show this help.\n")
	return b.String()
}
