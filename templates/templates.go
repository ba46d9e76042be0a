package templates

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"strings"
	"text/template"
)

//go:embed systemd/*.tmpl
var files embed.FS

// Unit is what the systemd unit templates need.
type Unit struct {
	Binary     string // absolute path of shir
	ConfigFile string
	User       string // service user of the host service
	StateDir   string // absolute; must be under /var/lib for StateDirectory=
	LogDir     string // absolute; must be under /var/log for LogsDirectory=
}

// StateDirName is StateDir relative to /var/lib, as StateDirectory= wants.
func (u Unit) StateDirName() string { return strings.TrimPrefix(u.StateDir, "/var/lib/") }

// LogDirName is LogDir relative to /var/log, as LogsDirectory= wants.
func (u Unit) LogDirName() string { return strings.TrimPrefix(u.LogDir, "/var/log/") }

// Unit names of the two services.
const (
	HostUnit    = "shir-host.service"
	UpdaterUnit = "shir-updater.service"
)

// RenderUnit renders the systemd unit name (HostUnit or UpdaterUnit).
func RenderUnit(name string, u Unit) ([]byte, error) {
	for field, v := range map[string]string{"Binary": u.Binary, "ConfigFile": u.ConfigFile, "StateDir": u.StateDir, "LogDir": u.LogDir} {
		if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, " \t\n\"'\\%$") {
			return nil, fmt.Errorf("render %s: %s %q must be an absolute path without spaces, quotes, %%, $ or backslashes", name, field, v)
		}
	}
	if !strings.HasPrefix(u.StateDir, "/var/lib/") || !strings.HasPrefix(u.LogDir, "/var/log/") {
		return nil, fmt.Errorf("render %s: state dir must be under /var/lib and log dir under /var/log", name)
	}
	if u.User == "" || strings.ContainsAny(u.User, " \t\n\"'\\%$/") {
		return nil, fmt.Errorf("render %s: user %q is not a valid user name", name, u.User)
	}
	return render("systemd/"+strings.TrimSuffix(name, ".service")+".service.tmpl", u)
}

func render(name string, data any) ([]byte, error) {
	t, err := template.New(path.Base(name)).Option("missingkey=error").ParseFS(files, name)
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return b.Bytes(), nil
}
