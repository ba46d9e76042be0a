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
// # Remote access and credential sync
//
// The node's remote-access setting (nodeconfig.RemoteAccessFile in the state
// directory, written by `dmgcmd -era/-erac/-dra` or by an install with
// CERTFILE/CERTTHUMBPRINT) is watched while the agent runs (checked every
// Options.RemotePoll, default 500 ms): a change starts, moves or stops the
// listener without a service restart, so -dra closes the port at once. The
// listener is HTTPS on the port (all interfaces, TLS 1.2 or newer) with the
// certificate of package internal/nodecert: a PEM file, a Windows store
// certificate by thumbprint, or a self-signed one the node makes.
//
// Trust is pinned by the control plane, no CA: each heartbeat advertises
// host:port (shir.toml remote_access_host, else the local address of the
// connection to the control plane) and the SHA-256 fingerprint of the
// node's certificate; the reply lists the runtime's other nodes with theirs
// (api.Peer). The listener asks for a client certificate and accepts only
// one whose fingerprint belongs to a current peer (last heartbeat reply);
// as a client the node accepts only the server certificate whose
// fingerprint the peer advertises. Any other handshake is refused and
// logged with the fingerprint (never a secret). Peers talk directly, never
// through the HTTP proxy.
//
// Sync is anti-entropy over one endpoint, PathCredentials: a node GETs a
// peer's whole set (tombstones and secrets included, only inside mTLS),
// merges it (credstore.Merge: last writer wins, deterministic tie-break),
// re-sealing with its own protector (DPAPI or AES-GCM), and POSTs its own
// set back when the peer lacks something newer. It syncs with every peer
// that advertises remote access and is not offline: when the peer list or a
// fingerprint changes, when the local credential file changes (a `shir agent
// credential put/delete`, a restore), and every Options.SyncInterval
// (default 2 min). Logs say which peer and how many credentials changed,
// never a secret. The fingerprints live in the control plane's memory
// only: after its restart they return with the next heartbeats.
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
