//go:build !windows && !linux

package osinfo

import (
	"errors"
	"fmt"
)

// Windows returns errors.ErrUnsupported.
func Windows() (WindowsVersion, error) {
	return WindowsVersion{}, fmt.Errorf("windows version: %w", errors.ErrUnsupported)
}

// Machine returns errors.ErrUnsupported.
func Machine() (string, error) {
	return "", fmt.Errorf("machine: %w", errors.ErrUnsupported)
}
