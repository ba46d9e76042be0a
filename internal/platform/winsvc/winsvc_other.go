//go:build !windows

package winsvc

import (
	"errors"
	"fmt"
)

// Exists returns errors.ErrUnsupported: there is no SCM here.
func Exists(name string) (bool, error) {
	return false, fmt.Errorf("service %q: the service control manager exists only on Windows: %w", name, errors.ErrUnsupported)
}
