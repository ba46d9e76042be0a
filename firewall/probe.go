package firewall

import (
	"errors"
	"net"
	"strconv"
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

// wsaeaddrinuse is WSAEADDRINUSE, Windows' "address in use".
const wsaeaddrinuse = 10048

// listenProbe tries to listen on the port: "address in use" means a program
// has it. It cannot name the program.
func listenProbe(port int) (Listener, error) {
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err == nil {
		l.Close()
		return Listener{}, nil
	}
	var errno syscall.Errno
	if errors.As(err, &errno) && (errno == syscall.EADDRINUSE || errno == wsaeaddrinuse) {
		return Listener{Listening: true}, nil
	}
	return Listener{}, err
}
