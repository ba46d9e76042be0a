package depcheck

import (
	"context"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

func TestCheckRules(t *testing.T) {
	const m = "example.com/shir"
	pkgs := []Package{
		{m + "/cmd/shir/cli", []string{m + "/provision", m + "/controlplane", "fmt"}},
		{m + "/provision", []string{m + "/prereq", m + "/agent/register", m + "/internal/exitcode"}},
		{m + "/provision/fleet", []string{m + "/provision", m + "/controlplane/api"}},
		{m + "/agent", []string{m + "/agent/register", m + "/updater"}},
		{m + "/controlplane/store", []string{m + "/controlplane/api", m + "/internal/x"}},
		{m + "/internal/x", []string{"golang.org/x/sys/windows"}},
		// forbidden:
		{m + "/prereq", []string{m + "/firewall"}},
		{m + "/agent/register", []string{m + "/agent"}},
		{m + "/templates", []string{m + "/internal/x"}},
		{m + "/internal/x/y", []string{m + "/prereq"}},
		{m + "/controlplane", []string{m + "/agent"}},
		{m + "/updater", []string{m + "/controlplane/api"}},
		{m + "/newpkg", []string{m + "/internal/x"}},
	}
	got := Check(m, Rules, pkgs)
	var lines []string
	for _, v := range got {
		lines = append(lines, v.String())
	}
	want := strings.Join([]string{
		`agent/register imports agent: rule "agent/register" does not allow it`,
		`controlplane imports agent: rule "controlplane" does not allow it`,
		`internal/x/y imports prereq: rule "internal" does not allow it`,
		`newpkg: no rule in DESIGN.md covers this package (imports internal/x)`,
		`prereq imports firewall: rule "prereq" does not allow it`,
		`templates imports internal/x: rule "templates" does not allow it`,
		`updater imports controlplane/api: rule "updater" does not allow it`,
	}, "\n")
	if g := strings.Join(lines, "\n"); g != want {
		t.Errorf("violations:\n%s\nwant:\n%s", g, want)
	}
}

// TestFixtureModuleFails runs the real `go list -deps` on a module with a
// forbidden edge, so the whole path (listing + checking) is shown to fail.
func TestFixtureModuleFails(t *testing.T) {
	requireGo(t)
	module, pkgs, err := List(context.Background(), "testdata/badmod", runtime.GOOS)
	if err != nil {
		t.Fatal(err)
	}
	got := Check(module, Rules, pkgs)
	if len(got) != 1 || got[0].From != "prereq" || got[0].To != "firewall" {
		t.Fatalf("violations = %v, want exactly prereq -> firewall", got)
	}
}

// TestModuleImports is the guard: this module, for linux and windows.
func TestModuleImports(t *testing.T) {
	requireGo(t)
	for _, goos := range []string{"linux", "windows"} {
		t.Run(goos, func(t *testing.T) {
			module, pkgs, err := List(context.Background(), "../..", goos)
			if err != nil {
				t.Fatal(err)
			}
			if len(pkgs) < 10 {
				t.Fatalf("go list found only %d packages; the listing is broken", len(pkgs))
			}
			for _, v := range Check(module, Rules, pkgs) {
				t.Errorf("GOOS=%s: %s", goos, v)
			}
		})
	}
}

func requireGo(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("not run in the Windows test binary: the go tool is not available under Wine; the linux run covers GOOS=windows too")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not in PATH: dependency directions were not checked")
	}
}
