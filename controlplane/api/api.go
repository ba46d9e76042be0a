package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Version is the API version; every path starts with "/" + Version.
const Version = "v1"

// Paths of the node endpoints.
const (
	PathRegister  = "/v1/register"
	PathHeartbeat = "/v1/node/heartbeat"
	PathLease     = "/v1/node/lease"
)

// Paths of the admin endpoints (see RuntimePath and JobPath for the rest).
const (
	PathRuntimes = "/v1/runtimes"
	PathJobs     = "/v1/jobs"
	// PathHealth answers 200 {"status":"ok"} without authentication.
	PathHealth = "/v1/health"
)

// RuntimePath returns /v1/runtimes/{runtime}[/elem...], escaping each element.
func RuntimePath(runtime string, elem ...string) string {
	return join(PathRuntimes, append([]string{runtime}, elem...))
}

// JobPath returns /v1/jobs/{id}[/elem...], escaping each element.
func JobPath(id string, elem ...string) string {
	return join(PathJobs, append([]string{id}, elem...))
}

func join(base string, elem []string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, e := range elem {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(e))
	}
	return b.String()
}

// Limits both sides agree on.
const (
	// MaxBodyBytes is the largest request body the server reads.
	MaxBodyBytes = 1 << 20
	// MaxSpecBytes is the largest job spec (JSON) a job may have.
	MaxSpecBytes = 64 << 10
	// MaxOutputBytes is the largest job output (JSON) a result may carry.
	MaxOutputBytes = 256 << 10
	// MaxLeaseWait is the longest a lease request may wait for a job.
	MaxLeaseWait = 30 * time.Second
	// DefaultHeartbeatInterval is how often nodes heartbeat unless the
	// server says otherwise; a node missing three intervals is offline.
	DefaultHeartbeatInterval = 15 * time.Second
	// DefaultLeaseDuration is how long a lease lasts without renewal.
	DefaultLeaseDuration = 60 * time.Second
	// DefaultMaxAttempts is how many leases a job gets before it is dead.
	DefaultMaxAttempts = 3
	// DefaultMaxNodes is the most nodes a runtime has unless configured.
	DefaultMaxNodes = 4
	// MaxMaxNodes is the largest maxNodes a runtime may be given.
	MaxMaxNodes = 10000
	// MaxConcurrency is the largest per-node concurrency limit.
	MaxConcurrency = 256
)

// Statuses of nodes and runtimes.
const (
	StatusOnline  = "Online"
	StatusLimited = "Limited" // runtime: some nodes offline
	StatusOffline = "Offline"
	// StatusNeedsRegistration: a runtime with no node yet.
	StatusNeedsRegistration = "NeedsRegistration"
)

// Job states. Queued and Leased are live; the others are final.
const (
	JobQueued    = "queued"
	JobLeased    = "leased"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
	JobDead      = "dead" // attempts exhausted (leases expired or retryable failures)
	JobCancelled = "cancelled"
)

// JobStates lists every job state.
var JobStates = []string{JobQueued, JobLeased, JobSucceeded, JobFailed, JobDead, JobCancelled}

// Built-in job kinds.
const (
	KindCopy           = "copy"
	KindTestConnection = "testconnection"
	KindExec           = "exec"
)

// JobKinds lists every built-in job kind.
var JobKinds = []string{KindCopy, KindTestConnection, KindExec}

// Update states a node reports about its auto-updater.
const (
	UpdateIdle        = "idle"
	UpdateChecking    = "checking"
	UpdateDownloading = "downloading"
	UpdateApplying    = "applying"
	UpdateRolledBack  = "rolledback"
	UpdateFailed      = "failed"
	UpdateDisabled    = "disabled"
)

// ---- registration ----

// MachineFacts describes the machine a node runs on.
type MachineFacts struct {
	// MachineID is stable for the machine (e.g. /etc/machine-id or the
	// Windows MachineGuid); registering again with the same MachineID is
	// idempotent. 1-128 printable characters.
	MachineID   string `json:"machineId"`
	Hostname    string `json:"hostname,omitempty"`
	OS          string `json:"os,omitempty"`        // GOOS
	Arch        string `json:"arch,omitempty"`      // GOARCH
	OSVersion   string `json:"osVersion,omitempty"` // e.g. "Debian 12", "Windows Server 2022 (20348)"
	CPUs        int    `json:"cpus,omitempty"`
	MemoryBytes uint64 `json:"memoryBytes,omitempty"`
	// RemoteAccess is host:port of the node's remote-access (credential
	// sync) endpoint, empty when it is off.
	RemoteAccess string `json:"remoteAccess,omitempty"`
}

