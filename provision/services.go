package provision

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"

	"github.com/kardianos/service"

	"github.com/shirhq/shir/internal/platform/lsa"
	"github.com/shirhq/shir/templates"
)

// ServiceDef describes one OS service.
type ServiceDef struct {
	Name        string // shirhost / shir-host
	DisplayName string
	Description string
	Executable  string
	Args        []string
	User        string // "" = LocalSystem / root
	SystemdUnit []byte // Linux: the full unit file (rendered from templates)
}

// serviceManager is the OS service manager as the services step needs it.
// kardianosManager is the real one; tests use a recorder.
type serviceManager interface {
	Install(def ServiceDef) error
	Uninstall(name string) error
	Start(name string) error
	Stop(name string) error
}

// commandRunner runs a program (useradd, chown); tests record the calls.
type commandRunner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

type execRunner struct{}

func (execRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// Service names per OS, as in DESIGN.md.
func serviceNames(goos string) (host, updater string) {
	if goos == "windows" {
		return "shirhost", "shirupdater"
	}
	return "shir-host", "shir-updater"
}

// servicesStep installs the host service (unprivileged: NT SERVICE\shirhost
// on Windows, the system user "shir" on Linux) and the upgrade service
// (privileged, as it replaces binaries).
type servicesStep struct {
	GOOS string
	SM   serviceManager
	Run  commandRunner
	// Grant gives a Windows account "Log on as a service"; default grantLogon
	// (LSA). Tests record the call.
	Grant func(account string) error
}

// grantLogon grants SeServiceLogonRight through LSA. A virtual account
// (NT SERVICE\name) has a SID computed from the name, so the right can be
// granted before the service exists.
func grantLogon(account string) error {
	sid, ok := lsa.VirtualService(account)
	if ok {
		sid = lsa.ServiceSID(sid)
	} else {
		var err error
		if sid, err = lsa.LookupSID(account); err != nil {
			return err
		}
	}
	return lsa.GrantRight(sid, lsa.ServiceLogonRight)
}

var (
	_ Step    = (*servicesStep)(nil)
	_ Undoer  = (*servicesStep)(nil)
	_ Skipper = (*servicesStep)(nil)
	_ Planner = (*servicesStep)(nil)
)

func (*servicesStep) Name() string { return "services" }

func (s *servicesStep) Skip(env *Env) (bool, string) {
	if env.NoService {
		return true, "--no-service: no OS services; the node runs as a plain process"
	}
	return false, ""
}

func (s *servicesStep) defs(env *Env) ([]ServiceDef, error) {
	hostName, updName := serviceNames(s.GOOS)
	bin := env.Paths.Binary(s.GOOS)
	cfg := env.Paths.ConfigFile
	user := env.Props["SERVICEACCOUNT"]
	host := ServiceDef{Name: hostName, DisplayName: "shir host service",
		Description: "Self-hosted integration runtime node: registers, heartbeats and runs jobs.",
		Executable:  bin, Args: []string{"agent", "run", "--config", cfg}}
	upd := ServiceDef{Name: updName, DisplayName: "shir upgrade service",
		Description: "Keeps the shir node up to date with signed releases.",
		Executable:  bin, Args: []string{"updater", "run", "--config", cfg}}
	if s.GOOS == "windows" {
		if user == "" {
			user = `NT SERVICE\` + hostName
		}
		host.User = user
		// Both answer the service manager themselves (kardianos cannot
		// tell it runs as a service under Wine; see internal/svcrun).
		host.Args = append(host.Args, "--service")
		upd.Args = append(upd.Args, "--service")
		return []ServiceDef{host, upd}, nil
	}
	if user == "" {
		user = "shir"
	}
	host.User = user
	u := templates.Unit{Binary: bin, ConfigFile: cfg, User: user, StateDir: env.Paths.StateDir, LogDir: env.Paths.LogDir}
	var err error
	if host.SystemdUnit, err = templates.RenderUnit(templates.HostUnit, u); err != nil {
		return nil, err
	}
	if upd.SystemdUnit, err = templates.RenderUnit(templates.UpdaterUnit, u); err != nil {
		return nil, err
	}
	return []ServiceDef{host, upd}, nil
}

func (s *servicesStep) Plan(env *Env) []string {
	defs, err := s.defs(env)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	var out []string
	if s.GOOS != "windows" {
		out = append(out, fmt.Sprintf("create system user %s (if missing) and give it %s", defs[0].User, env.Paths.StateDir))
	}
	for _, d := range defs {
		user := d.User
		if user == "" {
			user = "the system account"
		}
		out = append(out, fmt.Sprintf("install service %s as %s: %s %s", d.Name, user, d.Executable, strings.Join(d.Args, " ")))
	}
	return out
}

func (s *servicesStep) Apply(ctx context.Context, env *Env) error {
	defs, err := s.defs(env)
	if err != nil {
		return err
	}
	if s.GOOS != "windows" {
		if err := s.ensureUser(ctx, defs[0].User, env); err != nil {
			return err
		}
	}
	if s.GOOS == "windows" {
		grant := s.Grant
		if grant == nil {
			grant = grantLogon
		}
		if err := grant(defs[0].User); err != nil {
			return fmt.Errorf("grant %s \"Log on as a service\": %w", defs[0].User, err)
		}
		env.printf("services", "granted %s \"Log on as a service\"", defs[0].User)
	}
	for _, d := range defs {
		if err := s.SM.Install(d); err != nil {
			return fmt.Errorf("install service %s: %w", d.Name, err)
		}
		env.printf("services", "installed %s", d.Name)
	}
	return nil
}

func (s *servicesStep) ensureUser(ctx context.Context, user string, env *Env) error {
	if _, err := s.Run.Run(ctx, "id", "-u", user); err != nil {
		if _, err := s.Run.Run(ctx, "useradd", "--system", "--home-dir", env.Paths.StateDir, "--no-create-home",
			"--shell", "/usr/sbin/nologin", user); err != nil {
			return fmt.Errorf("create service user %s: %w", user, err)
		}
		env.Journal.Set("services.created-user", user)
	}
	for _, d := range []string{env.Paths.StateDir, env.Paths.LogDir} {
		if _, err := s.Run.Run(ctx, "chown", "-R", user+":", d); err != nil {
			return fmt.Errorf("give %s to %s: %w", d, user, err)
		}
	}
	return nil
}

func (s *servicesStep) Undo(_ context.Context, env *Env) error {
	hostName, updName := serviceNames(s.GOOS)
	var errs []error
	for _, n := range []string{hostName, updName} {
		_ = s.SM.Stop(n)
		if err := s.SM.Uninstall(n); err != nil && !errors.Is(err, errServiceNotInstalled) {
			errs = append(errs, fmt.Errorf("uninstall service %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}

var errServiceNotInstalled = errors.New("service not installed")

// kardianosManager is the real service manager: systemd or the Windows SCM
// through kardianos/service.
type kardianosManager struct{}

type noProgram struct{}

func (noProgram) Start(service.Service) error { return nil }
func (noProgram) Stop(service.Service) error  { return nil }

func (kardianosManager) svc(def ServiceDef) (service.Service, error) {
	cfg := &service.Config{Name: def.Name, DisplayName: def.DisplayName, Description: def.Description,
		Executable: def.Executable, Arguments: def.Args, UserName: def.User, Option: service.KeyValue{}}
	if runtime.GOOS == "windows" {
		cfg.Option["StartType"] = "automatic"
		cfg.Option["OnFailure"] = "restart"
	}
	if len(def.SystemdUnit) > 0 {
		// kardianos treats it as a template; ours is already rendered and has no actions.
		cfg.Option["SystemdScript"] = string(def.SystemdUnit)
	}
	return service.New(noProgram{}, cfg)
}

func (m kardianosManager) Install(def ServiceDef) error {
	s, err := m.svc(def)
	if err != nil {
		return err
	}
	if st, err := s.Status(); err == nil && st != service.StatusUnknown {
		// Installed already (a re-run or an upgrade): replace the definition.
		_ = s.Stop()
		if err := s.Uninstall(); err != nil {
			return err
		}
	}
	return s.Install()
}

func (m kardianosManager) named(name string) (service.Service, error) {
	return m.svc(ServiceDef{Name: name})
}

func (m kardianosManager) Uninstall(name string) error {
	s, err := m.named(name)
	if err != nil {
		return err
	}
	if st, err := s.Status(); errors.Is(err, service.ErrNotInstalled) || (err == nil && st == service.StatusUnknown) {
		return errServiceNotInstalled
	}
	return s.Uninstall()
}

func (m kardianosManager) Start(name string) error {
	s, err := m.named(name)
	if err != nil {
		return err
	}
	return s.Start()
}

func (m kardianosManager) Stop(name string) error {
	s, err := m.named(name)
	if err != nil {
		return err
	}
	return s.Stop()
}
