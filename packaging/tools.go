package packaging

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"

	"github.com/shirhq/shir/internal/exitcode"
)

// tool finds an external program (wixl, osslsigncode); a missing one is a
// prerequisite error that names the Debian package to install.
func tool(name, override, aptPkg string) (string, error) {
	if override != "" {
		name = override
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %s not found (apt-get install %s)", exitcode.ErrPrereq, name, aptPkg)
	}
	return p, nil
}

// run runs a program in dir and returns its combined output. The error
// quotes the output's last lines, never the arguments (they may hold a
// key password file name, but never a secret: secrets are passed in files).
func run(ctx context.Context, log *slog.Logger, dir, prog string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	log.Debug("run", "prog", prog, "args", strings.Join(args, " "), "dir", dir)
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s: %w: %s", prog, err, tail(out.String(), 5))
	}
	return out.Bytes(), nil
}

// tail returns the last n non-empty lines of s, joined by "; ".
func tail(s string, n int) string {
	var lines []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
