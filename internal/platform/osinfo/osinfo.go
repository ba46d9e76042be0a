// Package osinfo reads the facts that decide whether this OS is supported:
// the Windows version (RtlGetVersion, which ignores manifest semantics, and
// the registry's ProductOptions\ProductType string) and the machine's native
// architecture (uname on Linux; the native machine on Windows, which differs
// from the binary's GOARCH under WOW64). Parsing and verdicts live in prereq.
package osinfo

// WindowsVersion is what RtlGetVersion reports.
type WindowsVersion struct {
	Major, Minor, Build uint32
	// ProductType is 1 workstation, 2 domain controller, 3 server
	// (OSVERSIONINFOEX.wProductType).
	ProductType byte
}

// Windows product types (OSVERSIONINFOEX.wProductType).
const (
	Workstation      = 1
	DomainController = 2
	Server           = 3
)
