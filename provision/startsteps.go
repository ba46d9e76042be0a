package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/internal/secret"
)

// startStep starts the node: the two OS services, or, with --no-service, the
// host as a detached `shir agent run` process whose PID is kept in the state
// dir so that uninstall can stop it.
type startStep struct {
	GOOS string
	SM   serviceManager
}

var (
	_ Step    = (*startStep)(nil)
	_ Undoer  = (*startStep)(nil)
	_ Skipper = (*startStep)(nil)
	_ Planner = (*startStep)(nil)
)

// PIDFile holds the PID of a --no-service host process.
const PIDFile = "agent.pid"

func (*startStep) Name() string { return "start" }

func (*startStep) Skip(env *Env) (bool, string) {
	if !registered(env) && env.Props["AUTHKEY"] == "" {
		return true, "the node is not registered: nothing to start"
	}
	return false, ""
}

func (s *startStep) Plan(env *Env) []string {
	if env.NoService {
		return []string{fmt.Sprintf("start %s agent run --config %s as a background process", env.Paths.Binary(s.GOOS), env.Paths.ConfigFile)}
	}
	h, u := serviceNames(s.GOOS)
	return []string{"start services " + h + " and " + u}
}

func (s *startStep) Apply(_ context.Context, env *Env) error {
	env.Journal.Set("start.time", time.Now().UTC().Format(time.RFC3339Nano))
	if !env.NoService {
		h, u := serviceNames(s.GOOS)
		for _, n := range []string{h, u} {
			if err := s.SM.Start(n); err != nil {
				return fmt.Errorf("start service %s: %w", n, err)
			}
		}
		return nil
	}
	stopAgent(env) // a re-run replaces the process it started before
	logf, err := os.OpenFile(filepath.Join(env.Paths.LogDir, "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open agent log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(env.Paths.Binary(s.GOOS), "agent", "run", "--config", env.Paths.ConfigFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = env.Paths.StateDir
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the host process: %w", err)
	}
	pid := cmd.Process.Pid
	// Reap it if it ends while we still run (the quickstart outlives its
	// nodes); after `shir install` exits, init does.
	go func() { _ = cmd.Wait() }()
	if err := os.WriteFile(filepath.Join(env.Paths.StateDir, PIDFile), []byte(strconv.Itoa(pid)), 0o600); err != nil {
		return err
	}
	env.printf("start", "host process %d started, log %s", pid, logf.Name())
	return nil
}

func (s *startStep) Undo(_ context.Context, env *Env) error {
	if !env.NoService {
		h, u := serviceNames(s.GOOS)
		_ = s.SM.Stop(h)
		_ = s.SM.Stop(u)
		return nil
	}
	stopAgent(env)
	return nil
}

// stopAgent stops the --no-service host process recorded in the PID file.
func stopAgent(env *Env) {
	pf := filepath.Join(env.Paths.StateDir, PIDFile)
	b, err := os.ReadFile(pf)
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(string(b)); err == nil && isOurAgent(pid) {
		terminate(pid, 10*time.Second)
	}
	_ = os.Remove(pf)
}

// verifyStep waits until the host has had a heartbeat acknowledged (it writes
// the health file then).
type verifyStep struct {
	Timeout time.Duration // default 60 s
}

var (
	_ Step    = (*verifyStep)(nil)
	_ Skipper = (*verifyStep)(nil)
)

func (*verifyStep) Name() string { return "verify" }

func (*verifyStep) Skip(env *Env) (bool, string) {
	if !registered(env) && env.Props["AUTHKEY"] == "" {
		return true, "the node is not registered: no heartbeat to wait for"
	}
	return false, ""
}

func (s *verifyStep) Apply(ctx context.Context, env *Env) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	since, _ := time.Parse(time.RFC3339Nano, env.Journal.Get("start.time"))
	since = since.Add(-time.Second) // the health file's time has second precision on some systems
	deadline := time.Now().Add(timeout)
	hf := filepath.Join(env.Paths.StateDir, "health.json")
	for {
		var h struct {
			Time time.Time `json:"time"`
		}
		if b, err := os.ReadFile(hf); err == nil && json.Unmarshal(b, &h) == nil && !h.Time.Before(since) {
			name := env.Props["NODENAME"]
			if p, err := secret.ForStateDir(env.Paths.StateDir); err == nil {
				if id, err := register.Load(env.Paths.StateDir, p); err == nil {
					name = id.NodeName
				}
			}
			env.printf("verify", "first heartbeat acknowledged (node %s)", name)
			return nil
		}
		if time.Now().After(deadline) {
			hint := "check the host service's log"
			if env.NoService {
				hint = "see " + filepath.Join(env.Paths.LogDir, "agent.log")
			}
			return fmt.Errorf("the node sent no acknowledged heartbeat within %s: %s", timeout, hint)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
