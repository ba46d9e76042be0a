// Package firewall is a fixture.
package firewall

// Port is a fixture value.
const Port = 8060
