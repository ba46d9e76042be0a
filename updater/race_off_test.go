//go:build !race

package updater

const raceEnabled = false
