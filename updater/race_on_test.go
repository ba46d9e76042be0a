//go:build race

package updater

const raceEnabled = true
