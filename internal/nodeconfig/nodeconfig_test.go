package nodeconfig

import (
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shirhq/shir/internal/exitcode"
)

func TestParse(t *testing.T) {
	abs := "/var/lib/shir"
	bin := "/usr/bin/true"
	if runtime.GOOS == "windows" {
		abs, bin = `C:\state`, `C:\Windows\System32\whoami.exe`
	}
	good := `
server = "https://cp.example:8443"
node_name = "node-1"
state_dir = '` + abs + `'
concurrency = 4
log_level = "DEBUG"
shutdown_timeout = "45s"
[exec]
allow = ['` + bin + `']
[proxy]
mode = "custom"
url = "http://proxy:3128"
user = "bob"
[update]
source = "github://shirhq/shir"
channel = "beta"
constraint = "~> 1.4"
window = "Sun 02:00-04:00"
interval = "30m"
`
	c, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Concurrency != 4 || c.ShutdownTimeout.Duration != 45*time.Second || c.Exec.Allow[0] != bin || c.Proxy.User != "bob" || c.StateDir != abs {
		t.Fatalf("parsed %+v", c)
	}
	// Round trip through Encode.
	b, err := Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse(b)
	if err != nil || c2.Server != c.Server || c2.ShutdownTimeout != c.ShutdownTimeout || c2.Proxy != c.Proxy || c2.Update != c.Update {
		t.Fatalf("round trip: %+v %v\n%s", c2, err, b)
	}
	if c.Update.Interval.Duration != 30*time.Minute || c.Update.Channel != "beta" || c.Update.Source != "github://shirhq/shir" {
		t.Fatalf("update table: %+v", c.Update)
	}
	// With no update settings there is no [update] table.
	if b, _ := Encode(Config{NodeName: "n"}); strings.Contains(string(b), "update") || strings.Contains(string(b), "interval") {
		t.Errorf("empty update table encoded:\n%s", b)
	}
	if c, err := Parse(nil); err != nil || c.Concurrency != 0 {
		t.Fatalf("empty file: %v", err)
	}

	tests := []struct{ in, field string }{
		{`server = "http://cp"`, "server"},
		{`node_name = "a b"`, "node_name"},
		{`state_dir = "rel/dir"`, "state_dir"},
		{`concurrency = -1`, "concurrency"},
		{`concurrency = 1000`, "concurrency"},
		{`log_level = "loud"`, "log_level"},
		{`shutdown_timeout = "soon"`, "shutdown_timeout"},
		{`shutdown_timeout = "2h"`, "shutdown_timeout"},
		{"[exec]\nallow = [\"echo\"]", "exec.allow[0]"},
		{"[proxy]\nmode = \"auto\"", "proxy.mode"},
		{"[proxy]\nmode = \"custom\"\nurl = \"ftp://p:1\"", "proxy.url"},
		{"[update]\nchannel = \"nightly\"", "update.channel"},
		{"[update]\ninterval = \"5s\"", "update.interval"},
		{"[update]\ninterval = \"later\"", "interval"},
		{"[update]\ngithub_api = \"ftp://x\"", "update.github_api"},
		{"[update]\nsource = \"a\\nb\"", "update.source"},
		{"[update]\nsorce = \"x\"", "unknown field update.sorce"},
		{`colour = "blue"`, "unknown field colour"},
		{"[exec]\nalow = []", "unknown field exec.alow"},
		{`server = `, "line 1"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.field) || !errors.Is(err, exitcode.ErrUsage) {
			t.Errorf("Parse(%q) = %v, want a usage error naming %q", tt.in, err, tt.field)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "shir.toml")
	if _, err := Load(p, true); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, false); err == nil {
		t.Fatal("missing config accepted")
	}
}

func TestDefaultPaths(t *testing.T) {
	root := t.TempDir()
	p := DefaultPaths(root)
	if !strings.HasPrefix(p.Config, root) || !strings.HasPrefix(p.StateDir, root) || filepath.Base(p.Config) != "shir.toml" {
		t.Fatalf("paths under root: %+v", p)
	}
	if p := DefaultPaths(""); !filepath.IsAbs(p.Config) || !filepath.IsAbs(p.StateDir) {
		t.Fatalf("default paths not absolute: %+v", p)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("concurrency = 2\n[proxy]\nmode = \"system\"\n"))
	f.Add([]byte("server = \"https://x:1\""))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err == nil {
			if err := c.Validate(); err != nil {
				t.Fatalf("Parse accepted what Validate refuses: %v", err)
			}
		} else if !errors.Is(err, exitcode.ErrUsage) {
			t.Fatalf("error %v is not a usage error", err)
		}
	})
}

func TestRemoteAccessSetting(t *testing.T) {
	dir := t.TempDir()
	if ra, err := LoadRemoteAccess(dir); err != nil || ra.Enabled {
		t.Fatalf("missing file: %+v %v", ra, err)
	}
	want := RemoteAccess{Enabled: true, Port: 8060, CertFile: filepath.Join(dir, "c.pem")}
	if err := SaveRemoteAccess(dir, want); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadRemoteAccess(dir); err != nil || got != want {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, c := range []struct {
		in, field string
	}{
		{`{"enabled":true,"port":0}`, "port"},
		{`{"enabled":true,"port":8060,"thumbprint":"xyz"}`, "thumbprint"},
		{`{"enabled":true,"port":8060,"certFile":"rel.pem"}`, "certFile"},
		{`{"enabled":true,"port":8060,"certFile":"/a.pem","thumbprint":"` + strings.Repeat("A", 40) + `"}`, "thumbprint"},
		{`{"enabled":true,"port":8060,"extra":1}`, "extra"},
	} {
		if _, err := ParseRemoteAccess([]byte(c.in)); err == nil || !errors.Is(err, exitcode.ErrUsage) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v", c.in, err)
		}
	}
	if err := SaveRemoteAccess(dir, RemoteAccess{Enabled: true, Port: 70000}); err == nil {
		t.Error("bad port saved")
	}
	if _, err := Parse([]byte(`remote_access_host = "bad host:1"`)); err == nil || !strings.Contains(err.Error(), "remote_access_host") {
		t.Errorf("bad remote_access_host: %v", err)
	}
	if c, err := Parse([]byte(`remote_access_host = "node1.corp.example"`)); err != nil || c.RemoteAccessHost != "node1.corp.example" {
		t.Errorf("remote_access_host: %v", err)
	}
}

func FuzzParseRemoteAccess(f *testing.F) {
	f.Add([]byte(`{"enabled":true,"port":8060}`))
	f.Add([]byte(`{"enabled":true,"port":8060,"thumbprint":"0123456789abcdef0123456789abcdef01234567"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ra, err := ParseRemoteAccess(b)
		if err != nil {
			if !errors.Is(err, exitcode.ErrUsage) {
				t.Fatalf("error without ErrUsage: %v", err)
			}
			return
		}
		if err := ra.Validate(); err != nil {
			t.Fatalf("accepted an invalid setting: %v", err)
		}
	})
}