// RegisterRequest is POSTed to PathRegister.
type RegisterRequest struct {
	RuntimeID string       `json:"runtimeId"` // from the key
	KeySecret string       `json:"keySecret"` // the key's secret part
	NodeName  string       `json:"nodeName"`  // see CheckName
	Machine   MachineFacts `json:"machine"`
	Version   string       `json:"version"` // shir version of the node
}

// RegisterResponse is the reply to a successful registration.
type RegisterResponse struct {
	NodeID      string `json:"nodeId"`
	NodeToken   string `json:"nodeToken"` // secret: bearer token of the node endpoints
	NodeName    string `json:"nodeName"`
	RuntimeID   string `json:"runtimeId"`
	RuntimeName string `json:"runtimeName"`
	// Reregistered is true when this machine was already a node of the
	// runtime: same NodeID, new NodeToken.
	Reregistered             bool `json:"reregistered"`
	HeartbeatIntervalSeconds int  `json:"heartbeatIntervalSeconds"`
	Concurrency              int  `json:"concurrency"` // 0: the node picks its default
}

// ---- heartbeat ----

// Metrics are a node's resource figures (gopsutil on the node).
type Metrics struct {
	CPUPercent       float64 `json:"cpuPercent"`
	MemoryUsedBytes  uint64  `json:"memoryUsedBytes"`
	MemoryTotalBytes uint64  `json:"memoryTotalBytes"`
	DiskUsedBytes    uint64  `json:"diskUsedBytes"`
	DiskTotalBytes   uint64  `json:"diskTotalBytes"`
	RunningJobs      int     `json:"runningJobs"`
}

// UpdateStatus is what the node's auto-updater reports.
type UpdateStatus struct {
	State         string    `json:"state,omitempty"`         // Update* constants
	TargetVersion string    `json:"targetVersion,omitempty"` // version being applied
	Message       string    `json:"message,omitempty"`       // last error or note, no secrets
	LastCheck     time.Time `json:"lastCheck,omitzero"`
}

// HeartbeatRequest is POSTed to PathHeartbeat with the node token.
type HeartbeatRequest struct {
	Version      string       `json:"version"`
	Metrics      Metrics      `json:"metrics"`
	Update       UpdateStatus `json:"update,omitzero"`
	RemoteAccess string       `json:"remoteAccess,omitempty"`
	// RemoteFingerprint is "sha256:<hex>" of the node's remote-access
	// certificate; the control plane relays it to the peers, which pin it
	// (mutual TLS without a CA). Empty when remote access is off.
	RemoteFingerprint string `json:"remoteFingerprint,omitempty"`
	// Concurrency is the node's own default limit (from cores and memory);
	// the server's per-node setting, when set, wins.
	Concurrency int `json:"concurrency,omitempty"`
}

// Peer is another node of the same runtime (for credential sync).
type Peer struct {
	NodeID       string `json:"nodeId"`
	Name         string `json:"name"`
	Status       string `json:"status"`
	RemoteAccess string `json:"remoteAccess,omitempty"`
	// Fingerprint is the peer's advertised RemoteFingerprint.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// HeartbeatResponse tells the node what the control plane wants.
type HeartbeatResponse struct {
	NodeID                   string `json:"nodeId"`
	HeartbeatIntervalSeconds int    `json:"heartbeatIntervalSeconds"`
	// Concurrency is the node's job limit: the admin's setting, or else the
	// node's own reported default.
	Concurrency int `json:"concurrency"`
	// DesiredVersion, when set, is the version the runtime's nodes should
	// run (an explicit pin: the updater moves to it, up or down).
	DesiredVersion string `json:"desiredVersion,omitempty"`
	// VersionConstraint, when set, bounds automatic updates (go-version
	// syntax, e.g. ">= 1.2, < 2.0").
	VersionConstraint string `json:"versionConstraint,omitempty"`
	AutoUpdate        *bool  `json:"autoUpdate,omitempty"` // nil: node's own setting
	RuntimeStatus     string `json:"runtimeStatus"`
	Peers             []Peer `json:"peers"`
}

// ---- jobs, node side ----

// LeaseRequest is POSTed to PathLease.
type LeaseRequest struct {
	// WaitSeconds is how long to wait for a job (0-30).
	WaitSeconds int `json:"waitSeconds"`
	// Max is the most jobs to take at once (default 1); the server also
	// caps it by the node's free slots.
	Max int `json:"max,omitempty"`
}

// Lease is one job handed to a node.
type Lease struct {
	JobID          string          `json:"jobId"`
	Kind           string          `json:"kind"`
	Spec           json.RawMessage `json:"spec"`
	Attempt        int             `json:"attempt"` // 1 on the first lease
	MaxAttempts    int             `json:"maxAttempts"`
	LeaseSeconds   int             `json:"leaseSeconds"`
	LeaseExpiresAt time.Time       `json:"leaseExpiresAt"`
}

// LeaseResponse holds zero or more leases.
type LeaseResponse struct {
	Jobs []Lease `json:"jobs"`
}

// RenewRequest is POSTed to JobPath(id, "renew").
type RenewRequest struct {
	Attempt int `json:"attempt"`
}

// ProgressRequest is POSTed to JobPath(id, "progress"); it renews the lease.
type ProgressRequest struct {
	Attempt int     `json:"attempt"`
	Percent float64 `json:"percent"` // 0-100
	Message string  `json:"message,omitempty"`
	Bytes   int64   `json:"bytes,omitempty"` // bytes done, for copies
}

// RenewResponse is the reply to renew and progress.
type RenewResponse struct {
	LeaseExpiresAt time.Time `json:"leaseExpiresAt"`
	// Cancel asks the node to stop the job (an admin cancelled it).
	Cancel bool `json:"cancel"`
}

// Outcomes a node reports.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
	OutcomeCancelled = "cancelled"
	// OutcomeReleased hands the job back unfinished (the node is shutting
	// down): it is queued again and the attempt does not count against
	// maxAttempts (the job gets one more), unless a cancel was asked.
	OutcomeReleased = "released"
)

