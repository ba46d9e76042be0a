package provision

import (
	"errors"
	"os"
)

// replaceFile renames src over dst. A running executable cannot be
// overwritten on Windows, but it can be renamed: move it aside first and
// remove it when it is no longer in use (best effort).
func replaceFile(src, dst string) error {
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	old := dst + ".old"
	_ = os.Remove(old)
	if err := os.Rename(dst, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(src, dst); err != nil {
		_ = os.Rename(old, dst)
		return err
	}
	_ = os.Remove(old)
	return nil
}
