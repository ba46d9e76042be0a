// Package prereq is a fixture that imports firewall, which DESIGN.md forbids.
package prereq

import "example.com/badmod/firewall"

// Port is a fixture value.
const Port = firewall.Port
