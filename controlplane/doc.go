// Package controlplane owns `shir server`: the HTTP/JSON API under /v1,
// runtimes and their two authentication keys, node registration (at most
// maxNodes per runtime), heartbeats and node/runtime status, and the job
// queue with leases, on a store.Store (SQLite by default, sqlitestore).
//
// # Use from Go (shir quickstart, tests)
//
//	srv, err := controlplane.New(controlplane.Options{DataDir: dir})
//	ln, _ := net.Listen("tcp", "127.0.0.1:0")
//	go srv.Serve(ctx, ln)                       // TLS; returns when ctx ends
//	admin, _ := client.New(srv.ClientConfig(ln.Addr().String()))
//	rt, _ := admin.CreateRuntime(ctx, api.CreateRuntimeRequest{Name: "demo"})
//	keys, _ := admin.Keys(ctx, "demo")          // keys.Key1 for `shir install AUTHKEY=...`
//	defer srv.Close()
//
// # Data directory
//
// shir.db (SQLite, WAL, 0600), tls.crt + tls.key (self-signed ECDSA P-256,
// ten years, created on first start unless a certificate is given; the key
// is 0600) and admin.token (0600). Keys carry the certificate's SHA-256 as
// @ca=sha256:<hex> so that nodes pin it. The directory is created 0700; on
// Windows these modes only set the read-only bit, and the directory's ACL is
// inherited (tightening it is left to the installer).
//
// # Decisions
//
//   - Durability: registrations, keys, runtimes, jobs, leases and results are
//     committed before the reply (kill -9 loses none; crash_test.go). Heartbeat
//     figures live in memory and are written in batches every FlushInterval
//     (5 s): a crash loses at most that much of last-seen times and metrics,
//     which the next heartbeat restores.
//   - Node tokens are random 256-bit values stored as SHA-256 hashes; the
//     server authenticates nodes from an in-memory map of hashes. Key secrets
//     are stored as they are (admins can print them again, as in Azure Data
//     Factory), in the 0600 database.
//   - Status: a node is Online while it heartbeated within three intervals;
//     when it goes Offline its leases are released (job queued again, or dead
//     when its attempts are used up). A runtime is NeedsRegistration (no
//     nodes), Online (all online), Limited (some) or Offline (none). Nodes
//     cannot yet report that they cannot reach each other, so Limited means
//     "some nodes offline".
//   - Leases: a long poll (up to 30 s) waits on a per-runtime channel that
//     submits, requeues, results and concurrency changes close; while a
//     runtime's queue is known to be empty, polls do not touch the database.
//     A lease is (job, attempt); a node's stale attempt gets 409 lease-lost.
//   - Concurrency: the admin's per-node setting wins; else the node's
//     reported default (heartbeat), else its CPU count.
//   - One server process per database: runtimes and nodes are cached in
//     memory. A PostgreSQL store for several replicas (a later issue) needs
//     these caches to read through or be invalidated.
package controlplane
