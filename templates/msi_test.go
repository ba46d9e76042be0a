package templates

import (
	"strings"
	"testing"
)

var testMSIProps = []string{"AUTHKEY", "NODENAME", "INSTALLDIR", "DATADIR", "NOFIREWALL", "PORT", "PROXYPASSWORD", "IGNOREPREREQ"}

func TestRenderWXSGolden(t *testing.T) {
	b, err := RenderWXS(MSI{Version: "1.4.2-rc.1", Exe: "dist/shir.exe", Properties: testMSIProps, Secret: []string{"AUTHKEY", "PROXYPASSWORD"}})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "shir.wxs.golden", b)
	s := string(b)
	for _, want := range []string{
		`Version="1.4.2"`,
		`UpgradeCode="` + MSIUpgradeCode + `"`,
		`Win64="yes"`,
		`<Directory Id="ProgramFiles64Folder">`,
		`<Property Id="MsiHiddenProperties" Value="AUTHKEY;PROXYPASSWORD;ShirInstallArgs;ShirInstall"/>`,
		`<Custom Action="ShirArgNOFIREWALL" Sequence="4007">NOT REMOVE AND NOFIREWALL</Custom>`,
		`<Custom Action="ShirInstall" Sequence="4012">NOT REMOVE</Custom>`,
		`Impersonate="no"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("wxs lacks %s", want)
		}
	}
	// The same version renders the same product code; another one does not.
	again, _ := RenderWXS(MSI{Version: "1.4.2-rc.1", Exe: "dist/shir.exe", Properties: testMSIProps, Secret: []string{"AUTHKEY", "PROXYPASSWORD"}})
	other, _ := RenderWXS(MSI{Version: "1.4.3", Exe: "dist/shir.exe", Properties: testMSIProps})
	if string(again) != s {
		t.Error("rendering is not deterministic")
	}
	if productCode(string(other)) == productCode(s) || productCode(s) == "" {
		t.Errorf("product code of 1.4.3 = %s, of 1.4.2-rc.1 = %s: want different", productCode(string(other)), productCode(s))
	}
}

func productCode(wxs string) string {
	_, rest, _ := strings.Cut(wxs, `<Product Id="`)
	code, _, _ := strings.Cut(rest, `"`)
	return code
}

func TestRenderWXSBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   MSI
		want string
	}{
		{"no version", MSI{Exe: "a.exe", Properties: []string{"INSTALLDIR", "IGNOREPREREQ"}}, "version"},
		{"msi version overflow", MSI{Version: "256.0.0", Exe: "a.exe", Properties: []string{"INSTALLDIR", "IGNOREPREREQ"}}, "at most 255"},
		{"absolute exe", MSI{Version: "1.0.0", Exe: "/tmp/a.exe", Properties: []string{"INSTALLDIR", "IGNOREPREREQ"}}, "relative"},
		{"exe with quote", MSI{Version: "1.0.0", Exe: `a".exe`, Properties: []string{"INSTALLDIR", "IGNOREPREREQ"}}, "Exe"},
		{"no INSTALLDIR", MSI{Version: "1.0.0", Exe: "a.exe", Properties: []string{"AUTHKEY"}}, "INSTALLDIR"},
		{"lower-case property", MSI{Version: "1.0.0", Exe: "a.exe", Properties: []string{"INSTALLDIR", "IGNOREPREREQ", "authkey"}}, `"authkey"`},
		{"PURGE is ours", MSI{Version: "1.0.0", Exe: "a.exe", Properties: []string{"INSTALLDIR", "IGNOREPREREQ", "PURGE"}}, "PURGE"},
		{"unknown secret", MSI{Version: "1.0.0", Exe: "a.exe", Properties: []string{"INSTALLDIR", "IGNOREPREREQ"}, Secret: []string{"AUTHKEY"}}, "AUTHKEY"},
		{"manufacturer xml", MSI{Version: "1.0.0", Exe: "a.exe", Manufacturer: "a<b", Properties: []string{"INSTALLDIR", "IGNOREPREREQ"}}, "Manufacturer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RenderWXS(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestMSIVersion(t *testing.T) {
	for in, want := range map[string]string{"1.2.3": "1.2.3", "v0.9.12": "0.9.12", "2.0.1-snapshot": "2.0.1", "1.2.3+build.7": "1.2.3", "255.255.65535": "255.255.65535"} {
		if got, err := MSIVersion(in); err != nil || got != want {
			t.Errorf("MSIVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1.2", "1.2.3.4", "x.y.z", "1.256.0", "1.0.65536"} {
		if got, err := MSIVersion(in); err == nil {
			t.Errorf("MSIVersion(%q) = %q, want an error", in, got)
		}
	}
}

func FuzzMSIVersion(f *testing.F) {
	for _, s := range []string{"1.2.3", "v0.1.0-rc.1", "255.255.65535", "1.2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := MSIVersion(s)
		if err != nil {
			return
		}
		if again, err := MSIVersion(v); err != nil || again != v {
			t.Fatalf("MSIVersion(%q) = %q, which is not a fixed point (%q, %v)", s, v, again, err)
		}
	})
}
