package cli

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestReleaseAndUpdateFlow drives the publisher and node commands as a user
// would: keygen (root and signing), keys, sign, verify (and minisign -V),
// then update check and update apply into a --root sandbox.
func TestReleaseAndUpdateFlow(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("publisher password\n"), 0o600)
	pw := []string{"--password-file", pwFile, "--kdf", "interactive"}
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := run(t, append([]string{"shir"}, args...)...)
		if code != 0 {
			t.Fatalf("shir %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	must(append([]string{"release", "keygen", "--kind", "root", "--out", filepath.Join(dir, "root")}, pw...)...)
	must(append([]string{"release", "keygen", "--kind", "signing", "--out", filepath.Join(dir, "sign")}, pw...)...)
	if key, _ := os.ReadFile(filepath.Join(dir, "sign.key")); strings.Contains(string(key), "publisher password") {
		t.Fatal("password in key file")
	}
	if code, _, errOut := run(t, "shir", "release", "keygen", "--out", filepath.Join(dir, "sign"), "--password-file", pwFile); code != 2 || !strings.Contains(errOut, "refusing to overwrite") {
		t.Fatalf("overwrite: %d %s", code, errOut)
	}
	feed := filepath.Join(dir, "feed")
	os.MkdirAll(feed, 0o755)
	must(append([]string{"release", "keys", "--dir", feed, "--root-key", filepath.Join(dir, "root.key"), "--add", filepath.Join(dir, "sign.pub")}, pw...)...)

	art := filepath.Join(dir, "dist")
	name := "shir_" + runtime.GOOS + "_" + runtime.GOARCH
	os.MkdirAll(filepath.Join(art, name), 0o755)
	bin := "shir.exe"
	if runtime.GOOS != "windows" {
		bin = "shir"
	}
	os.WriteFile(filepath.Join(art, name, bin), []byte("new shir 1.2.0"), 0o755)
	out := must(append([]string{"release", "sign", "--key", filepath.Join(dir, "sign.key"), "--artifacts", art,
		"--version", "1.2.0", "--out", feed, "--rollout", "100"}, pw...)...)
	if !strings.Contains(out, "signed 1.2.0 (stable") {
		t.Fatalf("sign: %s", out)
	}
	rootPub := filepath.Join(dir, "root.pub")
	out = must("release", "verify", "--dir", feed, "--root-pub", rootPub)
	if !strings.Contains(out, "ok: ") || !strings.Contains(out, "1.2.0 (stable)") {
		t.Fatalf("verify: %s", out)
	}
	if mini, err := exec.LookPath("minisign"); err == nil {
		if out, err := exec.Command(mini, "-V", "-p", filepath.Join(dir, "sign.pub"), "-m", filepath.Join(feed, "1.2.0", "manifest.json")).CombinedOutput(); err != nil {
			t.Fatalf("minisign -V of a manifest signed by shir release sign: %v\n%s", err, out)
		}
	} else {
		t.Log("minisign not installed: the minisign -V cross-check of this flow did not run (updater tests cover it)")
	}
	// With the wrong root, verify fails with the reason.
	code, _, errOut := run(t, "shir", "release", "verify", "--dir", feed, "--root-pub", filepath.Join(dir, "sign.pub"))
	if code != 1 || !strings.Contains(errOut, "signed by an unknown key") {
		t.Fatalf("verify with wrong root: %d %s", code, errOut)
	}

	root := filepath.Join(dir, "node")
	target := filepath.Join(root, "opt", "shir", "shir")
	if runtime.GOOS == "windows" {
		target = filepath.Join(root, "Program Files", "shir", "shir.exe")
	}
	os.MkdirAll(filepath.Dir(target), 0o755)
	os.WriteFile(target, []byte("old shir 1.1.0"), 0o755)
	node := []string{"--source", feed, "--root-pub", rootPub, "--root", root, "--current", "1.1.0"}
	out = must(append([]string{"update", "check"}, node...)...)
	if !strings.Contains(out, "update available: 1.2.0") {
		t.Fatalf("check: %s", out)
	}
	// A one-minute window twelve hours from now is closed now.
	later := time.Now().Add(12 * time.Hour)
	closed := later.Format("Mon 15:04") + "-" + later.Add(time.Minute).Format("15:04")
	code, _, errOut = run(t, append([]string{"shir", "update", "apply", "--window", closed}, node...)...)
	if code != 1 || !strings.Contains(errOut, "outside the maintenance window") {
		t.Fatalf("apply outside window: %d %s", code, errOut)
	}
	out = must(append([]string{"update", "apply", "--no-restart", "--window", closed, "--ignore-window"}, node...)...)
	if !strings.Contains(out, "updated 1.1.0 -> 1.2.0") {
		t.Fatalf("apply: %s", out)
	}
	if b, _ := os.ReadFile(target); string(b) != "new shir 1.2.0" {
		t.Fatalf("target = %q", b)
	}
	out = must(append([]string{"update", "check"}, append(node[:len(node)-1], "1.2.0")...)...)
	if !strings.Contains(out, "up to date") {
		t.Fatalf("second check: %s", out)
	}
	// The upgrade service takes its source, channel and state directory
	// from the node's shir.toml ([update]), as the installed services run it.
	os.WriteFile(target, []byte("old shir 1.1.0"), 0o755)
	cfg := filepath.Join(dir, "shir.toml")
	os.WriteFile(cfg, []byte("[update]\nsource = '"+feed+"'\nchannel = \"stable\"\ninterval = \"2m\"\n"), 0o644)
	code, _, errOut = run(t, "shir", "updater", "run", "--config", cfg, "--root", root, "--root-pub", rootPub, "--current", "1.1.0", "--no-restart")
	if code != 0 || !strings.Contains(errOut, "updated") {
		t.Fatalf("updater run --config: exit %d\n%s", code, errOut)
	}
	if b, _ := os.ReadFile(target); string(b) != "new shir 1.2.0" {
		t.Fatalf("updater run did not apply the configured source: target = %q", b)
	}
	// A flag overrides the file: the configured source does not exist,
	// --source names the feed.
	os.WriteFile(target, []byte("old shir 1.1.0"), 0o755)
	os.WriteFile(cfg, []byte("[update]\nsource = '"+filepath.Join(dir, "no-such-feed")+"'\n"), 0o644)
	code, _, errOut = run(t, "shir", "updater", "run", "--config", cfg, "--source", feed, "--root", root, "--root-pub", rootPub, "--current", "1.1.0", "--no-restart")
	if code != 0 {
		t.Fatalf("updater run --source over the file's source: exit %d\n%s", code, errOut)
	}
	if b, _ := os.ReadFile(target); string(b) != "new shir 1.2.0" {
		t.Fatalf("--source did not override [update] source: target = %q", b)
	}

	// A tampered manifest is refused by update check, with the reason.
	mf := filepath.Join(feed, "1.2.0", "manifest.json")
	b, _ := os.ReadFile(mf)
	os.WriteFile(mf, []byte(strings.Replace(string(b), `"rollout": 100`, `"rollout": 99`, 1)), 0o644)
	code, _, errOut = run(t, append([]string{"shir", "update", "check"}, node...)...)
	if code != 1 || !strings.Contains(errOut, "bad signature") {
		t.Fatalf("tampered: %d %s", code, errOut)
	}
}

// TestUpdaterRunConfig: the upgrade service reads shir.toml; a bad or
// missing file is a usage error naming it, and with no source the service
// idles until it is stopped instead of exiting (a service manager would
// restart it in a loop).
func TestUpdaterRunConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[update]\nchannel = \"nightly\"\n"), 0o644)
	windowBad := filepath.Join(dir, "window.toml")
	os.WriteFile(windowBad, []byte("[update]\nsource = '"+dir+"'\nwindow = \"Sun 2-4\"\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--config", bad}, 2, "update.channel must be stable or beta"},
		{[]string{"--config", filepath.Join(dir, "missing.toml")}, 1, "missing.toml"},
		{[]string{"--config", windowBad}, 2, "--window: maintenance window"},
		{[]string{"--config", bad, "--interval", "10s"}, 2, "update.channel"},
		{[]string{"--root", dir, "--interval", "10s"}, 2, "--interval 10s: must be at least 1m"},
	} {
		code, _, errOut := run(t, append([]string{"shir", "updater", "run"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("updater run %v: exit %d, stderr %q, want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}

	// No source: idles until cancelled, exit 0.
	empty := filepath.Join(dir, "empty.toml")
	os.WriteFile(empty, []byte("log_level = \"info\"\n"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	var errOut safeBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"shir", "updater", "run", "--config", empty}, strings.NewReader(""), io.Discard, &errOut)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(errOut.String(), "the upgrade service idles") {
		select {
		case code := <-done:
			t.Fatalf("updater run without a source exited %d before it was stopped:\n%s", code, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no idle message:\n%s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 && code != 130 {
		t.Fatalf("stopped idle updater: exit %d\n%s", code, errOut.String())
	}
}

func TestUpdateUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"update", "check"}, "--source is required"},
		{[]string{"update", "check", "--source", "x", "--channel", "nightly"}, `--channel "nightly"`},
		{[]string{"update", "check", "--source", "x", "--window", "Sun 2-4"}, "--window: maintenance window"},
		{[]string{"update", "check", "--source", "ftp://x"}, "--source: source"},
		{[]string{"update", "apply", "--source", "x", "--version", "v1.2.0"}, "without a leading v"},
		{[]string{"release", "keygen", "--kind", "admin", "--out", "x"}, `--kind "admin"`},
		{[]string{"release", "sign", "--key", "k", "--version", "1.0.0", "--out", "o", "--rollout", "101"}, "--rollout 101"},
		{[]string{"release", "verify"}, "give --manifest FILE or --dir FEED"},
	} {
		code, _, errOut := run(t, append([]string{"shir"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	t.Setenv("SHIR_RELEASE_PASSWORD", "")
	code, _, errOut := run(t, "shir", "release", "keygen", "--out", filepath.Join(t.TempDir(), "k"))
	if code != 2 || !strings.Contains(errOut, "no key password") {
		t.Errorf("no password: %d %s", code, errOut)
	}
}
