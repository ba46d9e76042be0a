package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// runner runs a firewall tool. code is the exit status; err is set only when
// the tool could not be run at all (not installed, context cancelled).
type runner interface {
	run(ctx context.Context, name string, args ...string) (out string, code int, err error)
}

// execRunner runs real commands.
type execRunner struct{}

func (execRunner) run(ctx context.Context, name string, args ...string) (string, int, error) {
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		return buf.String(), ee.ExitCode(), nil
	}
	if err != nil {
		return buf.String(), -1, fmt.Errorf("run %s: %w", name, err)
	}
	return buf.String(), 0, nil
}

// cmdError describes a failed tool call with its output (trimmed).
func cmdError(name string, args []string, out string, code int) error {
	out = strings.TrimSpace(out)
	if len(out) > 500 {
		out = out[:500] + "..."
	}
	return fmt.Errorf("%s %s: exit status %d: %s", name, strings.Join(args, " "), code, out)
}
