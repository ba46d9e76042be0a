//go:build !linux

package firewall

func probePort(port int) (Listener, error) { return listenProbe(port) }
