package provision

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// fakeOS records service and command calls as text.
type fakeOS struct {
	calls []string
	users map[string]bool
}

func (f *fakeOS) Install(d ServiceDef) error {
	f.calls = append(f.calls, fmt.Sprintf("install %s user=%q %s %s unit=%t", d.Name, d.User, d.Executable, strings.Join(d.Args, " "), len(d.SystemdUnit) > 0))
	return nil
}
func (f *fakeOS) Uninstall(n string) error { f.calls = append(f.calls, "uninstall "+n); return nil }
func (f *fakeOS) Start(n string) error     { f.calls = append(f.calls, "start "+n); return nil }
func (f *fakeOS) Stop(n string) error      { f.calls = append(f.calls, "stop "+n); return nil }
func (f *fakeOS) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	if name == "id" && !f.users[args[len(args)-1]] {
		return nil, fmt.Errorf("no such user")
	}
	if name == "useradd" {
		f.users[args[len(args)-1]] = true
	}
	return nil, nil
}

func TestServicesStepLinux(t *testing.T) {
	env := newEnv(t)
	env.Paths = DefaultPaths("linux")
	f := &fakeOS{users: map[string]bool{}}
	s := &servicesStep{GOOS: "linux", SM: f, Run: f}
	for range 2 { // idempotent: the second run finds the user
		if err := s.Apply(context.Background(), env); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Undo(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	want := `id -u shir
useradd --system --home-dir /var/lib/shir --no-create-home --shell /usr/sbin/nologin shir
chown -R shir: /var/lib/shir
chown -R shir: /var/log/shir
install shir-host user="shir" /opt/shir/shir agent run --config /etc/shir/shir.toml unit=true
install shir-updater user="" /opt/shir/shir updater run --config /etc/shir/shir.toml unit=true
id -u shir
chown -R shir: /var/lib/shir
chown -R shir: /var/log/shir
install shir-host user="shir" /opt/shir/shir agent run --config /etc/shir/shir.toml unit=true
install shir-updater user="" /opt/shir/shir updater run --config /etc/shir/shir.toml unit=true
stop shir-host
uninstall shir-host
stop shir-updater
uninstall shir-updater`
	if got := strings.Join(f.calls, "\n"); got != want {
		t.Errorf("calls:\n%s\nwant:\n%s", got, want)
	}
	if env.Journal.Get("services.created-user") != "shir" {
		t.Error("created user not journaled")
	}
}

func TestServicesStepWindows(t *testing.T) {
	env := newEnv(t)
	env.Paths = Paths{BinDir: `C:\Program Files\shir`, ConfigFile: `C:\ProgramData\shir\shir.toml`, StateDir: `C:\ProgramData\shir\state`, LogDir: `C:\ProgramData\shir\logs`}
	f := &fakeOS{users: map[string]bool{}}
	s := &servicesStep{GOOS: "windows", SM: f, Run: f, Grant: func(a string) error { f.calls = append(f.calls, "grant logon "+a); return nil }}
	if err := s.Apply(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(f.calls, "\n")
	if !strings.HasPrefix(got, `grant logon NT SERVICE\shirhost`) || !strings.Contains(got, "--service") || !strings.Contains(got, `install shirhost user="NT SERVICE\\shirhost"`) || !strings.Contains(got, `install shirupdater user=""`) || !strings.Contains(got, `shir.exe updater run --config C:\ProgramData\shir\shir.toml --service unit=false`) || strings.Contains(got, "useradd") {
		t.Errorf("calls:\n%s", got)
	}
	env.NoService = true
	if skip, why := s.Skip(env); !skip || !strings.Contains(why, "--no-service") {
		t.Errorf("Skip = %v %q", skip, why)
	}
}
