//go:build race

package controlplane_test

// raceEnabled: the race detector slows the pure-Go SQLite down about
// tenfold, so load tests use fewer jobs (never fewer nodes).
const raceEnabled = true