// ResultRequest is POSTed to JobPath(id, "result").
type ResultRequest struct {
	Attempt int    `json:"attempt"`
	Outcome string `json:"outcome"` // Outcome* constants
	// Retryable asks for another attempt after a failure (if any are left).
	Retryable bool            `json:"retryable,omitempty"`
	Error     string          `json:"error,omitempty"`  // failure message, no secrets
	Output    json.RawMessage `json:"output,omitempty"` // kind-specific result
}

// Job specs of the built-in kinds (Job.Spec / Lease.Spec).

// CopySpec copies a file or an HTTP(S) resource to a file on the node.
type CopySpec struct {
	Source string `json:"source"` // path or http(s) URL
	Sink   string `json:"sink"`   // path on the node
	SHA256 string `json:"sha256,omitempty"`
	// Credential names a linked-service credential stored on the nodes
	// (shir agent credential put), used as HTTP basic auth for an http(s)
	// source. Only the name travels; the secret stays on the nodes.
	Credential string `json:"credential,omitempty"`
}

// CheckCredentialName reports whether s is a valid credential name: 1-128
// letters, digits, '-', '_' or '.' (the nodes' credential store rule).
func CheckCredentialName(s string) error {
	if s == "" || len(s) > 128 {
		return errors.New("must be 1-128 characters")
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("may contain only letters, digits, '-', '_' and '.' (bad character at position %d)", i+1)
		}
	}
	return nil
}

