package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
)

// safeBuffer is a bytes.Buffer safe for one writer and a polling reader.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServerCmd runs `shir server` in the background with a temporary
// data dir and user config dir, and returns the data dir.
func startServerCmd(t *testing.T) (data string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("AppData", filepath.Join(home, "AppData"))
	for _, v := range []string{"SHIR_SERVER", "SHIR_TOKEN_FILE", "SHIR_CA_SHA256"} {
		t.Setenv(v, "")
	}
	data = filepath.Join(t.TempDir(), "cp")
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &safeBuffer{}, &safeBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"shir", "server", "--data", data, "--listen", "127.0.0.1:0", "--log-level", "warn"}, strings.NewReader(""), out, errOut)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("shir server exited %d: %s", code, errOut.String())
		}
		if !strings.Contains(out.String(), "control plane stopped") {
			t.Errorf("no clean stop: %s", out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "client config:") {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %s %s", out.String(), errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !regexp.MustCompile(`listening on https://127\.0\.0\.1:\d+`).MatchString(out.String()) {
		t.Errorf("startup output: %s", out.String())
	}
	return data
}

func runIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"shir"}, args...), strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestServerAndAdminCommands(t *testing.T) {
	data := startServerCmd(t)
	// The config file the server wrote lets admin commands run without flags.
	path, _ := client.DefaultConfigPath()
	fc, err := client.ReadConfig(path)
	if err != nil || fc.TokenFile != filepath.Join(data, "admin.token") || !strings.HasPrefix(fc.CASHA256, "sha256:") {
		t.Fatalf("client config: %+v %v", fc, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() != 0o600 && os.PathSeparator == '/' {
		t.Errorf("client config mode %v", fi.Mode().Perm())
	}

	code, out, errOut := runIn(t, "", "runtime", "create", "prod", "--max-nodes", "2", "--description", "production")
	if code != 0 || !strings.Contains(out, "runtime prod created") {
		t.Fatalf("create: %d %s %s", code, out, errOut)
	}
	code, _, errOut = runIn(t, "", "runtime", "create", "prod")
	if code != 1 || !strings.Contains(errOut, `runtime "prod": already exists`) {
		t.Errorf("duplicate: %d %s", code, errOut)
	}
	code, _, errOut = runIn(t, "", "runtime", "create", "bad name")
	if code != 2 || !strings.Contains(errOut, "name:") {
		t.Errorf("bad name: %d %s", code, errOut)
	}
	code, out, _ = runIn(t, "", "runtime", "list")
	if code != 0 || !regexp.MustCompile(`prod\s+rt-[0-9a-f]+\s+NeedsRegistration\s+0/2`).MatchString(out) {
		t.Errorf("list: %d\n%s", code, out)
	}
	code, out, _ = runIn(t, "", "runtime", "keys", "prod")
	m := regexp.MustCompile(`key1: (\S+)\nkey2: (\S+)\n`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("keys: %d %s", code, out)
	}
	k, err := register.ParseKey(m[1])
	if err != nil || k.CASHA256 == nil {
		t.Fatalf("key1 from the CLI: %v", err)
	}
	code, out, _ = runIn(t, "", "runtime", "regenerate-key", "prod", "key2")
	if code != 0 || strings.Contains(out, m[2]) || !strings.Contains(out, "key2: SHIR@") {
		t.Errorf("regenerate: %d %s", code, out)
	}
	code, _, errOut = runIn(t, "", "runtime", "regenerate-key", "prod", "key3")
	if code != 2 || !strings.Contains(errOut, "key1 or key2") {
		t.Errorf("key3: %d %s", code, errOut)
	}

	spec := `{"protocol":"tcp","address":"db.internal:5432"}`
	code, out, errOut = runIn(t, spec, "job", "submit", "--runtime", "prod", "--kind", "testconnection", "--spec", "-")
	id := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(id, "j-") {
		t.Fatalf("submit: %d %s %s", code, out, errOut)
	}
	code, _, errOut = runIn(t, `{"protocol":"tcp"}`, "job", "submit", "--runtime", "prod", "--kind", "testconnection", "--spec", "-")
	if code != 2 || !strings.Contains(errOut, "spec.address") {
		t.Errorf("bad spec: %d %s", code, errOut)
	}
	code, out, _ = runIn(t, "", "job", "list", "--runtime", "prod", "--state", "queued")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "0/3") {
		t.Errorf("job list: %d %s", code, out)
	}
	code, out, _ = runIn(t, "", "job", "show", id)
	var j api.Job
	var compact bytes.Buffer
	if code != 0 || json.Unmarshal([]byte(out), &j) != nil || j.ID != id || json.Compact(&compact, j.Spec) != nil || compact.String() != spec {
		t.Errorf("job show: %d %s", code, out)
	}
	code, out, _ = runIn(t, "", "job", "cancel", id)
	if code != 0 || !strings.Contains(out, "cancelled") {
		t.Errorf("cancel: %d %s", code, out)
	}
	code, _, errOut = runIn(t, "", "job", "cancel", id)
	if code != 1 || !strings.Contains(errOut, "already finished") {
		t.Errorf("second cancel: %d %s", code, errOut)
	}
	code, _, errOut = runIn(t, "", "job", "show", "j-nope")
	if code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("unknown job: %d %s", code, errOut)
	}
	code, _, errOut = runIn(t, "", "runtime", "set-concurrency", "prod", "ghost", "4")
	if code != 1 || !strings.Contains(errOut, `no node "ghost"`) {
		t.Errorf("unknown node: %d %s", code, errOut)
	}
	code, out, _ = runIn(t, "", "runtime", "show", "prod", "--json")
	var rt api.Runtime
	if code != 0 || json.Unmarshal([]byte(out), &rt) != nil || rt.Description != "production" {
		t.Errorf("show --json: %d %s", code, out)
	}
	// Environment instead of the config file: the pin comes from the data dir's tls.crt.
	t.Setenv("SHIR_TOKEN_FILE", filepath.Join(data, "admin.token"))
	t.Setenv("SHIR_SERVER", fc.Server)
	code, out, errOut = runIn(t, "", "runtime", "list", "--config", filepath.Join(t.TempDir(), "none.json"))
	if code != 0 || !strings.Contains(out, "prod") {
		t.Errorf("env config: %d %s %s", code, out, errOut)
	}
	code, _, errOut = runIn(t, "", "runtime", "list", "--ca-sha256", "sha256:"+strings.Repeat("00", 32))
	if code != 1 || !strings.Contains(errOut, "does not match the pinned") {
		t.Errorf("wrong pin: %d %s", code, errOut)
	}
	code, out, _ = runIn(t, "", "runtime", "delete", "prod")
	if code != 0 || !strings.Contains(out, "deleted") {
		t.Errorf("delete: %d %s", code, out)
	}
}

func TestAdminCommandWithoutServer(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("AppData", home)
	t.Setenv("SHIR_SERVER", "")
	t.Setenv("SHIR_TOKEN_FILE", "")
	code, _, errOut := runIn(t, "", "runtime", "list")
	if code != 2 || !strings.Contains(errOut, "control plane URL is not set") {
		t.Errorf("no server: %d %s", code, errOut)
	}
	code, _, errOut = runIn(t, "", "runtime", "list", "--server", "http://x:1", "--token-file", "/nonexistent")
	if code != 2 || !strings.Contains(errOut, "https://") {
		t.Errorf("http URL: %d %s", code, errOut)
	}
	code, _, errOut = runIn(t, "", "server", "--heartbeat-interval", "1ms", "--data", t.TempDir())
	if code != 2 || !strings.Contains(errOut, "--heartbeat-interval") {
		t.Errorf("bad interval: %d %s", code, errOut)
	}
}
