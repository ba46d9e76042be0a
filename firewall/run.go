package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
)

// runner runs a firewall tool. code is the exit status; err is set only when
// the tool could not be run at all (not installed, context cancelled).
type runner interface {
	run(ctx context.Context, name string, args ...string) (out string, code int, err error)
}

// CommandRunner runs a firewall tool (firewall-cmd, ufw) and returns its
// combined output and exit status; err is set only when the tool could not
// run at all. Tests pass a simulator; nil runs the real tool.
type CommandRunner func(ctx context.Context, name string, args ...string) (out string, code int, err error)

func (f CommandRunner) run(ctx context.Context, name string, args ...string) (string, int, error) {
	return f(ctx, name, args...)
}

// ToolOptions configure the backends that drive a command-line tool.
type ToolOptions struct {
	Run    CommandRunner
	Logger *slog.Logger
}

func (o ToolOptions) runner() runner {
	if o.Run == nil {
		return execRunner{}
	}
	return o.Run
}

// NewFirewalld returns the firewalld backend (firewall-cmd).
func NewFirewalld(o ToolOptions) Backend {
	return &firewalldBackend{r: o.runner(), log: orDiscard(o.Logger)}
}

// NewUFW returns the ufw backend.
func NewUFW(o ToolOptions) Backend {
	return &ufwBackend{r: o.runner(), log: orDiscard(o.Logger)}
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
