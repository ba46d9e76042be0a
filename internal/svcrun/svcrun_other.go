//go:build !windows

package svcrun

import (
	"context"
	"log/slog"
)

func run(ctx context.Context, _ string, _ bool, fallback slog.Handler, body Body) error {
	return body(ctx, slog.New(fallback))
}
