package arm

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shirhq/shir/arm/handler"
	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/internal/testref"
)

// Every template we generate passes every rule and the JSON schema.
func TestGeneratedTemplatesPassLint(t *testing.T) {
	vnet := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/corp/subnets/ir"
	kv := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sec/providers/Microsoft.KeyVault/vaults/kv1"
	for nodes := 1; nodes <= 4; nodes++ {
		for _, osName := range []string{"windows", "linux"} {
			for _, h := range []string{"cse", "shir"} {
				for _, o := range []TemplateOptions{
					{Nodes: nodes, OS: osName, Handler: h},
					{Nodes: nodes, OS: osName, Handler: h, Zones: true, ExistingVnet: vnet, KeyVaultID: kv},
				} {
					tmpl, params, warns, err := RenderTemplate(o)
					if err != nil {
						t.Fatalf("%+v: %v", o, err)
					}
					if (nodes == 1) != strings.Contains(strings.Join(warns, "\n"), "high availability") {
						t.Errorf("%+v: HA warning %v", o, warns)
					}
					for name, data := range map[string][]byte{TemplateFile: tmpl, ParametersFile: params} {
						fs, err := Lint(name, data, LintOptions{Now: fixedNow})
						if err != nil {
							t.Fatal(err)
						}
						if len(fs) > 0 {
							t.Errorf("%+v %s:\n%s", o, name, findingsText(fs))
						}
					}
				}
			}
		}
	}
}

