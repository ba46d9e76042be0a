// Package agent owns the host service body (`shir agent run`): it loads the
// node config (internal/nodeconfig) and the sealed node identity
// (agent/register), heartbeats with gopsutil metrics, leases and runs jobs
// within its concurrency limit, keeps linked-service credentials encrypted
// (internal/credstore), and sends all HTTP traffic through the configured
// proxy (internal/netproxy).
//
// # Connection
//
// Heartbeats go out every interval the control plane names (default 15 s)
// with ±10% jitter. A failed call waits an exponential backoff with jitter
// (1 s doubling to 2 min) and tries again, for ever: a control-plane
// restart or a network outage only delays the node. A 401 (the node was
// removed, or registered again elsewhere) stops the service with an error.
// After each acknowledged heartbeat the host writes health.json in the state
// directory, the updater's health contract ({"version","pid","time"}, see
// package updater).
//
// # Jobs
//
// The lease loop long-polls (api.MaxLeaseWait) for as many jobs as there are
// free slots. The limit starts from shir.toml concurrency, or a default from
// cores and memory (DefaultConcurrency), and follows the control plane's
// heartbeat reply while jobs run. Each job renews its lease every third of
// the lease time (as progress when a copy moved bytes); a renew reply with
// Cancel stops the job and reports it cancelled; a lost lease (409) stops it
// and drops its result. Results are written to the state directory
// (results/<job>-<attempt>.json, 0600) before they are sent and removed only
// when the control plane acknowledges them, so neither a restart nor an
// outage loses one.
//
// Kinds: copy (a file, file:// or http(s) source to a file sink; streamed
// through SHA-256, checked against spec.sha256 when given, written to a
// temporary file next to the sink and renamed, so the sink never holds a
// partial file; spec.credential names a stored credential used as HTTP basic
// auth), testconnection (tcp connect, tls handshake against system roots,
// http GET through the proxy), exec (only commands listed, by absolute path,
// in shir.toml exec.allow; no shell; off when the list is empty).
//
// # Shutdown
//
// When ctx ends the node takes no new jobs, gives running ones
// shutdown_timeout (default 30 s) to finish, then cancels the rest and hands
// them back (outcome "released": queued again, the attempt does not count), and
// tries for 5 s to deliver pending results; what is left is sent on the next
// start.
package agent
