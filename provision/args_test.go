package provision

import (
	"errors"
	"strings"
	"testing"

	"github.com/shirhq/shir/internal/exitcode"
)

const testKey = "SHIR@rt1@prod@ServiceEndpoint=https://cp.example:8443@abcdefghijklmnopqrstuvwxyz012345"

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		want  string // Props.String()
		check func(t *testing.T, inv Invocation)
	}{
		{"msiexec style", []string{"/q", "/l*v", "install.log", "authkey=" + testKey, "NodeName=node1", "NOFIREWALL=1", "PORT=8061"},
			"AUTHKEY=<redacted> NODENAME=node1 NOFIREWALL=1 PORT=8061",
			func(t *testing.T, inv Invocation) {
				if !inv.MSIStyle || !inv.Quiet || inv.LogFile != "install.log" || !inv.LogVerbose {
					t.Errorf("inv = %+v", inv)
				}
			}},
		{"flags", []string{"--quiet", "--node-name", "n2", "--no-firewall", "--port=9000", "--root", "/tmp/r", "--no-service", "--dry-run"},
			"NODENAME=n2 NOFIREWALL=1 PORT=9000",
			func(t *testing.T, inv Invocation) {
				if inv.MSIStyle || !inv.Quiet || inv.Root != "/tmp/r" || !inv.NoService || !inv.DryRun {
					t.Errorf("inv = %+v", inv)
				}
			}},
		{"bool flag with value", []string{"--nofirewall=0", "--auto-update=0"}, "AUTOUPDATE=0 NOFIREWALL=0", nil},
		{"key from stdin", []string{"AUTHKEY=-"}, "AUTHKEY=<redacted>", nil},
		{"proxy and windows path", []string{`INSTALLDIR=C:\Program Files\shir`, "PROXY=http://proxy:3128", "PROXYUSER=u", "PROXYPASSWORD=pw"},
			`INSTALLDIR=C:\Program Files\shir PROXY=http://proxy:3128 PROXYPASSWORD=<redacted> PROXYUSER=u`, nil},
		{"help", []string{"/?"}, "", func(t *testing.T, inv Invocation) {
			if !inv.Help {
				t.Error("Help not set")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := ParseArgs(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if got := inv.Props.String(); got != tt.want {
				t.Errorf("props = %q, want %q", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, inv)
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"FOO=1"}, `unknown property "FOO"`},
		{[]string{"PORT=0"}, "PORT=\"0\": must be a TCP port"},
		{[]string{"PORT=x"}, "PORT"},
		{[]string{"NOFIREWALL=yes"}, "NOFIREWALL=\"yes\": must be 0 or 1"},
		{[]string{"PROXY=ftp://x:1"}, "PROXY"},
		{[]string{"PROXY=http://u:pw@x:1"}, "PROXYUSER"},
		{[]string{"INSTALLDIR=relative"}, "absolute"},
		{[]string{"NODENAME=a b"}, "NODENAME"},
		{[]string{"UPDATECHANNEL=nightly"}, "stable or beta"},
		{[]string{"UPDATESOURCE=github://shirhq"}, "UPDATESOURCE=\"github://shirhq\": must be github://owner/repo"},
		{[]string{"UPDATESOURCE=ftp://feed/"}, "UPDATESOURCE"},
		{[]string{"UPDATESOURCE=releases"}, "absolute path"},
		{[]string{"IGNOREPREREQ=ok,,x"}, "empty id"},
		{[]string{"AUTHKEY=SHIR@bad"}, "AUTHKEY: invalid authentication key"},
		{[]string{"AUTHKEY=SHIR@rt@n@ServiceEndpoint=http://h@secretsecretsecret"}, "https"},
		{[]string{"/x"}, "unknown switch /x"},
		{[]string{"/l*v"}, "needs a log file"},
		{[]string{"--bogus"}, "unknown flag --bogus"},
		{[]string{"--port"}, "--port needs a value"},
		{[]string{"stray"}, `unexpected argument "stray"`},
		{[]string{testKey}, "<redacted>"},
		{[]string{"PORT=1", "port=2"}, "given twice"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := ParseArgs(tt.args)
			if err == nil || !errors.Is(err, exitcode.ErrUsage) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want usage error containing %q", err, tt.wantErr)
			}
			for _, secret := range []string{"abcdefghijklmnop", "secretsecret", ":pw@"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks a secret: %v", err)
				}
			}
		})
	}
}

func FuzzParseArgs(f *testing.F) {
	f.Add("/q AUTHKEY=" + testKey + " PORT=8060")
	f.Add("--node-name n1 --no-firewall /l*v x.log")
	f.Fuzz(func(t *testing.T, line string) {
		inv, err := ParseArgs(strings.Fields(line))
		if err != nil {
			if !errors.Is(err, exitcode.ErrUsage) {
				t.Fatalf("error is not a usage error: %v", err)
			}
			return
		}
		for name := range inv.Props {
			if _, ok := LookupProperty(name); !ok {
				t.Fatalf("unknown property %q accepted", name)
			}
		}
		if strings.Contains(inv.Props.String(), "abcdefghijklmnop") {
			t.Fatal("String leaks the key")
		}
	})
}