// The schema validation is real: it also works from the reference folder,
// and it rejects a broken template.
func TestSchemaValidation(t *testing.T) {
	v, err := NewValidator(testref.Path(t, "azure", "arm-schema", "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, _, _, err := RenderTemplate(TemplateOptions{Nodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	if fs, _ := Lint(TemplateFile, tmpl, LintOptions{Now: fixedNow, Validator: v, Rules: []string{RuleSchema}}); len(fs) != 0 {
		t.Fatalf("generated template fails the reference schema:\n%s", findingsText(fs))
	}
	bad := strings.Replace(string(tmpl), `"type": "securestring"`, `"type": "secureString"`, 1)
	bad = strings.Replace(bad, `"contentVersion": "1.0.0.0"`, `"contentVersion": "one"`, 1)
	fs, _ := Lint(TemplateFile, []byte(bad), LintOptions{Now: fixedNow, Validator: v, Rules: []string{RuleSchema}})
	text := findingsText(fs)
	if !strings.Contains(text, "contentVersion") || !strings.Contains(text, "parameters.adminPassword.type") {
		t.Errorf("schema findings do not name the bad fields:\n%s", text)
	}
	if _, err := NewValidator(t.TempDir()); err == nil {
		t.Error("NewValidator on an empty dir: no error")
	}
}

// The original quickstart's known flaws (azure-extension-making.md §1.6, §3.4)
// are reported.
func TestQuickstartFlawsReported(t *testing.T) {
	q := testref.Path(t, "azure", "quickstart")
	cases := []struct {
		file string
		want []string // rule/ID pairs that must be among the findings
	}{
		{"current/azuredeploy.json", []string{"apiVersions-Should-Be-Recent/ApiVersion.OutOfDate", "Shir-No-Management-Ports-From-Internet/Shir.Management.Port.Open", "JSON-Schema/Schema.Invalid"}},
		{"current/linked/nested/VMtemplate.json", []string{"Shir-No-Hardcoded-Storage-Suffix/Hardcoded.Storage.Suffix"}},
		{"legacy-101/nested/V2IRtemplate.json", []string{"Outputs-Must-Not-Contain-Secrets/Output.Contains.Secret", "apiVersions-Should-Be-Recent/ApiVersion.Preview.Not.Recent"}},
		{"legacy-101/azuredeploy.json", []string{"Shir-No-Management-Ports-From-Internet/Shir.Management.Port.Open", "JSON-Schema/Schema.Invalid"}},
	}
	for _, c := range cases {
		data, err := os.ReadFile(filepath.Join(q, c.file))
		if err != nil {
			t.Fatal(err)
		}
		fs, err := Lint(filepath.Base(c.file), data, LintOptions{Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, f := range fs {
			have[f.Rule+"/"+f.ID] = true
		}
		for _, w := range c.want {
			if !have[w] {
				t.Errorf("%s: %s not reported; findings:\n%s", c.file, w, findingsText(fs))
			}
		}
	}
	// The parameters file passes a parameter the template does not declare.
	fs, err := LintFiles([]string{filepath.Join(q, "current", "azuredeploy.json"), filepath.Join(q, "current", "azuredeploy.parameters.json")}, LintOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(findingsText(fs), "existingDataFactoryVersion") {
		t.Errorf("undeclared parameter not reported:\n%s", findingsText(fs))
	}
}

func TestRenderTemplateBadInput(t *testing.T) {
	cases := []struct {
		o       TemplateOptions
		wantErr string
	}{
		{TemplateOptions{Nodes: 5}, "nodes: 5 is out of range"},
		{TemplateOptions{Nodes: 2, OS: "macos"}, `os: "macos"`},
		{TemplateOptions{Nodes: 2, ExistingVnet: "corp-vnet"}, "--existing-vnet"},
		{TemplateOptions{Nodes: 2, KeyVaultID: "kv1"}, "--key-vault"},
	}
	for _, c := range cases {
		_, _, _, err := RenderTemplate(c.o)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) || !errors.Is(err, exitcode.ErrUsage) {
			t.Errorf("RenderTemplate(%+v) = %v, want usage error containing %q", c.o, err, c.wantErr)
		}
	}
}

func TestWriteTemplateAtomic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteTemplate(dir, []byte("{}\n"), []byte("{\"a\":1}\n")); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("want exactly 2 files (no temp leftovers), got %v", ents)
	}
	b, _ := os.ReadFile(filepath.Join(dir, ParametersFile))
	if string(b) != "{\"a\":1}\n" {
		t.Errorf("parameters file = %q", b)
	}
}

// The settings the shir-handler template sends are exactly what the handler
// accepts (with the template expressions replaced by deployment values).
func TestShirHandlerTemplateMatchesHandlerSettings(t *testing.T) {
	tmpl, _, _, err := RenderTemplate(TemplateOptions{Nodes: 2, Handler: "shir"})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources []struct {
			Type       string `json:"type"`
			Properties struct {
				Settings          map[string]any `json:"settings"`
				ProtectedSettings map[string]any `json:"protectedSettings"`
			} `json:"properties"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(tmpl, &doc); err != nil {
		t.Fatal(err)
	}
	key := "SHIR@rt-1@runtime1@ServiceEndpoint=https://cp.example.com@c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"
	deployValues := map[string]string{"nodeName": "shir-1", "PORT": "8060", "authKey": key}
	var resolve func(k string, v any) any
	resolve = func(k string, v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for kk, vv := range x {
				out[kk] = resolve(kk, vv)
			}
			return out
		case string:
			if val, ok := deployValues[k]; ok && isExpr(x) {
				return val
			}
		}
		return v
	}
	for _, r := range doc.Resources {
		if r.Type != "Microsoft.Compute/virtualMachines/extensions" {
			continue
		}
		pub, _ := resolve("", r.Properties.Settings).(map[string]any)
		prot, _ := json.Marshal(resolve("", r.Properties.ProtectedSettings))
		cfg, err := handler.DecodeConfig(pub, prot)
		if err != nil {
			t.Fatalf("handler rejects the template's settings: %v", err)
		}
		if cfg.Props["AUTHKEY"] != key || cfg.Props["NODENAME"] != "shir-1" || cfg.Props["PORT"] != "8060" {
			t.Errorf("props = %v", cfg.Props)
		}
		return
	}
	t.Fatal("no extension resource")
}
