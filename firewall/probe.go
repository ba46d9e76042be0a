package firewall

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// ProbePort finds who listens on TCP port on this machine. On Linux it names
// the program from /proc; elsewhere it only knows whether the port is taken.
func ProbePort(port int) (Listener, error) {
	if err := ValidatePort(port); err != nil {
		return Listener{}, err
	}
	return probePort(port)
}

// listenProbe tries to listen on the port: "address in use" means a program
// has it. It cannot name the program.
func listenProbe(port int) (Listener, error) {
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err == nil {
		l.Close()
		return Listener{}, nil
	}
	if errors.Is(err, syscall.EADDRINUSE) || strings.Contains(strings.ToLower(err.Error()), "only one usage of each socket address") {
		return Listener{Listening: true}, nil
	}
	return Listener{}, err
}
