package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shirhq/shir/cmd/shir/cli"
	"github.com/shirhq/shir/controlplane"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
	"github.com/shirhq/shir/controlplane/cptest"
	"github.com/shirhq/shir/provision"
)

const pkgBuildinfo = "github.com/shirhq/shir/internal/buildinfo"

// build compiles this command for goos/amd64 with version info set by the
// linker, as a release build does.
func build(t *testing.T, goos, out string) {
	t.Helper()
	buildVersion(t, goos, out, "1.2.3-test")
}

func buildVersion(t *testing.T, goos, out, version string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the go tool is not available inside the Windows test binary; the linux run builds and runs shir.exe under Wine")
	}
	ldflags := "-s -w -X " + pkgBuildinfo + ".Version=" + version + " -X " + pkgBuildinfo + ".Commit=abc123 -X " + pkgBuildinfo + ".Date=2026-11-25T00:00:00Z"
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, ".")
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build GOOS=%s: %v\n%s", goos, err, b)
	}
}

func checkVersionJSON(t *testing.T, out []byte, goos string) {
	t.Helper()
	var v struct{ Version, Commit, Date, OS, Arch string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("version --json: %v: %q", err, out)
	}
	if v.Version != "1.2.3-test" || v.Commit != "abc123" || v.Date != "2026-11-25T00:00:00Z" || v.OS != goos || v.Arch != "amd64" {
		t.Errorf("version = %+v", v)
	}
}

