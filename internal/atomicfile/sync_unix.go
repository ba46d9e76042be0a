//go:build !windows

package atomicfile

import "os"

// syncDir makes the rename durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
