package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/controlplane"
	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/client"
	"github.com/shirhq/shir/controlplane/cptest"
	"github.com/shirhq/shir/internal/secret"
	"github.com/shirhq/shir/provision"
)

// testControlPlane starts a real control plane (SQLite, TLS) on loopback and
// returns an admin client and the runtime's keys.
func testControlPlane(t *testing.T) (*client.Client, api.Runtime, api.Keys) {
	t.Helper()
	cp := cptest.Start(t, controlplane.Options{})
	rt, keys := cp.Runtime(t, "rt1", 0)
	return cp.Admin, rt, keys
}

func runStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func loadIdentity(t *testing.T, root string) register.Identity {
	t.Helper()
	st := provision.RootPaths(runtime.GOOS, root).StateDir
	p, err := secret.ForStateDir(st)
	if err != nil {
		t.Fatal(err)
	}
	id, err := register.Load(st, p)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestDmgcmdActions(t *testing.T) {
	cl, rt, keys := testControlPlane(t)
	root := t.TempDir()
	paths := provision.RootPaths(runtime.GOOS, root)
	dmg := func(stdin string, args ...string) (int, string, string) {
		return runStdin(t, stdin, append([]string{"dmgcmd", "--root", root}, args...)...)
	}
	if code, out, errOut := run(t, "shir", "install", "--root", root, "--no-service", "NODENAME=n1", "IGNOREPREREQ=all"); code != 0 {
		t.Fatalf("install: %d\n%s%s", code, out, errOut)
	}

	// -rn with the key on stdin (never on the command line).
	code, out, errOut := dmg(keys.Key1, "-rn", "-", "n1")
	if code != 0 || !strings.Contains(out, "registered as node n1") {
		t.Fatalf("-rn: %d\n%s%s", code, out, errOut)
	}
	id := loadIdentity(t, root)
	if id.RuntimeID != rt.ID || id.NodeName != "n1" {
		t.Fatalf("identity %s", id)
	}
	// Again, from a key file: idempotent, same node.
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(keys.Key2), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut = dmg("", "-k", "@"+keyFile); code != 0 || loadIdentity(t, root).NodeID != id.NodeID {
		t.Fatalf("-k: %d\n%s%s", code, out, errOut)
	}

	// A key of another runtime: -rn refuses and names -k; install with
	// AUTHKEY over the kept state refuses and says how to move the node.
	rt2, err := cl.CreateRuntime(context.Background(), api.CreateRuntimeRequest{Name: "rt2"})
	if err != nil {
		t.Fatal(err)
	}
	keys2, err := cl.Keys(context.Background(), rt2.ID)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut = dmg(keys2.Key1, "-rn", "-")
	if code != 2 || !strings.Contains(errOut, "registered with runtime rt1") || !strings.Contains(errOut, "use -k (-Key)") || strings.Contains(errOut, "--force") {
		t.Fatalf("-rn with another runtime's key: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runStdin(t, keys2.Key1, "shir", "install", "--root", root, "--no-service", "AUTHKEY=-", "IGNOREPREREQ=all")
	if code == 0 || !strings.Contains(out+errOut, "dmgcmd -k KEY") || strings.Contains(out+errOut, keys2.Key1) {
		t.Fatalf("install with another runtime's key over kept state: %d\n%s%s", code, out, errOut)
	}
	if loadIdentity(t, root).RuntimeID != rt.ID {
		t.Fatal("a refused registration changed the identity")
	}

	// A regenerated key is refused: exit 6, and the key is not printed.
	if _, err := cl.RegenerateKey(context.Background(), rt.ID, "key1"); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = dmg(keys.Key1, "-rn", "-")
	if code != 6 || strings.Contains(out+errOut, keys.Key1) {
		t.Fatalf("-rn with a regenerated key: %d\n%s%s", code, out, errOut)
	}

	// Auto-update off and on.
	readJSON := func(name string, v any) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(paths.StateDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		action string
		want   bool
	}{{"-toffau", false}, {"/TurnOnAutoUpdate", true}} {
		if code, out, errOut = dmg("", tc.action); code != 0 {
			t.Fatalf("%s: %d %s%s", tc.action, code, out, errOut)
		}
		var p struct{ AutoUpdate *bool }
		readJSON("update-policy.json", &p)
		if p.AutoUpdate == nil || *p.AutoUpdate != tc.want {
			t.Errorf("%s: autoUpdate = %v", tc.action, p.AutoUpdate)
		}
	}

	// Log level.
	if code, _, errOut = dmg("", "-Loglevel", "verbose"); code != 0 {
		t.Fatalf("-Loglevel: %s", errOut)
	}
	if b, _ := os.ReadFile(paths.ConfigFile); !strings.Contains(string(b), `log_level = "debug"`) {
		t.Errorf("shir.toml:\n%s", b)
	}

	// Remote access on and off (a sandbox never touches the host firewall).
	var ra provision.RemoteAccess
	if code, out, errOut = dmg("", "-era", "8061"); code != 0 || !strings.Contains(out, "enabled on port 8061") {
		t.Fatalf("-era: %d %s%s", code, out, errOut)
	}
	readJSON(provision.RemoteAccessFile, &ra)
	if !ra.Enabled || ra.Port != 8061 {
		t.Errorf("remote access %+v", ra)
	}
	if code, _, _ = dmg("", "-dra"); code != 0 {
		t.Fatal("-dra failed")
	}
	readJSON(provision.RemoteAccessFile, &ra)
	if ra.Enabled {
		t.Errorf("remote access still on: %+v", ra)
	}

	// Backup, wrong password, restore on a "new machine".
	if code, out, errOut := runStdin(t, "s3cret-value", "shir", "agent", "credential", "put", "sql", "--root", root, "--user", "bob"); code != 0 {
		t.Fatalf("credential put: %d %s%s", code, out, errOut)
	}
	bak := filepath.Join(t.TempDir(), "node.bak")
	if code, out, errOut = dmg("", "-gbf", bak, "backup-password"); code != 0 {
		t.Fatalf("-gbf: %d %s%s", code, out, errOut)
	}
	b, err := os.ReadFile(bak)
	if err != nil || bytes.Contains(b, []byte("s3cret-value")) || bytes.Contains(b, []byte(id.Token)) {
		t.Fatalf("backup file unreadable or in clear: %v", err)
	}
	root2 := t.TempDir()
	code, out, errOut = runStdin(t, "", "dmgcmd", "--root", root2, "-ibf", bak, "wrong-password")
	if code != 1 || !strings.Contains(errOut, "wrong backup password") {
		t.Fatalf("-ibf wrong password: %d %s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(provision.RootPaths(runtime.GOOS, root2).StateDir, register.IdentityFile)); !os.IsNotExist(err) {
		t.Fatalf("a failed restore wrote an identity: %v", err)
	}
	if code, out, errOut = runStdin(t, "", "dmgcmd", "--root", root2, "-ibf", bak, "backup-password"); code != 0 || !strings.Contains(out, "1 credentials") {
		t.Fatalf("-ibf: %d %s%s", code, out, errOut)
	}
	if got := loadIdentity(t, root2); got.NodeID != id.NodeID {
		t.Errorf("restored node %s, want %s", got.NodeID, id.NodeID)
	}
	code, out, _ = runStdin(t, "", "shir", "agent", "credential", "get", "sql", "--root", root2)
	if code != 0 || !strings.Contains(out, "s3cret-value") {
		t.Errorf("restored credential: %d %q", code, out)
	}

	// No service in a sandbox: a clear usage error.
	if code, _, errOut = dmg("", "-sus"); code != 2 || !strings.Contains(errOut, "no upgrade service") {
		t.Errorf("-sus: %d %s", code, errOut)
	}
}
