//go:build !windows

package secret

import "path/filepath"

// ForStateDir returns the machine's default protector: AES-256-GCM with the
// key stateDir/machine.key (created on first use).
func ForStateDir(stateDir string) (Protector, error) {
	return LoadOrCreateKey(filepath.Join(stateDir, KeyFile))
}
