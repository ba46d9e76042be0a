package handler

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/shirhq/shir/internal/testref"
)

func azureRef(t *testing.T, elem ...string) string {
	return testref.Path(t, append([]string{"azure"}, elem...)...)
}

func TestEnvironmentFixtures(t *testing.T) {
	root := azureRef(t, "handler-environment")
	files, _ := filepath.Glob(filepath.Join(root, "*", "HandlerEnvironment.json"))
	more, _ := filepath.Glob(filepath.Join(root, "*", "*", "HandlerEnvironment.json"))
	files = append(files, more...)
	if len(files) < 6 {
		t.Fatalf("found only %d HandlerEnvironment fixtures under %s", len(files), root)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		e, err := ParseEnvironment(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if e.ConfigFolder == "" || e.StatusFolder == "" {
			t.Errorf("%s: folders missing: %+v", f, e)
		}
	}
	for _, bad := range []string{`[]`, `[{"handlerEnvironment":{"configFolder":"c","statusFolder":"s"}},{}]`, `{"handlerEnvironment":{}}`, `[{"name":"x"}]`, `[{"handlerEnvironment":{"configFolder":"c"}}]`} {
		if _, err := ParseEnvironment([]byte(bad)); err == nil {
			t.Errorf("ParseEnvironment(%s): no error", bad)
		}
	}
}

func TestManifestFixtures(t *testing.T) {
	root := azureRef(t, "handler-manifest")
	cases := map[string]func(Manifest) bool{
		"walinuxagent/valid_manifest.json":                             func(m Manifest) bool { return m.EnableCommand != "" },
		"walinuxagent/manifest_no_optional_fields.json":                func(m Manifest) bool { return m.UpdateWithInstall && !m.ReportHeartbeat },
		"walinuxagent/manifest_boolean_fields_strings.json":            func(m Manifest) bool { return m.ReportHeartbeat && m.ContinueOnUpdateFailure },
		"walinuxagent/manifest_boolean_fields_false.json":              func(m Manifest) bool { return !m.ReportHeartbeat && !m.ContinueOnUpdateFailure },
		"walinuxagent/manifest_boolean_fields_invalid.json":            func(m Manifest) bool { return !m.ReportHeartbeat && !m.SupportsMultipleExtensions },
		"vsts-azurevm-extension-windows/HandlerManifest.json":          func(m Manifest) bool { return !m.UpdateWithInstall }, // BOM + UpdateWithoutInstall
		"azure-linux-extensions/TestHandlerLinux/HandlerManifest.json": func(m Manifest) bool { return m.ReportHeartbeat },
		"custom-script-extension-linux/HandlerManifest.json":           func(m Manifest) bool { return m.UpdateWithInstall && strings.Contains(m.EnableCommand, "enable") },
	}
	for rel, ok := range cases {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseManifest(data)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if !ok(m) {
			t.Errorf("%s: parsed %+v", rel, m)
		}
	}
	// every manifest fixture parses
	_ = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.HasSuffix(p, ".json") {
			data, _ := os.ReadFile(p)
			if _, err := ParseManifest(data); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
		return nil
	})
	// ours too
	m, err := ParseManifest(ShirManifest("1.2.3"))
	if err != nil || m.UpdateWithInstall || m.ReportHeartbeat || m.EnableCommand != "bin/shir arm handler enable" || m.Version != "1.2.3" {
		t.Errorf("ShirManifest parses to %+v, %v", m, err)
	}
	if _, err := ParseManifest([]byte(`[{"handlerManifest":{"installCommand":"i"}}]`)); err == nil || !strings.Contains(err.Error(), "uninstallCommand is missing") {
		t.Errorf("missing command: %v", err)
	}
}

func TestStatusFixtures(t *testing.T) {
	for rel, wantErr := range map[string]string{
		"walinuxagent/sample-status.json":                                     "",
		"azure-linux-extensions/DSC-test/0.status":                            "",
		"walinuxagent/sample-status-invalid-json-format.json":                 "not a JSON array",
		"walinuxagent/sample-status-invalid-format-emptykey-line7.json":       "not a JSON array",
		"walinuxagent/sample-status-invalid-status-no-status-status-key.json": "status.status is missing",
		"walinuxagent/sample-status-very-large.json":                          "over the agent's",
	} {
		data, err := os.ReadFile(azureRef(t, "status", filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseStatus(data)
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%s: %v", rel, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%s: error %v, want %q", rel, err, wantErr)
		}
	}
}

func TestSettingsFixtures(t *testing.T) {
	for rel, wantErr := range map[string]string{
		"azure-linux-extensions/OSPatching-test/config/0.settings": `protectedSettingsCertThumbprint "test" is not 40 hex digits`,
		"azure-linux-extensions/script/0.settings":                 `protectedSettingsCertThumbprint "TEST" is not 40 hex digits`,
		"elastic-beats/config.settings":                            "is not 40 hex digits",
	} {
		data, err := os.ReadFile(azureRef(t, "settings", filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseSettings(data)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: error %v, want %q", rel, err, wantErr)
		}
		if err != nil && bytes.Contains(data, []byte("MIIB")) && strings.Contains(err.Error(), "MIIB") {
			t.Errorf("%s: error quotes the protected blob", rel)
		}
	}
}

// TestOpenSSLInterop encrypts protected settings the way the agent's own
// tooling does (openssl smime, DES-EDE3 and AES-256) and decrypts them.
func TestOpenSSLInterop(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if runtime.GOOS == "linux" {
			t.Fatal("openssl is not installed (apt-get install openssl): the interop test needs it")
		}
		t.Skipf("no openssl on %s: interop with openssl-encrypted settings not tested here (it runs on Linux)", runtime.GOOS)
	}
	a, _ := certs(t)
	l := newLayout(t)
	l.installCert(t, a)
	plain := `{"authKey":"` + testKey + `"}` + "\n"
	writeFile(t, filepath.Join(l.lib, "plain.json"), []byte(plain))
	for _, cipher := range []string{"-des3", "-aes256"} {
		out := filepath.Join(l.lib, "enc"+cipher+".der")
		cmd := exec.Command(openssl, "smime", "-encrypt", "-binary", cipher, "-outform", "DER", "-in", filepath.Join(l.lib, "plain.json"), "-out", out, filepath.Join(l.lib, a.tp+".crt"))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", cipher, err, b)
		}
		der, _ := os.ReadFile(out)
		got, err := (CertDir{Dir: l.lib}).Decrypt(strings.ToLower(a.tp), der)
		if err != nil {
			t.Fatalf("%s: %v", cipher, err)
		}
		if string(got) != plain {
			t.Errorf("%s: decrypted %q", cipher, got)
		}
	}
	// and the openssl thumbprint is ours
	b, err := exec.Command(openssl, "x509", "-in", filepath.Join(l.lib, a.tp+".crt"), "-noout", "-fingerprint", "-sha1").Output()
	if err != nil {
		t.Fatal(err)
	}
	fp := strings.ReplaceAll(strings.TrimSpace(string(b[strings.IndexByte(string(b), '=')+1:])), ":", "")
	if fp != a.tp {
		t.Errorf("openssl fingerprint %s, Thumbprint %s", fp, a.tp)
	}
}
