package winreg

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/windows/registry"
)

// TestSystem writes a test key with the real registry API (and one value
// with reg.exe, as an admin would), then reads it back through System.
// Under Wine this is Wine's registry.
func TestSystem(t *testing.T) {
	for _, root := range []struct {
		name string
		key  registry.Key
	}{{"HKCU", registry.CURRENT_USER}, {"HKLM", registry.LOCAL_MACHINE}} {
		t.Run(root.name, func(t *testing.T) {
			sub := fmt.Sprintf(`Software\shir-test\winreg-%d`, os.Getpid())
			k, _, err := registry.CreateKey(root.key, sub, registry.ALL_ACCESS|registry.WOW64_64KEY)
			if err != nil {
				t.Fatalf("create test key: %v", err)
			}
			t.Cleanup(func() {
				for _, s := range []string{sub + `\A`, sub + `\B`, sub} {
					registry.DeleteKey(root.key, s)
				}
			})
			if err := k.SetStringValue("Name", "shir test"); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"A", "B"} {
				c, _, err := registry.CreateKey(k, s, registry.ALL_ACCESS)
				if err != nil {
					t.Fatal(err)
				}
				c.Close()
			}
			k.Close()
			base := root.name + `\` + sub
			out, err := exec.Command("reg", "add", base, "/v", "Release", "/t", "REG_DWORD", "/d", "528040", "/f").CombinedOutput()
			if err != nil {
				t.Fatalf("reg add: %v\n%s", err, out)
			}
			conformance(t, System{}, base)
		})
	}
}

// TestSystemWellKnown reads values every Windows (and Wine's prefix) has.
func TestSystemWellKnown(t *testing.T) {
	build, err := System{}.String(`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`, "CurrentBuildNumber")
	if err != nil || build == "" {
		t.Fatalf("CurrentBuildNumber = %q, %v", build, err)
	}
	pt, err := System{}.String(`HKLM\SYSTEM\CurrentControlSet\Control\ProductOptions`, "ProductType")
	if err != nil || (pt != "WinNT" && pt != "ServerNT" && pt != "LanmanNT") {
		t.Fatalf("ProductType = %q, %v", pt, err)
	}
}
