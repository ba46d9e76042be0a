//go:build !windows

package winreg

import (
	"errors"
	"fmt"
)

func unsupported(path string) error {
	return fmt.Errorf("read %s: the registry exists only on Windows: %w", path, errors.ErrUnsupported)
}

// DWORD implements Reader; it returns errors.ErrUnsupported.
func (System) DWORD(path, name string) (uint32, error) { return 0, unsupported(path) }

// String implements Reader; it returns errors.ErrUnsupported.
func (System) String(path, name string) (string, error) { return "", unsupported(path) }

// SubKeys implements Reader; it returns errors.ErrUnsupported.
func (System) SubKeys(path string) ([]string, error) { return nil, unsupported(path) }

// KeyExists implements Reader; it returns errors.ErrUnsupported.
func (System) KeyExists(path string) (bool, error) { return false, unsupported(path) }