// CopyOutput is the output of a copy job.
type CopyOutput struct {
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// TestConnectionSpec checks reachability from the node.
type TestConnectionSpec struct {
	Protocol       string `json:"protocol"` // "tcp", "tls" or "http"
	Address        string `json:"address"`  // host:port, or a URL for http
	TimeoutSeconds int    `json:"timeoutSeconds,omitempty"`
}

// TestConnectionOutput is the output of a testconnection job.
type TestConnectionOutput struct {
	Reachable  bool   `json:"reachable"`
	LatencyMS  int64  `json:"latencyMs"`
	Detail     string `json:"detail,omitempty"`
	StatusCode int    `json:"statusCode,omitempty"` // http
}

// ExecSpec runs a command that the node's config allows.
type ExecSpec struct {
	Command        string   `json:"command"`
	Args           []string `json:"args,omitempty"`
	TimeoutSeconds int      `json:"timeoutSeconds,omitempty"`
}

// ExecOutput is the output of an exec job.
type ExecOutput struct {
	ExitCode int    `json:"exitCode"`
	Stdout   string `json:"stdout,omitempty"` // truncated
	Stderr   string `json:"stderr,omitempty"` // truncated
}

// ---- admin ----

// CreateRuntimeRequest is POSTed to PathRuntimes.
type CreateRuntimeRequest struct {
	Name        string `json:"name"` // see CheckName
	Description string `json:"description,omitempty"`
	MaxNodes    int    `json:"maxNodes,omitempty"` // 0: DefaultMaxNodes
}

// UpdateRuntimeRequest is PATCHed to RuntimePath(rt); nil fields stay.
type UpdateRuntimeRequest struct {
	Description       *string `json:"description,omitempty"`
	MaxNodes          *int    `json:"maxNodes,omitempty"`
	DesiredVersion    *string `json:"desiredVersion,omitempty"`
	VersionConstraint *string `json:"versionConstraint,omitempty"`
	AutoUpdate        *bool   `json:"autoUpdate,omitempty"`
}

// Runtime is a runtime as admins see it.
type Runtime struct {
	ID                string    `json:"id"`
	Name              string    `json:"name"`
	Description       string    `json:"description,omitempty"`
	MaxNodes          int       `json:"maxNodes"`
	Status            string    `json:"status"`
	DesiredVersion    string    `json:"desiredVersion,omitempty"`
	VersionConstraint string    `json:"versionConstraint,omitempty"`
	AutoUpdate        *bool     `json:"autoUpdate,omitempty"`
	CreatedAt         time.Time `json:"createdAt"`
	NodeCount         int       `json:"nodeCount"`
	Nodes             []Node    `json:"nodes,omitempty"` // only on show
}

// RuntimeList is the reply of GET PathRuntimes.
type RuntimeList struct {
	Runtimes []Runtime `json:"runtimes"`
}

// Node is a registered node as admins see it.
type Node struct {
	ID           string       `json:"id"`
	Name         string       `json:"name"`
	RuntimeID    string       `json:"runtimeId"`
	Machine      MachineFacts `json:"machine"`
	Version      string       `json:"version"`
	Status       string       `json:"status"` // Online or Offline
	RegisteredAt time.Time    `json:"registeredAt"`
	LastSeen     time.Time    `json:"lastSeen,omitzero"`
	// Concurrency is the admin's setting (0: none, the node's default
	// ReportedConcurrency applies).
	Concurrency         int          `json:"concurrency"`
	ReportedConcurrency int          `json:"reportedConcurrency"`
	LeasedJobs          int          `json:"leasedJobs"`
	Metrics             Metrics      `json:"metrics"`
	Update              UpdateStatus `json:"update,omitzero"`
}

// SetConcurrencyRequest is PUT to RuntimePath(rt, "nodes", node, "concurrency").
type SetConcurrencyRequest struct {
	// Concurrency is 1..MaxConcurrency, or 0 to go back to the node's default.
	Concurrency int `json:"concurrency"`
}

// Keys are a runtime's two authentication keys (secrets).
type Keys struct {
	RuntimeID string `json:"runtimeId"`
	Key1      string `json:"key1"`
	Key2      string `json:"key2"`
}

// SubmitJobRequest is POSTed to PathJobs.
type SubmitJobRequest struct {
	Runtime      string          `json:"runtime"` // ID or name
	Kind         string          `json:"kind"`    // Kind* constants
	Spec         json.RawMessage `json:"spec"`    // the kind's spec (unknown fields rejected)
	MaxAttempts  int             `json:"maxAttempts,omitempty"`
	LeaseSeconds int             `json:"leaseSeconds,omitempty"` // 10..3600, default 60
}

// Job is a job as admins see it (and as result returns it).
type Job struct {
	ID              string          `json:"id"`
	RuntimeID       string          `json:"runtimeId"`
	Kind            string          `json:"kind"`
	Spec            json.RawMessage `json:"spec"`
	State           string          `json:"state"`
	Attempts        int             `json:"attempts"`
	MaxAttempts     int             `json:"maxAttempts"`
	LeaseSeconds    int             `json:"leaseSeconds"`
	NodeID          string          `json:"nodeId,omitempty"`
	LeaseExpiresAt  time.Time       `json:"leaseExpiresAt,omitzero"`
	CancelRequested bool            `json:"cancelRequested,omitempty"`
	Progress        float64         `json:"progress"`
	ProgressMessage string          `json:"progressMessage,omitempty"`
	ProgressBytes   int64           `json:"progressBytes,omitempty"`
	Error           string          `json:"error,omitempty"`
	Output          json.RawMessage `json:"output,omitempty"`
	CreatedAt       time.Time       `json:"createdAt"`
	StartedAt       time.Time       `json:"startedAt,omitzero"`
	FinishedAt      time.Time       `json:"finishedAt,omitzero"`
}

// JobList is the reply of GET PathJobs.
type JobList struct {
	Jobs []Job `json:"jobs"`
}
