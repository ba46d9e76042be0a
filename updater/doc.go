// Package updater owns releases and self-update: signed manifests (minisign
// format) with a root-key to signing-key trust chain, sources (GitHub Releases,
// HTTPS feed, local folder), the update policy (channel, version constraint,
// no downgrade, expiry, maintenance window, staged rollout), applying with
// minio/selfupdate, and rolling back when the new version is not healthy.
//
// # Trust
//
// Root public keys are compiled in (RootKeys, replaceable with -ldflags -X;
// tests pass Trust.Roots). A root key signs keys.json, the list of signing
// keys with their revocations (KeyList); a signing key signs each release's
// manifest.json (Manifest) and each artifact (the manifest carries the
// artifact's minisign signature). All signatures are minisign's pre-hashed
// Ed25519 format, so `minisign -V` checks them, and private keys are
// minisign's scrypt-encrypted secret keys, so `minisign -S` signs with them.
//
// # Policy
//
// Decide is a pure function of the Policy, the Request (service or admin),
// the installed version, a verified Manifest, the State and the time. Every
// refusal wraps one sentinel of errors.go (ErrExpired, ErrDowngrade,
// ErrOutsideWindow, ErrNotInRollout, ...). Freeze and replay protection: the
// State (updater.json, written atomically) remembers the newest manifest
// published time per channel and the newest key list; older ones are
// refused. A signed manifest with "rollback": true may install an older
// version; being published later, it also freezes out the bad release.
// Admins (`shir update apply`) bypass auto-update-off and the rollout bucket,
// not the window (that needs --ignore-window) nor a control-plane pin.
//
// # Apply and health
//
// Updater.Apply downloads into the state directory (size limit, resumed with
// a Range request), checks size, SHA-256 and the artifact signature, and
// replaces the binary with selfupdate.Apply (Checksum and Verifier set, the
// old binary kept as .NAME.old next to it; on Windows the running exe is
// renamed aside). It then restarts the host (Host: kardianos/service in
// production, a child process in tests and --no-service sandboxes) and
// waits for the health contract of health.go: the host writes
// health.json {"version","pid","time"} after each acknowledged heartbeat.
// If it does not come within the timeout (or the host exits), the old binary
// is restored (the failed one kept as NAME.bad), the host restarted and
// waited for again, the version marked bad (never retried) and the outcome
// reported (Reporter; by default last-update.json for the agent to forward).
//
// The control plane and dmgcmd -toffau/-tonau steer a node through
// update-policy.json in the state directory (ControlPolicy: autoUpdate,
// pinnedVersion), which the agent writes and the updater reads before
// every check.
package updater
