package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "shir", "version")
	if code != 0 || !strings.Contains(out, "go version: "+runtime.Version()) || !strings.Contains(out, runtime.GOOS+"/"+runtime.GOARCH) {
		t.Fatalf("code %d, out:\n%s", code, out)
	}
	code, out, _ = run(t, "shir", "version", "--json")
	var v map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v["version"] == "" || v["os"] != runtime.GOOS {
		t.Fatalf("version --json: code %d, out %q", code, out)
	}
}

func TestExitCodes(t *testing.T) {
	key := "SHIR@rt1@prod@ServiceEndpoint=https://cp.example:8443@abcdefghijklmnopqrstuvwxyz012345"
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"help", []string{"shir", "help"}, 0, ""},
		{"no args shows help", []string{"shir"}, 0, ""},
		{"unknown command", []string{"shir", "bogus"}, 2, `unknown command "bogus"`},
		{"unknown flag", []string{"shir", "version", "--bogus"}, 2, "unknown flag: --bogus"},
		{"group without subcommand", []string{"shir", "runtime"}, 2, "needs a subcommand"},
		{"unknown subcommand", []string{"shir", "runtime", "bogus"}, 2, `unknown command "bogus" for "shir runtime"`},
		{"missing argument", []string{"shir", "runtime", "create"}, 2, "needs 1 argument(s) (NAME), got 0"},
		{"fleet apply without a fleet file", []string{"shir", "fleet", "apply", "-f", "/nonexistent/fleet.yaml"}, 2, "fleet file"},
		{"install msiexec bad property", []string{"shir", "install", "/q", "FOO=1"}, 1603, `unknown property "FOO"`},
		{"install flag bad property", []string{"shir", "install", "--port", "0"}, 2, "PORT"},
		{"purge only for uninstall", []string{"shir", "install", "--purge"}, 2, "only for uninstall"},
		{"dmgcmd bad action", []string{"shir", "dmgcmd", "-nope"}, 2, "unknown action"},
		{"dmgcmd register, bad node name", []string{"shir", "dmgcmd", "--root", "/nonexistent/x", "-rn", key, "bad name"}, 2, "NodeName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if tt.wantErr != "" && !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.wantErr)
			}
			if tt.wantErr == "" && errOut != "" {
				t.Errorf("unexpected stderr %q", errOut)
			}
			if strings.Contains(out+errOut, "abcdefghijklmnop") {
				t.Errorf("output leaks the key")
			}
		})
	}
}

func TestDmgcmdDispatch(t *testing.T) {
	for _, argv0 := range []string{"dmgcmd", "/opt/shir/dmgcmd", `C:\Program Files\shir\DmgCmd.EXE`, "DMGCMD.exe"} {
		t.Run(argv0, func(t *testing.T) {
			code, out, errOut := run(t, argv0, "-?")
			if code != 0 || !strings.Contains(out, "-RegisterNewNode \"<AuthenticationKey>\" [\"<NodeName>\"]") {
				t.Fatalf("code %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			code, _, errOut = run(t, argv0, "-toffau", "extra")
			if code != 2 || !strings.Contains(errOut, "-TurnOffAutoUpdate takes no arguments") {
				t.Fatalf("code %d, stderr %s", code, errOut)
			}
		})
	}
	if isDmgcmd("shir") || isDmgcmd("dmgcmdx") || isDmgcmd("/usr/bin/shir.exe") {
		t.Error("isDmgcmd matches other names")
	}
}

// TestEveryCommandRegistered checks the command table of DESIGN.md and that
// every leaf either works or says it is not implemented (never a fake success).
func TestEveryCommandRegistered(t *testing.T) {
	want := []string{
		"check", "install", "uninstall", "repair", "dmgcmd", "agent run", "updater run",
		"update check", "update apply", "release keygen", "release sign", "release verify",
		"server", "runtime create", "runtime list", "runtime show", "runtime delete", "runtime keys",
		"runtime regenerate-key", "job submit", "job list", "job show", "job cancel",
		"firewall status", "firewall open", "firewall close", "arm template", "arm lint",
		"arm handler", "fleet plan", "fleet apply", "fleet cloud-init", "quickstart", "version",
	}
	root := (&app{}).rootCommand()
	for _, path := range want {
		c, rest, err := root.Find(strings.Fields(path))
		if err != nil || len(rest) != 0 || c.Name() != strings.Fields(path)[len(strings.Fields(path))-1] {
			t.Errorf("command %q is not registered", path)
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Short == "" {
			t.Errorf("%s has no help text", c.CommandPath())
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}
