package osinfo

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Windows returns errors.ErrUnsupported.
func Windows() (WindowsVersion, error) {
	return WindowsVersion{}, fmt.Errorf("windows version: %w", errors.ErrUnsupported)
}

// Machine returns the kernel's machine name (uname -m), e.g. "x86_64" or
// "aarch64": the kernel's, not the binary's (runtime.GOARCH).
func Machine() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", fmt.Errorf("uname: %w", err)
	}
	return unix.ByteSliceToString(u.Machine[:]), nil
}
