//go:build !linux && !windows

package firewall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
)

// Detect returns the name of the active firewall backend and why.
func Detect(context.Context) (string, string) {
	return None, "firewall management is not supported on " + runtime.GOOS
}

func newBackend(context.Context, string, *slog.Logger) (Backend, error) {
	return nil, fmt.Errorf("firewall on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
