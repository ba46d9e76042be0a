package atomicfile

// syncDir is a no-op on Windows: directories cannot be opened for sync, and
// MoveFileEx (used by os.Rename) is already durable with NTFS journaling.
func syncDir(string) {}
