package provision

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/windows"
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

// removeFile removes path. A running executable (uninstall run by the
// installed shir.exe itself, or its dmgcmd.exe hard link) cannot be deleted
// on Windows: it is renamed aside and deleted at the next reboot.
func removeFile(path string) error {
	err := os.Remove(path)
	if err == nil || errors.Is(err, os.ErrNotExist) {
		return err
	}
	aside := fmt.Sprintf("%s.delete-%d", path, time.Now().UnixNano())
	if rerr := os.Rename(path, aside); rerr != nil {
		return err
	}
	p, perr := windows.UTF16PtrFromString(aside)
	if perr == nil {
		_ = windows.MoveFileEx(p, nil, windows.MOVEFILE_DELAY_UNTIL_REBOOT)
	}
	return nil
}
