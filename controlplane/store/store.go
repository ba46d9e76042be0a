// Package store is the control plane's persistence contract: runtimes with
// their two key secrets, nodes (token stored only as a hash), and the job
// queue with leases. Store is the interface; sqlitestore implements it on
// SQLite (the default), and a PostgreSQL store can follow behind the same
// interface. storetest is the conformance suite every implementation runs.
//
// Every method that writes does so in one transaction and returns only
// after the commit, so an acknowledged write survives a crash of the
// process. Timestamps are stored with millisecond precision.
//
// The lease rules live here (inside the transaction) so that they hold with
// several server processes on one database: a node never holds more than its
// limit, a job is leased to one node at a time, and a lease is identified by
// (job ID, attempt).
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Errors the store returns (wrapped); the server maps them to HTTP problems.
var (
	ErrNotFound     = errors.New("not found")
	ErrExists       = errors.New("already exists")
	ErrRuntimeFull  = errors.New("runtime has its maximum number of nodes")
	ErrNodeNameUsed = errors.New("node name is taken by another machine")
	ErrLeaseLost    = errors.New("lease is not held by this node")
	ErrFinal        = errors.New("job is already finished")
)

// Runtime is a stored runtime.
type Runtime struct {
	ID, Name, Description string
	MaxNodes              int
	// Key1 and Key2 are the secrets of the two authentication keys.
	Key1, Key2        string
	DesiredVersion    string
	VersionConstraint string
	AutoUpdate        *bool
	CreatedAt         time.Time
}

// Node is a stored node.
type Node struct {
	ID, RuntimeID, Name string
	MachineID           string
	Machine             json.RawMessage // api.MachineFacts as JSON
	TokenHash           string          // hex SHA-256 of the node token
	Version             string
	Concurrency         int // admin setting, 0 = none
	ReportedConcurrency int
	RegisteredAt        time.Time
	LastSeen            time.Time       // zero: never heartbeated
	Metrics             json.RawMessage // api.Metrics as JSON, may be nil
	Update              json.RawMessage // api.UpdateStatus as JSON, may be nil
	RemoteAccess        string
}

// Registration is the input of Register.
type Registration struct {
	RuntimeID string
	NewNodeID string // used when the machine is not yet a node
	Name      string
	MachineID string
	Machine   json.RawMessage
	TokenHash string
	Version   string
	Now       time.Time
}

// Heartbeat is one node's latest heartbeat, saved in batches.
type Heartbeat struct {
	NodeID              string
	LastSeen            time.Time
	Version             string
	ReportedConcurrency int
	Metrics             json.RawMessage
	Update              json.RawMessage
	RemoteAccess        string
}

// Job is a stored job. State is one of the api.Job* states.
type Job struct {
	ID, RuntimeID, Kind string
	Spec                json.RawMessage
	State               string
	Attempts            int
	MaxAttempts         int
	LeaseSeconds        int
	NodeID              string
	LeaseExpiresAt      time.Time
	CancelRequested     bool
	Progress            float64
	ProgressMessage     string
	ProgressBytes       int64
	Error               string
	Output              json.RawMessage
	CreatedAt           time.Time
	StartedAt           time.Time
	FinishedAt          time.Time
}

// JobFilter selects jobs for ListJobs; empty fields match everything.
type JobFilter struct {
	RuntimeID string
	State     string
	NodeID    string
	Limit     int // 0: 100
}

// LeaseRequest is the input of Lease.
type LeaseRequest struct {
	NodeID, RuntimeID string
	Limit             int // the node's concurrency limit
	Max               int // most jobs to take now
	Now               time.Time
}

// Result is a node's report of a finished attempt.
type Result struct {
	JobID, NodeID string
	Attempt       int
	Outcome       string // api.Outcome*
	Retryable     bool
	Error         string
	Output        json.RawMessage
	Now           time.Time
}

// Progress is a node's progress report (it renews the lease too).
type Progress struct {
	JobID, NodeID string
	Attempt       int
	Percent       float64
	Message       string
	Bytes         int64
	Now           time.Time
}

// Store is the control plane's persistence.
type Store interface {
	CreateRuntime(ctx context.Context, rt Runtime) error // ErrExists if the name is taken
	Runtime(ctx context.Context, idOrName string) (Runtime, error)
	Runtimes(ctx context.Context) ([]Runtime, error)
	UpdateRuntime(ctx context.Context, rt Runtime) error
	// DeleteRuntime deletes the runtime, its nodes and its jobs.
	DeleteRuntime(ctx context.Context, id string) error
	// SetKey replaces key 1 or 2's secret.
	SetKey(ctx context.Context, runtimeID string, slot int, secret string) error

	// Register adds the node, or when MachineID is already a node of the
	// runtime, replaces its token, name, facts and version (reregistered).
	// ErrRuntimeFull, ErrNodeNameUsed.
	Register(ctx context.Context, r Registration) (n Node, reregistered bool, err error)
	Nodes(ctx context.Context, runtimeID string) ([]Node, error) // "" = all
	// DeleteNode removes the node and queues its leased jobs again.
	DeleteNode(ctx context.Context, id string, now time.Time) (requeued []Job, err error)
	SetConcurrency(ctx context.Context, nodeID string, n int) error
	SaveHeartbeats(ctx context.Context, hbs []Heartbeat) error

	CreateJob(ctx context.Context, j Job) (Job, error)
	Job(ctx context.Context, id string) (Job, error)
	Jobs(ctx context.Context, f JobFilter) ([]Job, error) // newest first
	// Lease leases up to min(Max, Limit - held) queued jobs of the runtime
	// to the node, oldest first, incrementing their attempts. drained
	// reports that the node had a free slot left over: the runtime's
	// queue was empty when the transaction ended.
	Lease(ctx context.Context, r LeaseRequest) (jobs []Job, drained bool, err error)
	// Renew extends a lease held by (node, attempt). ErrLeaseLost.
	Renew(ctx context.Context, jobID, nodeID string, attempt int, now time.Time) (Job, error)
	ReportProgress(ctx context.Context, p Progress) (Job, error)
	Finish(ctx context.Context, r Result) (Job, error)
	// Cancel cancels a queued job at once, or asks the node holding a
	// leased job to stop it. ErrFinal when it has already finished.
	Cancel(ctx context.Context, id string, now time.Time) (Job, error)
	// ExpireLeases queues (or dead-letters, or cancels) jobs whose lease
	// ended before now.
	ExpireLeases(ctx context.Context, now time.Time) ([]Job, error)
	// RequeueNode releases every lease the node holds (it went offline).
	RequeueNode(ctx context.Context, nodeID string, now time.Time) ([]Job, error)

	Close() error
}
