// Package agent owns the host service body (`shir agent run`): it registers
// with the control plane, heartbeats with machine metrics, leases and runs jobs
// (copy, testconnection, exec) within its concurrency limit, keeps linked-service
// credentials encrypted at rest, and honours the configured proxy.
package agent
