package provision

import (
	"errors"
	"strings"
	"testing"

	"github.com/shirhq/shir/internal/exitcode"
)

func TestParseDmgcmd(t *testing.T) {
	tests := []struct {
		args []string
		want string // String() of the command, or "help"
	}{
		{nil, "help"},
		{[]string{"-?"}, "help"},
		{[]string{"/help"}, "help"},
		{[]string{"-rn", testKey}, "-RegisterNewNode <redacted>"},
		{[]string{"-RegisterNewNode", testKey, "node1"}, "-RegisterNewNode <redacted> node1"},
		{[]string{"/REGISTERNEWNODE", testKey}, "-RegisterNewNode <redacted>"},
		{[]string{"-era", "8060"}, "-EnableRemoteAccess 8060"},
		{[]string{"-erac", "8060", "0123456789abcdef0123456789abcdef01234567"}, "-EnableRemoteAccessInContainer 8060 0123456789abcdef0123456789abcdef01234567"},
		{[]string{"-gbf", `C:\b.bak`, "pw"}, `-GenerateBackupFile C:\b.bak <redacted>`},
		{[]string{"-ibf", "/tmp/b.bak", "pw"}, "-ImportBackupFile /tmp/b.bak <redacted>"},
		{[]string{"-toffau"}, "-TurnOffAutoUpdate"},
		{[]string{"-ssa", `dom\u`, "pw"}, `-SwitchServiceAccount dom\u <redacted>`},
		{[]string{"-loglevel", "verbose"}, "-Loglevel Verbose"},
		{[]string{"-t"}, "-Stop"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			c, err := ParseDmgcmd(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			got := c.String()
			if c.Help {
				got = "help"
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseDmgcmdErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"rn"}, "is not an action"},
		{[]string{testKey}, "<redacted>"},
		{[]string{"-bogus"}, `unknown action "-bogus"`},
		{[]string{"-rn"}, `-RegisterNewNode takes "<AuthenticationKey>" ["<NodeName>"], got 0`},
		{[]string{"-s", "x"}, "-Start takes no arguments, got 1"},
		{[]string{"-gbf", "f"}, "got 1"},
		{[]string{"-era", "99999"}, "TCP port"},
		{[]string{"-ll", "loud"}, "Off, Error, Warning, Info, Verbose"},
		{[]string{"-rn", testKey, "bad name"}, "NodeName"},
		{[]string{"-era", "8060", "not-a-thumbprint"}, "thumbprint"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := ParseDmgcmd(tt.args)
			if err == nil || !errors.Is(err, exitcode.ErrUsage) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want usage error containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "abcdefghijklmnop") {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
}

func TestDmgUsageListsEveryAction(t *testing.T) {
	u := DmgUsage()
	for _, a := range DmgActions {
		if !strings.Contains(u, "-"+a.Long) || !strings.Contains(u, "-"+a.Short+" ") {
			t.Errorf("usage misses -%s / -%s", a.Long, a.Short)
		}
	}
}
