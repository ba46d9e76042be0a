//go:build !windows

package handler

import "os"

func replaceFile(from, to string) error { return os.Rename(from, to) }
