package cli

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

type checkJSON struct {
	Schema  int    `json:"schema"`
	OS      string `json:"os"`
	Passed  bool   `json:"passed"`
	Summary struct{ OK, Warnings, Errors, Skipped int }
	Checks  []struct {
		ID, Status, Severity, Message, Fix string
		Ignored                            bool
	}
}

func TestCheckJSON(t *testing.T) {
	code, out, errOut := run(t, "shir", "check", "--json", "--no-remote-access")
	var res checkJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("check --json: %v\n%s", err, out)
	}
	if res.Schema != 1 || res.OS != runtime.GOOS || len(res.Checks) < 10 {
		t.Fatalf("check --json = %+v", res)
	}
	// The exit code agrees with the document: 0 when passed, else 3.
	if want := map[bool]int{true: 0, false: 3}[res.Passed]; code != want {
		t.Errorf("exit code %d, passed %v; stderr %s", code, res.Passed, errOut)
	}
	if !res.Passed && !strings.Contains(errOut, "prerequisites failed") {
		t.Errorf("stderr %q", errOut)
	}
	for _, c := range res.Checks {
		if c.ID == "port-free" && c.Status != "skipped" {
			t.Errorf("--no-remote-access did not skip port-free: %+v", c)
		}
	}

	// --ignore all turns every error into a warning: exit 0.
	code, out, errOut = run(t, "shir", "check", "--json", "--no-remote-access", "--ignore", "all")
	res = checkJSON{}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || !res.Passed || res.Summary.Errors != 0 || errOut != "" {
		t.Fatalf("--ignore all: code %d, %+v, %v, stderr %q", code, res, err, errOut)
	}
}

func TestCheckTable(t *testing.T) {
	code, out, _ := run(t, "shir", "check", "--no-remote-access", "--ignore", "all")
	if code != 0 || !strings.HasPrefix(out, "ID") || !strings.Contains(out, "RESULT") || !strings.Contains(out, "FIX") ||
		!strings.Contains(out, "os-version") || !strings.Contains(out, " checks: ") {
		t.Fatalf("code %d, table:\n%s", code, out)
	}
}

func TestCheckBadInput(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--ignore", "dotnet-427"}, `unknown check id "dotnet-427"`},
		{[]string{"--port", "0"}, "--port: 0 is not a TCP port"},
		{[]string{"--port", "70000"}, "--port: 70000"},
		{[]string{"--server", "ftp://cp.example"}, `--server: "ftp://cp.example" is not an http(s) URL`},
		{[]string{"--server", "https://"}, "is not an http(s) URL with a host"},
		{[]string{"extra"}, "takes no arguments"},
	}
	for _, tt := range tests {
		code, out, errOut := run(t, append([]string{"shir", "check"}, tt.args...)...)
		if code != 2 || !strings.Contains(errOut, tt.wantErr) || out != "" {
			t.Errorf("check %v: code %d, stdout %q, stderr %q; want 2 and %q", tt.args, code, out, errOut, tt.wantErr)
		}
	}
}
