// Package fleet owns `shir fleet plan|apply|cloud-init`: installing and
// upgrading many hosts over SSH in waves (canary first, stop after a failure
// budget), with host keys checked against known_hosts, and rendering cloud-init
// user data that installs and registers a node on first boot.
//
// # fleet.yaml
//
// docs/fleet.example.yaml is the annotated example (a test parses it). The
// top-level fields:
//
//	control_plane:  url (https), ca_sha256 (certificate pin, hex), admin_token_file
//	runtime:        the runtime's name or id
//	auth_key:       exactly one of file, env, control_plane (key1|key2);
//	                the key itself never goes in the file
//	known_hosts:    default ~/.ssh/known_hosts
//	binaries:       dir (shir_<os>_<arch>/shir[.exe]) and/or files {"os/arch": path}
//	defaults:       any host field except name, address and node_name
//	waves:          canary (count or "N%", default 1), size (count or "N%",
//	                default all the rest), max_parallel (5), pause ("30s"),
//	                max_failures (1), online_timeout ("2m")
//	hosts:          name, address, port (22), user, identity_file, agent,
//	                node_name (default name), os (linux|windows), sudo,
//	                root (sandbox: --root DIR --no-service), properties
//
// Parse rejects unknown fields, more than one YAML document, AUTHKEY,
// NODENAME and secret properties (PROXYPASSWORD, SERVICEPASSWORD) in
// properties, and every property the installer would refuse. Each error
// wraps exitcode.ErrUsage and names the host ("hosts[2] (db3): port: ...")
// and the field; all errors are reported at once.
//
// # Plan and apply
//
// For every host (max_parallel at a time) the runner connects, reads the
// architecture, the SHA-256 and version of the installed shir and the install
// journal, and asks the control plane for the runtime's nodes (ControlPlane,
// which the CLI implements with the admin client; this package never imports
// the control plane). Decide turns that into an Action:
//
//	install   no shir, or a journal of an install that did not finish (resume)
//	upgrade   the installed binary differs (by SHA-256) from the one to roll out
//	re-key    installed, but the runtime has no node of this name
//	repair    registered, but the node is not Online
//	nothing   same binary, registered, Online
//
// The binary is compared by SHA-256, not by version string: a rebuilt binary
// with the same version is still rolled out.
//
// Plan also runs `shir check --json` on every host, with the installed
// binary or, when there is none, a temporary copy that is removed again (the
// only thing plan writes). The check gets the options the install will use:
// --no-remote-access for NOFIREWALL=1, --port, --ignore from IGNOREPREREQ,
// plus admin and systemd on sandbox hosts and single-instance on installed
// hosts, as the installer's own prereq step does.
//
// Apply puts the hosts that need a change into waves (Waves: the canary
// wave, then waves of size) and for each host: makes a temp dir on the host,
// copies the binary for the host's OS/arch over SFTP, verifies its SHA-256
// on the host, runs that copy's `shir check --json` (a failed check fails
// the host before anything changes; no second copy is made), then `shir install /q AUTHKEY=- NODENAME=... PROPS...`
// (`repair` for upgrade, re-key and repair: it replaces the binary,
// registers with the key and restarts) with the key on stdin, removes the
// temp dir, and waits until the control plane reports the node Online. A
// host that cannot be inspected counts as failed. When max_failures hosts
// have failed, no new host is started (running ones finish) and the rest are
// reported as skipped. The installer's journal makes a re-run after a failure
// or a crash resume; a second apply finds every host "nothing". When the
// installer says another install holds the host's lock (1618), as the
// installer of an apply that was killed may still do for a moment, apply
// waits for it (polling, up to online_timeout) and then resumes.
//
// Linux hosts get POSIX sh commands (sudo -n when sudo is set); Windows
// hosts (OpenSSH for Windows) get PowerShell as -EncodedCommand, so that
// cmd.exe never parses the arguments, and SFTP paths in /C:/... form. The
// Windows command text is unit-tested; no test runs against a Windows sshd.
//
// # Host keys
//
// HostKeys checks every server key against known_hosts, as OpenSSH's
// StrictHostKeyChecking=yes; with AcceptNew (--accept-new) an unknown host is
// added to the file (like accept-new) and a changed key is still refused.
// The client asks only for the key types known_hosts has for the host, so a
// host known by its ed25519 key never looks changed because it offered RSA.
//
// # Secrets
//
// The key is read from auth_key at apply time, sent to each host over the
// SSH session's stdin, and scrubbed from every error and installer output
// in the report. The installer never prints it.
//
// # Cloud-init
//
// CloudInit renders (templates.RenderCloudInit / RenderWindowsInit) first
// boot user data: the key goes into a root-only file (0600 on /run, or an
// ACL for SYSTEM and Administrators on Windows), shir is downloaded and its
// SHA-256 checked, `shir install /q AUTHKEY=@file` runs, and the key file is
// deleted whatever the outcome.
package fleet
