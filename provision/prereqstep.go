package provision

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/shirhq/shir/prereq"
)

// prereqStep runs the same checks as `shir check` and stops the install when
// an error remains (exit 3). IGNOREPREREQ turns errors into warnings; the
// checks that a sandbox or a re-run would always fail are ignored for them:
// single-instance when this installation's own journal exists (resume,
// repair, upgrade), and admin for --root --no-service installs.
type prereqStep struct {
	checks func(prereq.Options) []prereq.Checker // default prereq.Default
}

var (
	_ Step    = (*prereqStep)(nil)
	_ Planner = (*prereqStep)(nil)
)

func (*prereqStep) Name() string { return "prereq" }

func (s *prereqStep) options(env *Env) prereq.Options {
	port, _ := strconv.Atoi(env.Props["PORT"])
	return prereq.Options{
		Port:           port,
		NoRemoteAccess: env.Props["NOFIREWALL"] == "1",
		InstallDir:     env.Paths.BinDir,
		ServiceAccount: env.Props["SERVICEACCOUNT"],
		NoService:      env.NoService,
		Logger:         env.Log,
	}
}

func (s *prereqStep) ignore(env *Env) []string {
	var ids []string
	if v := env.Props["IGNOREPREREQ"]; v != "" {
		ids = append(ids, strings.Split(v, ",")...)
	}
	if len(env.Journal.Done) > 0 || env.Journal.Completed || env.Journal.Get("installed") != "" {
		ids = append(ids, "single-instance")
	}
	if env.NoService && env.Root != "" {
		ids = append(ids, "admin")
	}
	return ids
}

func (s *prereqStep) Plan(env *Env) []string {
	line := "run the prerequisite checks (shir check)"
	if ig := s.ignore(env); len(ig) > 0 {
		line += ", errors of " + strings.Join(ig, ", ") + " as warnings"
	}
	return []string{line}
}

func (s *prereqStep) Apply(ctx context.Context, env *Env) error {
	build := s.checks
	if build == nil {
		build = prereq.Default
	}
	ignore, err := prereq.ParseIgnore(s.ignore(env))
	if err != nil {
		return err
	}
	res, err := prereq.Run(ctx, build(s.options(env)), ignore)
	if env.Out != nil && len(res.Checks) > 0 {
		_ = res.WriteTable(env.Out)
	}
	if failed := res.Failed(); err != nil && len(failed) > 0 {
		// The table's hint names `shir check --ignore`; an install takes the property.
		return fmt.Errorf("%w; to install anyway add IGNOREPREREQ=%s", err, strings.Join(failed, ","))
	}
	return err
}
