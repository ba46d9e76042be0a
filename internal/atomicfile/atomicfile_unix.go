//go:build !windows

package atomicfile

import "os"

// createPrivate creates a new file with mode perm (Chmod after the open, so
// that the umask does not widen or narrow it).
func createPrivate(name string, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm&0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(name)
		return nil, err
	}
	return f, nil
}

// syncDir makes the rename durable; errors are ignored (not every file system
// supports syncing a directory).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
