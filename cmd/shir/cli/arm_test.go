package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/shirhq/shir/arm/handler"
	"github.com/shirhq/shir/internal/testref"
	"github.com/shirhq/shir/provision"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"shir"}, args...), strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestArmTemplateAndLint(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "arm", "template", "--nodes", "1", "--os", "linux", "--out", dir)
	if code != 0 {
		t.Fatalf("template: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "warning: 1 node gives no high availability") {
		t.Errorf("no HA warning for 1 node: %q", errOut)
	}
	if !strings.Contains(out, "azuredeploy.parameters.json") {
		t.Errorf("stdout = %q", out)
	}
	code, out, errOut = runCLI(t, "arm", "lint", filepath.Join(dir, "azuredeploy.json"), filepath.Join(dir, "azuredeploy.parameters.json"))
	if code != 0 || !strings.Contains(out, "ok: 2 file(s), no findings") {
		t.Fatalf("lint of our template: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "arm", "template", "--nodes", "2", "--out", dir)
	if code != 0 || strings.Contains(errOut, "high availability") {
		t.Errorf("2 nodes: exit %d, stderr %q", code, errOut)
	}
}

func TestArmTemplateUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"arm", "template", "--nodes", "5"}, "nodes: 5 is out of range (1 to 4"},
		{[]string{"arm", "template", "--os", "solaris"}, `os: "solaris" is not windows or linux`},
		{[]string{"arm", "template", "--handler", "dsc"}, `handler: "dsc" is not cse or shir`},
		{[]string{"arm", "template", "--existing-vnet", "myvnet"}, "--existing-vnet"},
		{[]string{"arm", "lint"}, "needs at least one FILE"},
		{[]string{"arm", "handler", "reboot"}, `unknown command "reboot"`},
	} {
		code, _, errOut := runCLI(t, append(c.args, "--out", t.TempDir())...)
		if c.args[1] != "template" {
			code, _, errOut = runCLI(t, c.args...)
		}
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}

func TestArmLintQuickstart(t *testing.T) {
	q := testref.Path(t, "azure", "quickstart", "current")
	code, out, errOut := runCLI(t, "arm", "lint", "--json", filepath.Join(q, "azuredeploy.json"), filepath.Join(q, "azuredeploy.parameters.json"))
	if code != 1 || !strings.Contains(errOut, "lint failed") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var fs []struct{ Rule, ID, Message string }
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.Rule+"/"+f.ID)
	}
	for _, want := range []string{"apiVersions-Should-Be-Recent/ApiVersion.OutOfDate", "Shir-Parameters-File-Matches-Template/Parameters.Not.Declared", "Shir-No-Management-Ports-From-Internet/Shir.Management.Port.Open"} {
		if !strings.Contains(strings.Join(ids, " "), want) {
			t.Errorf("%s not reported; got %v", want, ids)
		}
	}
}

// The handler, wired to the installer that is not implemented yet, ends
// enable with an error status that says so and exits non-zero.
func TestArmHandlerEnableNotImplemented(t *testing.T) {
	root := t.TempDir()
	cfg, status := filepath.Join(root, "config"), filepath.Join(root, "status")
	for _, d := range []string{cfg, status} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env, _ := json.Marshal([]any{map[string]any{"version": 1.0, "handlerEnvironment": map[string]string{"configFolder": cfg, "statusFolder": status, "logFolder": root}}})
	if err := os.WriteFile(filepath.Join(root, "HandlerEnvironment.json"), env, 0o600); err != nil {
		t.Fatal(err)
	}
	// settings without protected settings: rejected before the installer
	if err := os.WriteFile(filepath.Join(cfg, "0.settings"), []byte(`{"runtimeSettings":[{"handlerSettings":{"publicSettings":{"nodeName":"vm-1"}}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "arm", "handler", "enable", "--root", root)
	if code != 1 || !strings.Contains(errOut, "must come in protectedSettings") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	rep, err := handler.ReadStatus(filepath.Join(status, "0.status"))
	if err != nil || rep.Status.Status != handler.StatusError {
		t.Errorf("status %+v, %v", rep, err)
	}
	// install, disable and update succeed without settings work
	for _, op := range []string{"install", "disable", "update"} {
		if code, _, errOut := runCLI(t, "arm", "handler", op, "--root", root); code != 0 {
			t.Errorf("%s: exit %d %s", op, code, errOut)
		}
	}
	// the wired installer validates properties like shir install does
	t.Setenv("SHIR_ROOT", t.TempDir())
	err = provisionInstaller.Install(context.Background(), map[string]string{"BOGUS": "1"}, func(string) {})
	if err == nil || !strings.Contains(err.Error(), `unknown property "BOGUS"`) {
		t.Errorf("provisionInstaller = %v", err)
	}
}

// End to end through the CLI: real encrypted settings, the real installer
// pipeline in a sandbox root, a control plane that cannot be reached, and an
// error status that says so without the key; the install is rolled back.
func TestArmHandlerEnableEncryptedSettings(t *testing.T) {
	lib := t.TempDir()
	root := filepath.Join(lib, "Shir.Azure.ShirNode-1.0.0")
	cfg, status := filepath.Join(root, "config"), filepath.Join(root, "status")
	for _, d := range []string{cfg, status} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env, _ := json.Marshal([]any{map[string]any{"version": 1.0, "handlerEnvironment": map[string]string{"configFolder": cfg, "statusFolder": status}}})
	must(t, os.WriteFile(filepath.Join(root, "HandlerEnvironment.json"), env, 0o600))
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vm"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	tp := handler.Thumbprint(cert)
	must(t, os.WriteFile(filepath.Join(lib, tp+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	must(t, os.WriteFile(filepath.Join(lib, tp+".prv"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600))
	authKey := "SHIR@rt-1@runtime1@ServiceEndpoint=https://cp.example.com@c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"
	enc, err := pkcs7.Encrypt([]byte(`{"authKey":"`+authKey+`"}`), []*x509.Certificate{cert})
	must(t, err)
	settings, _ := json.Marshal(map[string]any{"runtimeSettings": []any{map[string]any{"handlerSettings": map[string]any{
		"publicSettings": map[string]any{"nodeName": "vm-1", "properties": map[string]string{"IGNOREPREREQ": "all"}}, "protectedSettings": base64.StdEncoding.EncodeToString(enc), "protectedSettingsCertThumbprint": tp,
	}}}})
	must(t, os.WriteFile(filepath.Join(cfg, "4.settings"), settings, 0o600))

	sandbox := t.TempDir()
	t.Setenv("SHIR_ROOT", sandbox)
	code, _, errOut := runCLI(t, "arm", "handler", "enable", "--root", root)
	if code != 1 {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	raw, err := os.ReadFile(filepath.Join(status, "4.status"))
	must(t, err)
	rep, err := handler.ParseStatus(raw)
	must(t, err)
	msg := rep.Status.FormattedMessage.Message
	if rep.Status.Status != handler.StatusError || !strings.Contains(msg, "Enable failed") || !strings.Contains(msg, "step register") || !strings.Contains(msg, "https://cp.example.com") {
		t.Errorf("status = %+v", rep.Status)
	}
	if _, err := os.Stat(provision.RootPaths(runtime.GOOS, sandbox).Binary(runtime.GOOS)); !os.IsNotExist(err) {
		t.Errorf("failed install was not rolled back: %v", err)
	}
	if strings.Contains(string(raw)+errOut, "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0") {
		t.Error("the key leaked")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
