package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
	"time"

	"github.com/shirhq/shir/controlplane/api"
)

// maxStream is how much of stdout and of stderr an exec result keeps.
const maxStream = 64 << 10

// runExec runs a command listed in the node config's exec.allow (exact,
// absolute path; no shell). With an empty list exec jobs are refused.
func runExec(ctx context.Context, env *jobEnv, raw json.RawMessage) (any, error) {
	var spec api.ExecSpec
	if err := decodeSpec(raw, &spec); err != nil {
		return nil, err
	}
	if len(env.allow) == 0 {
		return nil, permanent("exec jobs are off on this node (shir.toml exec.allow is empty)")
	}
	if !slices.Contains(env.allow, spec.Command) {
		return nil, permanent("command %q is not in this node's exec.allow", spec.Command)
	}
	if spec.TimeoutSeconds < 0 || spec.TimeoutSeconds > 24*3600 {
		return nil, permanent("spec.timeoutSeconds must be 0-86400")
	}
	if spec.TimeoutSeconds > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(spec.TimeoutSeconds)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, spec.Command, spec.Args...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr capped
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := api.ExecOutput{Stdout: stdout.String(), Stderr: stderr.String()}
	if err == nil {
		return out, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		out.ExitCode = ee.ExitCode()
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		return out, permanent("%s exited with code %d", spec.Command, out.ExitCode)
	}
	return out, permanent("run %s: %v", spec.Command, err)
}

// capped keeps the first maxStream bytes written to it.
type capped struct {
	b         bytes.Buffer
	truncated bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := maxStream - c.b.Len(); room > 0 {
		if len(p) > room {
			c.b.Write(p[:room])
			c.truncated = true
		} else {
			c.b.Write(p)
		}
	} else if len(p) > 0 {
		c.truncated = true
	}
	return len(p), nil
}

func (c *capped) String() string {
	if c.truncated {
		return c.b.String() + "\n[truncated]"
	}
	return c.b.String()
}
