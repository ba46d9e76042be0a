//go:build !windows

package netproxy

import (
	"errors"
)

// systemProxy: outside Windows the environment is the system setting.
func systemProxy() (*winProxy, error) { return nil, errors.ErrUnsupported }
