package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shirhq/shir/internal/credstore"
	"github.com/shirhq/shir/internal/nodeconfig"
)

func runAgentCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"shir"}, args...), strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestAgentCredentialCLI(t *testing.T) {
	root := t.TempDir()
	code, out, errOut := runAgentCLI(t, "hunter2-secret\n", "agent", "credential", "put", "sftp", "--user", "alice", "--root", root)
	if code != 0 || !strings.Contains(out, "credential sftp stored") || strings.Contains(out+errOut, "hunter2") {
		t.Fatalf("put: %d %q %q", code, out, errOut)
	}
	code, out, _ = runAgentCLI(t, "", "agent", "credential", "get", "sftp", "--root", root)
	if code != 0 || out != "hunter2-secret\n" {
		t.Fatalf("get: %d %q", code, out)
	}
	code, out, _ = runAgentCLI(t, "", "agent", "credential", "get", "sftp", "--json", "--root", root)
	var c credstore.Credential
	if code != 0 || json.Unmarshal([]byte(out), &c) != nil || c.User != "alice" || c.Secret != "hunter2-secret" {
		t.Fatalf("get --json: %d %q", code, out)
	}
	code, out, _ = runAgentCLI(t, "", "agent", "credential", "list", "--root", root)
	if code != 0 || !strings.Contains(out, "sftp") || !strings.Contains(out, "alice") || strings.Contains(out, "hunter2") {
		t.Fatalf("list: %d %q", code, out)
	}
	// On disk: sealed, under the root's state dir.
	raw, err := os.ReadFile(filepath.Join(nodeconfig.DefaultPaths(root).StateDir, credstore.File))
	if err != nil || bytes.Contains(raw, []byte("hunter2")) {
		t.Fatalf("store file: %v", err)
	}
	code, _, _ = runAgentCLI(t, "", "agent", "credential", "delete", "sftp", "--root", root)
	if code != 0 {
		t.Fatalf("delete: %d", code)
	}
	code, _, errOut = runAgentCLI(t, "", "agent", "credential", "get", "sftp", "--root", root)
	if code != 1 || !strings.Contains(errOut, "credential not found: sftp") {
		t.Fatalf("get after delete: %d %q", code, errOut)
	}
	code, _, errOut = runAgentCLI(t, "x", "agent", "credential", "put", "bad name", "--root", root)
	if code != 2 || !strings.Contains(errOut, "name may contain only") {
		t.Fatalf("bad name: %d %q", code, errOut)
	}
	code, _, errOut = runAgentCLI(t, "", "agent", "credential", "put", "empty", "--root", root)
	if code != 2 || !strings.Contains(errOut, "secret must be") {
		t.Fatalf("empty secret: %d %q", code, errOut)
	}
}

func TestAgentRunErrors(t *testing.T) {
	root := t.TempDir()
	code, _, errOut := runAgentCLI(t, "", "agent", "run", "--root", root)
	if code != 1 || !strings.Contains(errOut, "not registered") || !strings.Contains(errOut, "dmgcmd -rn") {
		t.Fatalf("unregistered: %d %q", code, errOut)
	}
	cfg := filepath.Join(root, "shir.toml")
	os.WriteFile(cfg, []byte("concurrency = -3\n"), 0o644)
	code, _, errOut = runAgentCLI(t, "", "agent", "run", "--config", cfg)
	if code != 2 || !strings.Contains(errOut, "concurrency") {
		t.Fatalf("bad config: %d %q", code, errOut)
	}
	code, _, errOut = runAgentCLI(t, "", "agent", "run", "--config", filepath.Join(root, "missing.toml"))
	if code != 1 || !strings.Contains(errOut, "missing.toml") {
		t.Fatalf("missing config: %d %q", code, errOut)
	}
}
