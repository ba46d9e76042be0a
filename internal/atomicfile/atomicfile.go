// Package atomicfile writes files so that a reader sees either the old or the
// new content, never a half-written file: the data goes to a temporary file in
// the same directory, is synced, and is renamed over the target.
//
// Files written with a mode that gives nothing to group and others (0600) are
// private: on Linux the mode says so; on Windows the file is created with a
// protected DACL for SYSTEM, Administrators and its owner only, so it is never
// readable by others, not even for a moment (the state directory's own ACL is
// the installer's job).
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces path with data, atomically, with mode perm.
func Write(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	var f *os.File
	for range 10 {
		var b [6]byte
		_, _ = rand.Read(b[:])
		tmp := filepath.Join(dir, "."+base+".tmp"+hex.EncodeToString(b[:]))
		f, err = createPrivate(tmp, perm)
		if !os.IsExist(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}
