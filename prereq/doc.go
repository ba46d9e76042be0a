// Package prereq owns the prerequisite checks that `shir check` prints and the
// installer runs before it changes anything.
//
// # Model (kubeadm preflight, extended)
//
// A check is a small named value that implements Checker: a stable lowercase
// ID and Check(ctx), which returns a Verdict (status, severity, message, fix
// hint). Its probes (registry, files, commands, gopsutil) are fields, usually
// one-method interfaces or funcs, so the logic is tested with fakes and the
// real adapters (internal/platform/...) are tested on their own, under Wine
// for Windows. Building the list (Default) is separate from running it (Run),
// as in kubeadm's RunChecks; unlike kubeadm a check returns one Verdict with a
// fix hint instead of (warnings, errors []error), because `shir check` prints a
// table and JSON with a fix per row, and because "could not determine" is a
// status of its own (StatusUnknown) that never passes silently.
//
// # API for the installer
//
//	checks := prereq.Default(prereq.Options{Port: 8060, NoRemoteAccess: noFirewall})
//	res, err := prereq.Run(ctx, checks, ignoreIDs) // IGNOREPREREQ=id,... or "all"
//	res.WriteTable(w)                                // or res.WriteJSON(w)
//	if err != nil { return err }                     // wraps exitcode.ErrPrereq (exit 3)
//
// Default builds the list for runtime.GOOS with the real probes. Run runs the
// checks concurrently (results keep the list order), recovers a panicking
// check into an unknown verdict, gives each check DefaultTimeout, and returns
// an error wrapping exitcode.ErrPrereq (ErrChecksFailed is the same value)
// when an error remains after the ignore list. An ignore id that no check on
// any OS has is a usage error (exitcode.ErrUsage), so that typos are caught;
// "all" demotes every error to a warning, as kubeadm's
// --ignore-preflight-errors=all does.
//
// # Statuses and severities
//
// A verdict's Status is ok, failed, unknown or skipped. Failed and unknown
// verdicts carry a Severity: error (the install stops unless the id is
// ignored) or warning (printed, the install goes on). A check decides the
// severity of each outcome: for example os-version fails with an error on an
// unsupported OS but only warns on an unknown newer one, and power reports
// "could not determine" as a warning where the power API is missing (Wine).
//
// # Checks
//
// Windows: os-version, os-arch, not-dc, dotnet-472, admin, power, fips, java,
// vcredist2010, cpu-cores, cpu-speed, memory, disk, single-instance,
// pbi-gateway, logon-right, port-free, clock-skew.
// Linux: os-version (os-release), os-arch, systemd, admin (root), power (sleep
// targets masked), fips (/proc/sys/crypto/fips_enabled), java, cpu-cores,
// cpu-speed, memory, disk, single-instance, port-free, clock-skew.
// KnownIDs lists them all.
//
// # JSON (schema 1)
//
// WriteJSON prints one object; fields are only ever added, and a change of
// meaning raises "schema":
//
//	{
//	  "schema": 1,                // format version
//	  "os": "linux", "arch": "amd64",
//	  "passed": false,            // true when no error remains
//	  "summary": {"ok": 9, "warnings": 3, "errors": 1, "skipped": 1},
//	  "checks": [{
//	    "id": "dotnet-472",
//	    "status": "failed",       // ok | failed | unknown | skipped
//	    "severity": "error",      // error | warning; "" for ok and skipped
//	    "ignored": false,         // true when --ignore demoted an error
//	    "message": "...",
//	    "fix": "..."              // "" when there is nothing to do
//	  }]
//	}
package prereq
