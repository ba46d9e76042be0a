// Package api holds the wire types shared by the agent and the control plane:
// requests and responses of the versioned HTTP/JSON API, its paths, its error
// format and the certificate pinning both sides agree on. It imports nothing
// else of shir (only the standard library), so both sides can depend on it.
//
// # Version
//
// Every path starts with /v1 (Version). A change that an older peer would
// misread gets a new prefix; adding an optional JSON field does not. Servers
// reject unknown JSON fields in requests, so a newer agent that sends a new
// field to an older server gets a 400 naming the field.
//
// # Transport and authentication
//
// HTTPS. When the control plane's certificate is self-signed, the
// authentication key ends in "@ca=sha256:<hex>", the SHA-256 of the DER
// encoding of the server's leaf certificate; PinnedTLSConfig verifies exactly
// that (names and chains are then not checked, as with kubeadm's CA pin).
//
// Every request except registration carries "Authorization: Bearer <token>":
// the admin token (file admin.token in the server's data dir) on admin
// endpoints, the node token returned by registration on node endpoints. A
// missing, wrong or revoked token is 401 with a problem body that does not say
// which part was wrong. Registration is authenticated by the key's secret in
// the request body (never in a URL or header that proxies log).
//
// # Node endpoints (node token)
//
//	POST PathRegister        RegisterRequest  -> 200 RegisterResponse      (no bearer; key secret in the body)
//	POST PathHeartbeat       HeartbeatRequest -> 200 HeartbeatResponse
//	POST PathLease           LeaseRequest     -> 200 LeaseResponse         (long poll: waits up to WaitSeconds <= 30 for a job)
//	POST JobPath(id, "renew")    RenewRequest    -> 200 RenewResponse
//	POST JobPath(id, "progress") ProgressRequest -> 200 RenewResponse      (also renews the lease)
//	POST JobPath(id, "result")   ResultRequest   -> 200 Job
//
// Registration errors: 401 ProblemUnauthorized (unknown runtime or wrong or
// regenerated key: the body does not say which), 409 ProblemRuntimeFull, 409
// ProblemNodeNameTaken, 429 ProblemRateLimited (Retry-After set). The agent
// maps 401/403/409 on registration to exitcode.ErrRegistration. Registering
// the same MachineID again returns the same NodeID with a new NodeToken (the
// old token stops working). A removed node's token gets 401.
//
// Lease: a node gets at most Concurrency - (jobs it holds) jobs; an empty
// Jobs list after the wait means "poll again". Each lease is identified by
// (job ID, Attempt); renew, progress and result must send the Attempt they
// got. A lease not renewed within LeaseSeconds expires and the job is queued
// again (or dead-lettered after MaxAttempts). 409 ProblemLeaseLost means
// the lease is no longer this node's: stop the job and drop its result.
// RenewResponse.Cancel asks the node to stop a job cancelled by an admin,
// and to report it with ResultRequest{Outcome: "cancelled"}.
//
// # Admin endpoints (admin token)
//
//	GET    PathRuntimes                          -> 200 RuntimeList
//	POST   PathRuntimes        CreateRuntimeRequest -> 201 Runtime
//	GET    RuntimePath(rt)                       -> 200 Runtime (with Nodes)
//	PATCH  RuntimePath(rt)     UpdateRuntimeRequest -> 200 Runtime
//	DELETE RuntimePath(rt)                       -> 204
//	GET    RuntimePath(rt, "keys")               -> 200 Keys
//	POST   RuntimePath(rt, "keys", "key1"|"key2", "regenerate") -> 200 Keys
//	DELETE RuntimePath(rt, "nodes", node)        -> 204
//	PUT    RuntimePath(rt, "nodes", node, "concurrency") SetConcurrencyRequest -> 200 Node
//	GET    PathJobs?runtime=&state=&limit=       -> 200 JobList (newest first)
//	POST   PathJobs            SubmitJobRequest  -> 201 Job
//	GET    JobPath(id)                           -> 200 Job
//	POST   JobPath(id, "cancel")                 -> 200 Job
//
// rt and node are an ID or a name. Errors are RFC 9457 problem documents
// (Content-Type application/problem+json, type Problem) with a 4xx or 5xx
// status; validation errors name the field in Problem.Field.
package api
