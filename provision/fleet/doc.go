// Package fleet owns `shir fleet plan|apply|cloud-init`: installing and
// upgrading many hosts over SSH in waves (canary first, stop after a failure
// budget), with host keys checked against known_hosts, and rendering cloud-init
// user data that installs and registers a node on first boot.
package fleet
