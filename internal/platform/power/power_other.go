//go:build !windows

package power

import (
	"errors"
	"fmt"
)

// ActiveScheme returns errors.ErrUnsupported: power schemes are Windows'.
func ActiveScheme() (Settings, error) {
	return Settings{}, fmt.Errorf("power scheme: %w", errors.ErrUnsupported)
}
