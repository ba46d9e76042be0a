package firewall

import (
	"context"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/windows/registry"
)

func underWine() bool {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `Software\Wine`, registry.READ)
	if err != nil {
		return false
	}
	k.Close()
	return true
}

// TestCOMUnderWine: Wine 8's firewallapi creates HNetCfg.FwPolicy2 and hands
// out its Rules collection, but the rule collection and HNetCfg.FWRule do not
// answer IDispatch calls (TYPE_E_ELEMENTNOTFOUND) and enumeration is a stub.
// So under Wine this checks that the COM path runs up to the collection and
// that every failure comes back as a clear error, never a crash or a fake
// success; rule logic is tested with fakeWinRules on every OS.
func TestCOMUnderWine(t *testing.T) {
	if !underWine() {
		t.Skip("not Wine: see TestCOMRealWindows")
	}
	c := comRules{}
	_, err := c.list()
	if err == nil {
		t.Fatal("Wine listed firewall rules: its firewallapi grew support; make this test a full cycle")
	}
	for _, early := range []string{"initialise COM", "create HNetCfg.FwPolicy2", "get Rules"} {
		if strings.Contains(err.Error(), early) {
			t.Fatalf("COM failed before the rule collection: %v", err)
		}
	}
	if !strings.Contains(err.Error(), "HRESULT 0x") {
		t.Errorf("error without its HRESULT: %v", err)
	}
	if err := c.add(windowsRule(18099)); err == nil || !strings.Contains(err.Error(), "HRESULT 0x") {
		t.Errorf("add = %v, want a COM error", err)
	}
	m, err := New(context.Background(), Options{Probe: func(int) (Listener, error) { return Listener{}, nil }})
	if err != nil || m.Backend() != Windows {
		t.Fatalf("New = %v, %v", m, err)
	}
	_, err = m.Open(context.Background(), 18099)
	if err == nil || !strings.Contains(err.Error(), "firewall windows: list rules: list firewall rules: HRESULT") {
		t.Fatalf("Open under Wine = %v", err)
	}
	t.Logf("under Wine: %v", err)
}

// TestCOMRealWindows changes the real Windows Firewall: opt in with
// SHIR_WINDOWS_FIREWALL_TEST=1 on a throw-away Windows machine, elevated.
func TestCOMRealWindows(t *testing.T) {
	if underWine() || os.Getenv("SHIR_WINDOWS_FIREWALL_TEST") != "1" {
		t.Skip("the real Windows Firewall cycle runs only on Windows with SHIR_WINDOWS_FIREWALL_TEST=1 (not run)")
	}
	ctx := context.Background()
	m := NewManager(&winBackend{rules: comRules{}}, Options{Probe: func(int) (Listener, error) { return Listener{}, nil }})
	for range 2 {
		if _, err := m.Open(ctx, 18099); err != nil {
			t.Fatal(err)
		}
	}
	all, err := comRules{}.list()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range all {
		if r.Grouping == Tag {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d rules in group %q after two Opens, want 1", n, Tag)
	}
	if _, err := m.Close(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if st, err := m.Status(ctx, 18099); err != nil || st.RulePresent {
		t.Fatalf("after Close: %+v, %v", st, err)
	}
}