// checkCheckJSON parses `shir check --json` output and checks that the exit
// code agrees with it (0 passed, 3 failed) and that the check list is the
// one of goos.
func checkCheckJSON(t *testing.T, out []byte, err error, goos string, wantIDs ...string) {
	t.Helper()
	var res struct {
		Schema int
		OS     string
		Passed bool
		Checks []struct{ ID, Status, Message string }
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("check --json: %v (exit %v): %q", jerr, err, out)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if want := map[bool]int{true: 0, false: 3}[res.Passed]; code != want {
		t.Errorf("check --json: exit %d, passed %v", code, res.Passed)
	}
	if res.Schema != 1 || res.OS != goos {
		t.Errorf("check --json: schema %d, os %q", res.Schema, res.OS)
	}
	ids := map[string]bool{}
	for _, c := range res.Checks {
		ids[c.ID] = true
		if c.Status == "" || c.Message == "" {
			t.Errorf("check %s: empty status or message", c.ID)
		}
	}
	for _, id := range wantIDs {
		if !ids[id] {
			t.Errorf("check --json on %s has no %s check", goos, id)
		}
	}
}

func TestBinaryLinux(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("runs only on linux/amd64")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "shir")
	build(t, "linux", bin)
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	checkVersionJSON(t, out, "linux")

	dmg := filepath.Join(dir, "dmgcmd")
	if err := os.Link(bin, dmg); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(dmg, "-?").Output()
	if err != nil || !strings.Contains(string(out), "-RegisterNewNode") {
		t.Fatalf("dmgcmd -?: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "check", "--json", "--no-remote-access").Output()
	checkCheckJSON(t, out, err, "linux", "os-version", "systemd", "memory")
	out, err = exec.Command(bin, "check", "--ignore", "all", "--no-remote-access").Output()
	if err != nil || !strings.HasPrefix(string(out), "ID ") || !strings.Contains(string(out), "os-version") {
		t.Fatalf("check --ignore all: %v\n%s", err, out)
	}

	err = exec.Command(bin, "install", "/q", "BOGUS=1").Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1603&0xff {
		t.Fatalf("install /q BOGUS=1: %v, want exit 1603 (cut to 8 bits)", err)
	}

	// A second install while one runs: exit 5, or 1618 msiexec style.
	root := t.TempDir()
	unlock, err := provision.Lock(provision.RootPaths("linux", root).StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	for _, tc := range []struct {
		args []string
		code int
	}{{[]string{"install", "--root", root, "--no-service"}, 5}, {[]string{"install", "/q", "--root", root, "--no-service"}, 1618 & 0xff}} {
		out, err := exec.Command(bin, tc.args...).CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != tc.code || !strings.Contains(string(out), "locked by another shir install") {
			t.Errorf("%v while locked: %v, want exit %d\n%s", tc.args, err, tc.code, out)
		}
	}
}

// TestBinaryWine runs shir.exe and dmgcmd.exe under Wine (../shared/wine).
// SHIR_WINE_EXEC names go-wine-exec; make test sets it. With
// SHIR_REQUIRE_WINE=1 (CI) a missing Wine fails instead of skipping.
func TestBinaryWine(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("this is the Windows test binary itself: the linux run drives shir.exe under Wine")
	}
	wine := os.Getenv("SHIR_WINE_EXEC")
	if wine == "" {
		if os.Getenv("SHIR_REQUIRE_WINE") == "1" {
			t.Fatal("SHIR_WINE_EXEC is not set but SHIR_REQUIRE_WINE=1")
		}
		t.Skip("SHIR_WINE_EXEC not set: shir.exe and dmgcmd.exe were not run under Wine (make test sets it)")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "shir.exe")
	build(t, "windows", exe)
	out, err := exec.Command(wine, exe, "version", "--json").Output()
	if err != nil {
		t.Fatalf("wine shir.exe version: %v", err)
	}
	checkVersionJSON(t, out, "windows")

	dmg := filepath.Join(dir, "DMGCMD.EXE")
	if err := os.Link(exe, dmg); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(wine, dmg, "-?").Output()
	if err != nil || !strings.Contains(string(out), `-RegisterNewNode "<AuthenticationKey>" ["<NodeName>"]`) || !strings.Contains(string(out), "-TurnOffAutoUpdate") {
		t.Fatalf("wine dmgcmd.exe -?: %v\n%s", err, out)
	}
	// shir.exe check under Wine: the real registry, SCM, LSA, token and
	// power API (which Wine lacks: power is "could not determine").
	out, err = exec.Command(wine, exe, "check", "--json", "--no-remote-access").Output()
	checkCheckJSON(t, out, err, "windows", "os-version", "dotnet-472", "not-dc", "power", "logon-right")
	out, err = exec.Command(wine, exe, "check", "--ignore", "all").Output()
	if err != nil || !strings.HasPrefix(string(out), "ID ") || !strings.Contains(string(out), "dotnet-472") {
		t.Fatalf("wine shir.exe check --ignore all: %v\n%s", err, out)
	}

	err = exec.Command(wine, exe, "dmgcmd", "-bogus").Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("wine shir.exe dmgcmd -bogus: %v, want exit 2", err)
	}
	wineInstall(t, wine, exe)
}

// wineInstall runs the installer as an admin would under Wine: a sandbox
// install, then a system install whose services go through kardianos/service
// into Wine's service manager, and the uninstalls.
func wineInstall(t *testing.T, wine, exe string) {
	prefix := os.Getenv("WINEPREFIX")
	if prefix == "" {
		prefix = filepath.Join(os.Getenv("HOME"), ".wine-shir")
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(wine, append([]string{exe}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("wine shir.exe %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// 1. Sandbox: --root on the Linux side, seen as Z:\... by Windows.
	root := t.TempDir()
	winRoot := "Z:" + strings.ReplaceAll(root, "/", `\`)
	out := run("install", "/q", "--root", winRoot, "--no-service", "NODENAME=n1", "IGNOREPREREQ=all")
	if !strings.Contains(out, "install complete") {
		t.Fatalf("sandbox install:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(root, "Program Files", "shir", "shir.exe")); err != nil {
		t.Fatalf("sandbox binary: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "Program Files", "shir", "dmgcmd.exe")); err != nil {
		t.Fatalf("sandbox dmgcmd.exe: %v", err)
	}
	// Uninstall with the installed shir.exe itself, as an admin would: the
	// running exe cannot be deleted, so it is renamed aside for deletion at
	// the next reboot.
	installed := filepath.Join(root, "Program Files", "shir", "shir.exe")
	if out, err := exec.Command(wine, installed, "uninstall", "/q", "--root", winRoot, "--no-service").CombinedOutput(); err != nil {
		t.Fatalf("uninstall by the installed shir.exe: %v\n%s", err, out)
	}
	for _, f := range []string{"shir.exe", "dmgcmd.exe"} {
		if _, err := os.Stat(filepath.Join(root, "Program Files", "shir", f)); !os.IsNotExist(err) {
			t.Errorf("sandbox uninstall left %s: %v", f, err)
		}
	}

	// 2. A system install with services that registers with a control plane
	// (in this Linux test process): both services start through kardianos
	// in Wine's SCM, answer it through internal/svcrun, and the host service
	// heartbeats and runs a job. Then dmgcmd stops and starts the host
	// service, and uninstall removes both services and the binary.
	t.Cleanup(func() {
		_ = exec.Command(wine, exe, "uninstall", "/q").Run()
		_ = os.RemoveAll(filepath.Join(prefix, "drive_c", "ProgramData", "shir"))
	})
	// Wine "shuts the machine down" (stops services.exe and every service)
	// a few seconds after its last ordinary process exits, and the next wine
	// command boots it again, auto-starting shirhost. A keeper process holds
	// one session for the whole part, so the service states seen here are
	// the ones shir set.
	keepWineSession(t, prefix)
	// In that session Wine may start helpers (explorer.exe) that inherit
	// the stdio of the command that needed them and live as long as the
	// session: output goes to a file, never a pipe, so waiting ends when
	// the command does.
	run = func(args ...string) string {
		t.Helper()
		out, err := wineToFile(t, prefix, exe, args...)
		if err != nil {
			t.Fatalf("wine shir.exe %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	// A prefix used before (not in CI) may hold an install or the kept state
	// of one: start from a clean machine.
	_ = exec.Command(wine, exe, "uninstall", "/q", "--purge").Run()
	cl, addr, rtID, key := wineControlPlane(t)
	keyFile := filepath.Join(t.TempDir(), "authkey")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out = run("install", "/q", "AUTHKEY=@Z:"+strings.ReplaceAll(keyFile, "/", `\`), "NODENAME=winsvc", "IGNOREPREREQ=all", "NOFIREWALL=1")
	for _, want := range []string{`granted NT SERVICE\shirhost "Log on as a service"`, "installed shirhost", "installed shirupdater",
		"skipped (NOFIREWALL=1)", "port 8060", "first heartbeat acknowledged (node winsvc)", "install complete"} {
		if !strings.Contains(out, want) {
			t.Errorf("system install output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "SHIR@") {
		t.Errorf("install output shows the key:\n%s", out)
	}
	scState := func(name string) string {
		out, _ := wineToFile(t, prefix, "sc", "query", name)
		return out
	}
	for _, n := range []string{"shirhost", "shirupdater"} {
		if sc := scState(n); !strings.Contains(sc, "RUNNING") {
			t.Errorf("sc query %s after install: want RUNNING\n%s", n, sc)
		}
	}
	node := waitNode(t, cl, rtID, "winsvc", "Online")
	if node.Machine.OS != "windows" {
		t.Errorf("node machine OS = %q, want windows", node.Machine.OS)
	}
	// The service runs a job: a TCP test connection to the control plane.
	spec, _ := json.Marshal(api.TestConnectionSpec{Protocol: "tcp", Address: addr, TimeoutSeconds: 10})
	job, err := cl.SubmitJob(context.Background(), api.SubmitJobRequest{Runtime: rtID, Kind: "testconnection", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	if job = waitJob(t, cl, job.ID); job.State != api.JobSucceeded || !strings.Contains(string(job.Output), `"reachable":true`) {
		t.Errorf("testconnection job on the Windows service node: %+v (output %s)", job, job.Output)
	}

	// A signed update of the running service node: the upgrade path
	// replaces the installed shir.exe (and its dmgcmd.exe link), restarts
	// shirhost through the SCM and waits for its healthy heartbeat.
	feed, rootPub := signedFeed(t, "1.2.4-test")
	sysBin := filepath.Join(prefix, "drive_c", "Program Files", "shir")
	upd, err := wineToFile(t, prefix, filepath.Join(sysBin, "shir.exe"), "update", "apply", "--source", winPath(feed),
		"--root-pub", winPath(rootPub), "--health-timeout", "90s")
	if err != nil || !strings.Contains(string(upd), "updated 1.2.3-test -> 1.2.4-test") {
		t.Fatalf("update apply under Wine: %v\n%s", err, upd)
	}
	waitNode(t, cl, rtID, "winsvc", "Online", "1.2.4-test")
	a, _ := os.ReadFile(filepath.Join(sysBin, "shir.exe"))
	b, _ := os.ReadFile(filepath.Join(sysBin, "dmgcmd.exe"))
	if !bytes.Equal(a, b) {
		t.Errorf("dmgcmd.exe was not updated with shir.exe:\n%s", upd)
	}

	if out := run("dmgcmd", "-t"); !strings.Contains(out, "host service shirhost stopped") {
		t.Errorf("dmgcmd -t:\n%s", out)
	}
	if sc := scState("shirhost"); !strings.Contains(sc, "STOPPED") {
		t.Errorf("sc query shirhost after dmgcmd -t: want STOPPED\n%s", sc)
	}
	if out := run("dmgcmd", "-s"); !strings.Contains(out, "host service shirhost started") {
		t.Errorf("dmgcmd -s:\n%s", out)
	}
	if sc := scState("shirhost"); !strings.Contains(sc, "RUNNING") {
		t.Errorf("sc query shirhost after dmgcmd -s: want RUNNING\n%s", sc)
	}

	out = run("uninstall", "/q")
	if !strings.Contains(out, "[services] removed") || !strings.Contains(out, "kept state") {
		t.Errorf("uninstall:\n%s", out)
	}
	for _, n := range []string{"shirhost", "shirupdater"} {
		if sc := scState(n); strings.Contains(sc, "SERVICE_NAME: "+n) {
			t.Errorf("%s still installed:\n%s", n, sc)
		}
	}
	// Nothing is left in Program Files, the updater's rollback copies included.
	if ents, err := os.ReadDir(sysBin); !os.IsNotExist(err) {
		t.Errorf("uninstall left %s: %v %v", sysBin, ents, err)
	}
	// The host service is gone: the node goes offline on the control plane
	// but stays registered (state kept for a reinstall).
	waitNode(t, cl, rtID, "winsvc", "Offline")
}

// keepWineSession runs `cmd /c pause` under Wine until the test ends: an
// ordinary process that keeps the prefix's wineserver and services alive.
func keepWineSession(t *testing.T, prefix string) {
	t.Helper()
	cmd := exec.Command("wine", "cmd", "/c", "pause")
	cmd.Env = wineEnv(prefix)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the Wine session keeper: %v", err)
	}
	t.Cleanup(func() {
		in.Close() // pause reads EOF and exits
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
}

func wineEnv(prefix string) []string {
	return append(os.Environ(), "WINEPREFIX="+prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=")
}

// wineToFile runs exe under Wine with stdout and stderr in a file and
// returns what it wrote.
func wineToFile(t *testing.T, prefix, exe string, args ...string) (string, error) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "wine-out-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("wine", append([]string{exe}, args...)...)
	cmd.Env = wineEnv(prefix)
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	b, _ := os.ReadFile(f.Name())
	return string(b), err
}

// winPath is a Linux path as Wine's Z: drive shows it.
func winPath(p string) string { return "Z:" + strings.ReplaceAll(p, "/", `\`) }

// signedFeed builds shir.exe at version into a local release feed signed by
// a fresh root and signing key (shir release keygen, keys, sign, run
// in-process), and returns the feed directory and the root public key.
func signedFeed(t *testing.T, version string) (feed, rootPub string) {
	t.Helper()
	dir := t.TempDir()
	art := filepath.Join(dir, "dist", "shir_windows_amd64")
	if err := os.MkdirAll(art, 0o755); err != nil {
		t.Fatal(err)
	}
	buildVersion(t, "windows", filepath.Join(art, "shir.exe"), version)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("feed password\n"), 0o600)
	feed = filepath.Join(dir, "feed")
	os.MkdirAll(feed, 0o755)
	for _, args := range [][]string{
		{"release", "keygen", "--kind", "root", "--out", filepath.Join(dir, "root")},
		{"release", "keygen", "--kind", "signing", "--out", filepath.Join(dir, "sign")},
		{"release", "keys", "--dir", feed, "--root-key", filepath.Join(dir, "root.key"), "--add", filepath.Join(dir, "sign.pub")},
		{"release", "sign", "--key", filepath.Join(dir, "sign.key"), "--artifacts", filepath.Join(dir, "dist"), "--version", version, "--out", feed, "--rollout", "100"},
	} {
		var out bytes.Buffer
		if code := cli.Main(context.Background(), append(append([]string{"shir"}, args...), "--password-file", pw, "--kdf", "interactive"), strings.NewReader(""), &out, &out); code != 0 {
			t.Fatalf("shir %s: exit %d\n%s", strings.Join(args, " "), code, out.String())
		}
	}
	return feed, filepath.Join(dir, "root.pub")
}

// wineControlPlane starts a control plane in this process and returns an
// admin client, its address, a runtime ID and the runtime's first key.
func wineControlPlane(t *testing.T) (cl *client.Client, addr, rtID, key string) {
	t.Helper()
	cp := cptest.Start(t, controlplane.Options{HeartbeatInterval: 2 * time.Second})
	rt, keys := cp.Runtime(t, "wine", 0)
	return cp.Admin, cp.Addr, rt.ID, keys.Key1
}

// waitNode waits until the runtime has a node of that name with the status
// (and the version, when given) and returns it.
func waitNode(t *testing.T, cl *client.Client, rtID, name, status string, version ...string) api.Node {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last api.Runtime
	for time.Now().Before(deadline) {
		rt, err := cl.Runtime(context.Background(), rtID)
		if err != nil {
			t.Fatal(err)
		}
		last = rt
		for _, n := range rt.Nodes {
			if n.Name == name && n.Status == status && (len(version) == 0 || n.Version == version[0]) {
				return n
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no node %s with status %q %v: %+v", name, status, version, last.Nodes)
	return api.Node{}
}

func waitJob(t *testing.T, cl *client.Client, id string) api.Job {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		j, err := cl.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		switch j.State {
		case api.JobSucceeded, api.JobFailed, api.JobDead, api.JobCancelled:
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s", id, j.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestQuickstart runs the README's main job as a user would: the real shir
// binary, a control plane, two nodes installed by the installer pipeline as
// processes, two jobs, and a clean stop.
func TestQuickstart(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("runs only on linux/amd64 (it builds the linux binary)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "shir")
	build(t, "linux", bin)
	work := filepath.Join(dir, "qs")
	cmd := exec.Command(bin, "quickstart", "--dir", work, "--timeout", "60s")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("quickstart: %v\n%s", err, out)
	}
	for _, want := range []string{"[1/6] control plane on https://127.0.0.1:", "node1 installed", "node2 installed",
		"2 of 4 nodes online", "copy job", "(verified)", "testconnection job", "reachable=true", `runtime "quickstart" is Online with 2 nodes`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Both nodes were uninstalled: their host processes are gone and their
	// state purged; the key never reached the output.
	for _, n := range []string{"node1", "node2"} {
		if _, err := os.Stat(filepath.Join(work, n, "var", "lib", "shir")); !os.IsNotExist(err) {
			t.Errorf("%s state left behind: %v", n, err)
		}
	}
	if strings.Contains(string(out), "SHIR@") {
		t.Errorf("output shows an authentication key")
	}
	if b, _ := exec.Command("pgrep", "-f", work).Output(); len(b) > 0 {
		t.Errorf("processes left running: %s", b)
	}
}
