package firewall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// firewalldService is the permanent firewalld service that carries the tag.
const firewalldService = "shir-remote-access"

// firewall-cmd exit codes (firewalld src/firewall/errors.py).
const (
	fwdAlreadyEnabled = 11
	fwdNotEnabled     = 12
	fwdNotRunning     = 252
)

// firewalldBackend drives firewall-cmd. See the package doc for why the port
// is permanent through a tagged service and runtime through --add-port.
type firewalldBackend struct {
	r   runner
	log *slog.Logger
}

var _ Backend = (*firewalldBackend)(nil)

func (*firewalldBackend) Name() string { return Firewalld }

// fwd runs firewall-cmd and treats ALREADY_ENABLED/NOT_ENABLED as success.
func (f *firewalldBackend) fwd(ctx context.Context, args ...string) (string, error) {
	out, code, err := f.r.run(ctx, "firewall-cmd", args...)
	if err != nil {
		return out, err
	}
	switch code {
	case 0, fwdAlreadyEnabled, fwdNotEnabled:
		return out, nil
	case fwdNotRunning:
		return out, fmt.Errorf("firewalld is not running: %w", cmdError("firewall-cmd", args, out, code))
	}
	return out, cmdError("firewall-cmd", args, out, code)
}

// query runs a --query-* call: exit 0 is yes, 1 is no.
func (f *firewalldBackend) query(ctx context.Context, args ...string) (bool, error) {
	out, code, err := f.r.run(ctx, "firewall-cmd", args...)
	if err != nil {
		return false, err
	}
	switch code {
	case 0:
		return true, nil
	case 1:
		return false, nil
	}
	return false, cmdError("firewall-cmd", args, out, code)
}

// servicePorts lists the ports of our permanent service; ok is false when the
// service does not exist.
func (f *firewalldBackend) servicePorts(ctx context.Context) (ports []int, ok bool, err error) {
	args := []string{"--permanent", "--service=" + firewalldService, "--get-ports"}
	out, code, err := f.r.run(ctx, "firewall-cmd", args...)
	if err != nil {
		return nil, false, err
	}
	if code != 0 {
		if strings.Contains(out, "INVALID_SERVICE") {
			return nil, false, nil
		}
		return nil, false, cmdError("firewall-cmd", args, out, code)
	}
	return parseFirewalldPorts(out), true, nil
}

// parseFirewalldPorts parses "8060/tcp 9000/udp" into the TCP ports.
func parseFirewalldPorts(out string) []int {
	var ports []int
	for _, f := range strings.Fields(out) {
		if p, ok := parsePortProto(f); ok && !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports
}

func (f *firewalldBackend) Ports(ctx context.Context) ([]int, error) {
	perm, ok, err := f.servicePorts(ctx)
	if err != nil || !ok {
		return nil, err
	}
	inZone, err := f.query(ctx, "--permanent", "--query-service="+firewalldService)
	if err != nil || !inZone {
		return nil, err
	}
	var ports []int
	for _, p := range perm {
		open, err := f.query(ctx, "--query-port="+portProto(p))
		if err != nil {
			return nil, err
		}
		if open {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// step is one change with its undo.
type step struct {
	do, undo []string
}

// firewalldAddSteps are the firewall-cmd calls that open port, given what
// exists already.
func firewalldAddSteps(port int, serviceExists, portInService, serviceInZone, runtimeOpen bool) []step {
	svc := "--service=" + firewalldService
	var s []step
	if !serviceExists {
		s = append(s,
			step{[]string{"--permanent", "--new-service=" + firewalldService}, []string{"--permanent", "--delete-service=" + firewalldService}},
			step{[]string{"--permanent", svc, "--set-short=" + Tag}, nil},
			step{[]string{"--permanent", svc, "--set-description=Inbound TCP for shir remote access between nodes; added and removed by shir"}, nil})
	}
	if !portInService {
		s = append(s, step{[]string{"--permanent", svc, "--add-port=" + portProto(port)}, []string{"--permanent", svc, "--remove-port=" + portProto(port)}})
	}
	if !serviceInZone {
		s = append(s, step{[]string{"--permanent", "--add-service=" + firewalldService}, []string{"--permanent", "--remove-service=" + firewalldService}})
	}
	if !runtimeOpen {
		s = append(s, step{[]string{"--add-port=" + portProto(port)}, []string{"--remove-port=" + portProto(port)}})
	}
	return s
}

func (f *firewalldBackend) Add(ctx context.Context, port int) (bool, error) {
	perm, exists, err := f.servicePorts(ctx)
	if err != nil {
		return false, err
	}
	inZone := false
	if exists {
		if inZone, err = f.query(ctx, "--permanent", "--query-service="+firewalldService); err != nil {
			return false, err
		}
	}
	runtimeOpen, err := f.query(ctx, "--query-port="+portProto(port))
	if err != nil {
		return false, err
	}
	steps := firewalldAddSteps(port, exists, slices.Contains(perm, port), inZone, runtimeOpen)
	return len(steps) > 0, f.apply(ctx, steps)
}

// apply runs steps and undoes the done ones in reverse when one fails.
func (f *firewalldBackend) apply(ctx context.Context, steps []step) error {
	for i, s := range steps {
		if _, err := f.fwd(ctx, s.do...); err != nil {
			for j := i - 1; j >= 0; j-- {
				if steps[j].undo == nil {
					continue
				}
				if _, uerr := f.fwd(ctx, steps[j].undo...); uerr != nil {
					err = errors.Join(err, fmt.Errorf("undo: %w", uerr))
				}
			}
			return err
		}
	}
	return nil
}

func (f *firewalldBackend) Remove(ctx context.Context, port int) (bool, error) {
	perm, exists, err := f.servicePorts(ctx)
	if err != nil || !exists {
		return false, err
	}
	svc := "--service=" + firewalldService
	var calls [][]string
	if slices.Contains(perm, port) {
		// The runtime port was added by shir together with the permanent one.
		calls = append(calls,
			[]string{"--remove-port=" + portProto(port)},
			[]string{"--permanent", svc, "--remove-port=" + portProto(port)})
	}
	if len(perm) == 0 || (len(perm) == 1 && perm[0] == port) {
		calls = append(calls,
			[]string{"--permanent", "--remove-service=" + firewalldService},
			[]string{"--permanent", "--delete-service=" + firewalldService})
	}
	for _, c := range calls {
		if _, err := f.fwd(ctx, c...); err != nil {
			return true, err
		}
	}
	return len(calls) > 0, nil
}

// firewalldRunning reports whether firewalld answers (`firewall-cmd --state`).
func firewalldRunning(ctx context.Context, r runner) bool {
	out, code, err := r.run(ctx, "firewall-cmd", "--state")
	return err == nil && code == 0 && strings.TrimSpace(out) == "running"
}
