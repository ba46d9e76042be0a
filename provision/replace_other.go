//go:build !windows

package provision

import "os"

// replaceFile renames src over dst.
func replaceFile(src, dst string) error { return os.Rename(src, dst) }

// removeFile removes path.
func removeFile(path string) error { return os.Remove(path) }
