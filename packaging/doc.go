// Package packaging owns the packages users install from: .deb and .rpm (nfpm)
// with systemd units and maintainer scripts, the MSI (wixl) and its properties,
// and Authenticode signing of shir.exe and the MSI.
package packaging
