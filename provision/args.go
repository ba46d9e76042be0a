package provision

import (
	"fmt"
	"strings"

	"github.com/shirhq/shir/internal/exitcode"
)

// Invocation is what `shir install|uninstall|repair` was asked to do, parsed
// from msiexec-style arguments (/q, /l*v file, NAME=VALUE), flags
// (--quiet, --log file, --name value), or a mix of both.
type Invocation struct {
	// MSIStyle is true when any msiexec form (a /switch or NAME=VALUE) was
	// used: the caller then exits with Windows Installer codes.
	MSIStyle   bool
	Quiet      bool
	LogFile    string
	LogVerbose bool
	NoRestart  bool
	DryRun     bool
	Root       string // install everything under this directory (tests, quickstart)
	NoService  bool   // do not register OS services (a plain user install)
	Purge      bool   // uninstall: also remove state (identity, credentials)
	Help       bool
	Props      PropertySet
}

// ParseArgs parses installer arguments. Every error wraps exitcode.ErrUsage,
// names the argument and never repeats a secret.
func ParseArgs(args []string) (Invocation, error) {
	inv := Invocation{Props: PropertySet{}}
	usage := func(format string, a ...any) (Invocation, error) {
		return Invocation{}, fmt.Errorf("%w: %s", exitcode.ErrUsage, fmt.Sprintf(format, a...))
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		next := func() (string, bool) {
			if i+1 >= len(args) {
				return "", false
			}
			i++
			return args[i], true
		}
		switch {
		case arg == "/?" || arg == "-?" || arg == "-h" || arg == "--help" || strings.EqualFold(arg, "/help"):
			inv.Help = true
		case strings.HasPrefix(arg, "/"):
			inv.MSIStyle = true
			sw := strings.ToLower(arg[1:])
			switch {
			case sw == "q" || sw == "qn" || sw == "quiet" || sw == "qb" || sw == "qb-" || sw == "passive":
				inv.Quiet = true
			case sw == "norestart":
				inv.NoRestart = true
			case sw == "log" || isLogSwitch(sw):
				f, ok := next()
				if !ok {
					return usage("%s needs a log file name", arg)
				}
				inv.LogFile, inv.LogVerbose = f, strings.Contains(sw, "v") || strings.Contains(sw, "*")
			default:
				return usage("unknown switch %s (known: /q, /qn, /quiet, /passive, /norestart, /l*v FILE, /log FILE)", arg)
			}
		case strings.HasPrefix(arg, "-"):
			name, val, hasVal := strings.Cut(strings.TrimLeft(arg, "-"), "=")
			flag := strings.ToLower(name)
			switch flag {
			case "q", "quiet":
				inv.Quiet = true
			case "dry-run":
				inv.DryRun = true
			case "no-service":
				inv.NoService = true
			case "purge":
				inv.Purge = true
			case "log", "root":
				if !hasVal {
					if val, hasVal = next(); !hasVal {
						return usage("--%s needs a value", flag)
					}
				}
				if flag == "log" {
					inv.LogFile, inv.LogVerbose = val, true
				} else {
					inv.Root = val
				}
			default:
				p, ok := LookupProperty(strings.ReplaceAll(flag, "-", ""))
				if !ok {
					return usage("unknown flag %s", arg)
				}
				if !hasVal {
					if p.Bool {
						val = "1"
					} else if val, hasVal = next(); !hasVal {
						return usage("--%s needs a value", flag)
					}
				}
				if err := inv.Props.Set(p.Name, val); err != nil {
					return Invocation{}, err
				}
			}
		case strings.Contains(arg, "="):
			inv.MSIStyle = true
			name, val, _ := strings.Cut(arg, "=")
			if err := inv.Props.Set(name, val); err != nil {
				return Invocation{}, err
			}
		default:
			return usage("unexpected argument %q: properties are NAME=VALUE", redactArg(arg))
		}
	}
	return inv, nil
}

// isLogSwitch reports whether sw is an msiexec logging switch: l followed by
// logging-mode letters, e.g. l*v, lv, l*vx, l+.
func isLogSwitch(sw string) bool {
	if !strings.HasPrefix(sw, "l") {
		return false
	}
	for _, r := range sw[1:] {
		if !strings.ContainsRune("iwearucmopvx+!*", r) {
			return false
		}
	}
	return true
}

// redactArg hides anything that looks like an authentication key.
func redactArg(s string) string {
	if strings.HasPrefix(strings.ToUpper(s), "SHIR@") || len(s) > 64 {
		return "<redacted>"
	}
	return s
}
