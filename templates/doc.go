// Package templates owns the embedded text templates shir renders (systemd
// units, the WiX .wxs of the MSI, ARM templates, cloud-init, shir.toml) and pure
// render functions over them. It imports nothing else of shir.
package templates
