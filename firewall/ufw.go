package firewall

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// ufwBackend drives ufw. ufw adds the IPv4 and IPv6 rule itself.
type ufwBackend struct {
	r   runner
	log *slog.Logger
}

var _ Backend = (*ufwBackend)(nil)

func (*ufwBackend) Name() string { return UFW }

// ufwAllowArgs is `ufw allow 8060/tcp comment 'shir remote access'`.
func ufwAllowArgs(port int) []string {
	return []string{"allow", portProto(port), "comment", Tag}
}

// ufwDeleteArgs is `ufw delete allow 8060/tcp`.
func ufwDeleteArgs(port int) []string {
	return []string{"delete", "allow", portProto(port)}
}

// parseUFWAdded finds our rules in `ufw show added`, whose lines look like
// `ufw allow 8060/tcp comment 'shir remote access'`.
func parseUFWAdded(out string) []int {
	var ports []int
	suffix := " comment '" + Tag + "'"
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		rest, ok := strings.CutPrefix(line, "ufw allow ")
		if !ok {
			continue
		}
		spec, ok := strings.CutSuffix(rest, suffix)
		if !ok {
			continue
		}
		if p, ok := parsePortProto(spec); ok && !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports
}

func (u *ufwBackend) ufw(ctx context.Context, args ...string) (string, error) {
	out, code, err := u.r.run(ctx, "ufw", args...)
	if err != nil {
		return out, err
	}
	if code != 0 {
		return out, cmdError("ufw", args, out, code)
	}
	return out, nil
}

func (u *ufwBackend) Ports(ctx context.Context) ([]int, error) {
	out, err := u.ufw(ctx, "show", "added")
	if err != nil {
		return nil, err
	}
	return parseUFWAdded(out), nil
}

func (u *ufwBackend) Add(ctx context.Context, port int) (bool, error) {
	out, err := u.ufw(ctx, "show", "added")
	if err != nil {
		return false, err
	}
	if slices.Contains(parseUFWAdded(out), port) {
		return false, nil
	}
	// ufw would "update" an existing rule's comment: that would take over a
	// rule the admin added, which Close would then delete.
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "ufw" && f[1] == "allow" && f[2] == portProto(port) {
			return false, fmt.Errorf("ufw already has the rule %q that shir did not add; shir leaves it alone (the port is open; remove that rule to let shir manage it)", strings.TrimSpace(line))
		}
	}
	out, err = u.ufw(ctx, ufwAllowArgs(port)...)
	if err != nil {
		return false, err
	}
	return !strings.Contains(out, "Skipping"), nil
}

func (u *ufwBackend) Remove(ctx context.Context, port int) (bool, error) {
	ports, err := u.Ports(ctx)
	if err != nil || !slices.Contains(ports, port) {
		return false, err // not ours: never delete an untagged rule
	}
	_, err = u.ufw(ctx, ufwDeleteArgs(port)...)
	return err == nil, err
}

// ufwActive reports whether `ufw status` says "Status: active".
func ufwActive(ctx context.Context, r runner) bool {
	out, code, err := r.run(ctx, "ufw", "status")
	if err != nil || code != 0 {
		return false
	}
	first, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(first) == "Status: active"
}
