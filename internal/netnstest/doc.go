// Package netnstest helps tests work inside Linux network namespaces made
// with `ip netns add`: Do runs a function on an OS thread switched into one,
// so that the sockets it makes belong there. Elsewhere it has nothing.
package netnstest
