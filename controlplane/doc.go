// Package controlplane owns `shir server`: the HTTP/JSON API under /v1,
// runtimes and their two authentication keys, node registration (at most
// maxNodes per runtime), heartbeats and node/runtime status, the job queue with
// leases, and the store (SQLite by default).
package controlplane
