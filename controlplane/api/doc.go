// Package api holds the wire types shared by the agent and the control plane:
// requests and responses of the /v1 HTTP API. It imports nothing else of shir,
// so both sides can depend on it.
package api
