package templates

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./templates -update to create it)", err)
	}
	want = bytes.ReplaceAll(want, []byte("\r\n"), []byte("\n"))
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./templates -update, then review the diff):\n%s", name, got)
	}
}

func TestRenderARMGolden(t *testing.T) {
	vnet := &ARMVnet{SubscriptionID: "00000000-0000-0000-0000-000000000000", ResourceGroup: "net-rg", Name: "corp-vnet", Subnet: "integration"}
	kv := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sec-rg/providers/Microsoft.KeyVault/vaults/shir-kv"
	cases := []struct {
		name string
		in   ARM
	}{
		{"windows-cse-2", ARM{Nodes: 2, OS: "windows", Handler: "cse"}},
		{"windows-cse-1-zones-vnet", ARM{Nodes: 1, OS: "windows", Handler: "cse", Zones: true, ExistingVnet: vnet}},
		{"linux-cse-4-keyvault", ARM{Nodes: 4, OS: "linux", Handler: "cse", KeyVaultID: kv}},
		{"windows-shir-3", ARM{Nodes: 3, OS: "windows", Handler: "shir", KeyVaultID: kv}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl, params, err := RenderARM(c.in)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "arm-"+c.name+".json.golden", tmpl)
			golden(t, "arm-"+c.name+".params.json.golden", params)
			for _, b := range [][]byte{tmpl, params} {
				if !json.Valid(b) {
					t.Fatal("not valid JSON")
				}
			}
			again, _, _ := RenderARM(c.in)
			if !bytes.Equal(tmpl, again) {
				t.Error("rendering is not deterministic")
			}
		})
	}
}

// The auth key parameter must only ever reach protectedSettings.
func TestRenderARMKeyOnlyInProtectedSettings(t *testing.T) {
	for _, os := range []string{"windows", "linux"} {
		for _, h := range []string{"cse", "shir"} {
			tmpl, _, err := RenderARM(ARM{Nodes: 2, OS: os, Handler: h})
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Resources []struct {
					Type       string `json:"type"`
					Properties struct {
						Settings          json.RawMessage `json:"settings"`
						ProtectedSettings json.RawMessage `json:"protectedSettings"`
					} `json:"properties"`
				} `json:"resources"`
			}
			if err := json.Unmarshal(tmpl, &doc); err != nil {
				t.Fatal(err)
			}
			seen := false
			for _, r := range doc.Resources {
				if r.Type != "Microsoft.Compute/virtualMachines/extensions" {
					continue
				}
				seen = true
				if strings.Contains(string(r.Properties.Settings), "authKey") {
					t.Errorf("%s/%s: authKey in public settings: %s", os, h, r.Properties.Settings)
				}
				if !strings.Contains(string(r.Properties.ProtectedSettings), "parameters('authKey')") {
					t.Errorf("%s/%s: authKey not in protectedSettings", os, h)
				}
			}
			if !seen {
				t.Errorf("%s/%s: no extension resource", os, h)
			}
			if c := strings.Count(string(tmpl), "parameters('authKey')"); c != 1 {
				t.Errorf("%s/%s: authKey used %d times, want exactly once", os, h, c)
			}
		}
	}
}

func TestRenderARMBadInput(t *testing.T) {
	cases := []struct {
		in      ARM
		wantErr string
	}{
		{ARM{Nodes: 0, OS: "windows", Handler: "cse"}, "nodes: 0 is out of range"},
		{ARM{Nodes: 5, OS: "windows", Handler: "cse"}, "nodes: 5 is out of range"},
		{ARM{Nodes: 1, OS: "darwin", Handler: "cse"}, `os: "darwin"`},
		{ARM{Nodes: 1, OS: "linux", Handler: "msi"}, `handler: "msi"`},
		{ARM{Nodes: 1, OS: "linux", Handler: "cse", AdminUsername: "a b"}, "admin username"},
		{ARM{Nodes: 1, OS: "linux", Handler: "cse", ExistingVnet: &ARMVnet{ResourceGroup: "rg", Name: "v", Subnet: "bad/subnet"}}, "existing vnet subnet"},
	}
	for _, c := range cases {
		_, _, err := RenderARM(c.in)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("RenderARM(%+v) = %v, want error containing %q", c.in, err, c.wantErr)
		}
	}
}
