package firewall

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/shirhq/shir/internal/exitcode"
)

// Detect returns the name of the active firewall backend and why.
func Detect(context.Context) (string, string) {
	return Windows, "Windows Firewall"
}

func newBackend(_ context.Context, name string, log *slog.Logger) (Backend, error) {
	switch name {
	case "", "auto", Windows:
		return &winBackend{rules: comRules{}, log: log}, nil
	case None:
		return noneBackend{}, nil
	}
	return nil, fmt.Errorf("%w: firewall backend %q is not available on windows", exitcode.ErrUsage, name)
}
