package updater

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/kardianos/service"
)

// ServiceHost restarts the host service through the OS service manager
// (systemd, Windows SCM) with kardianos/service. Production uses it.
type ServiceHost struct {
	Name string // "shir-host" (Linux) or "shirhost" (Windows)
}

var _ Host = ServiceHost{}

type noopProgram struct{}

func (noopProgram) Start(service.Service) error { return nil }
func (noopProgram) Stop(service.Service) error  { return nil }

func (h ServiceHost) svc() (service.Service, error) {
	s, err := service.New(noopProgram{}, &service.Config{Name: h.Name})
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", h.Name, err)
	}
	return s, nil
}

// Restart asks the service manager to stop and start the host.
func (h ServiceHost) Restart(context.Context) error {
	s, err := h.svc()
	if err != nil {
		return err
	}
	if err := s.Restart(); err != nil {
		return fmt.Errorf("restart service %s: %w", h.Name, err)
	}
	return nil
}

// Exited reports whether the service manager says the host is stopped.
func (h ServiceHost) Exited() bool {
	s, err := h.svc()
	if err != nil {
		return false
	}
	st, err := s.Status()
	return err == nil && st == service.StatusStopped
}

// ProcessHost runs the host as a child process of the caller: tests, and
// sandbox nodes installed with --no-service. Restart stops the running child
// (kill, then wait) and starts Path again with Args.
type ProcessHost struct {
	Path   string
	Args   []string
	Env    []string // added to the environment
	Output io.Writer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

var _ Host = (*ProcessHost)(nil)
var _ Exiter = (*ProcessHost)(nil)

// Start starts the child if it is not running.
func (h *ProcessHost) Start() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cmd != nil && !isClosed(h.exited) {
		return nil
	}
	cmd := exec.Command(h.Path, h.Args...)
	cmd.Env = append(os.Environ(), h.Env...)
	cmd.Stdout, cmd.Stderr = h.Output, h.Output
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start host %s: %w", h.Path, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	h.cmd, h.exited = cmd, done
	return nil
}

// Stop kills the child and waits for it.
func (h *ProcessHost) Stop() error {
	h.mu.Lock()
	cmd, done := h.cmd, h.exited
	h.mu.Unlock()
	if cmd == nil || isClosed(done) {
		return nil
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop host: %w", err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("stop host: pid %d did not exit", cmd.Process.Pid)
	}
}

// Restart stops and starts the child.
func (h *ProcessHost) Restart(context.Context) error {
	if err := h.Stop(); err != nil {
		return err
	}
	return h.Start()
}

// Exited reports whether the last started child has exited.
func (h *ProcessHost) Exited() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cmd != nil && isClosed(h.exited)
}

func isClosed(c chan struct{}) bool {
	if c == nil {
		return true
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}
