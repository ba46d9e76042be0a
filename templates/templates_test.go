package templates

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var testUnit = Unit{Binary: "/opt/shir/shir", ConfigFile: "/etc/shir/shir.toml", User: "shir", StateDir: "/var/lib/shir", LogDir: "/var/log/shir"}

func TestRenderUnitsGolden(t *testing.T) {
	for _, name := range []string{HostUnit, UpdaterUnit} {
		b, err := RenderUnit(name, testUnit)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name+".golden", b)
	}
}

func TestRenderUnitBadInput(t *testing.T) {
	for name, u := range map[string]Unit{
		"relative binary": {Binary: "shir", ConfigFile: "/c", User: "shir", StateDir: "/var/lib/shir", LogDir: "/var/log/shir"},
		"space in config": {Binary: "/b", ConfigFile: "/a b", User: "shir", StateDir: "/var/lib/shir", LogDir: "/var/log/shir"},
		"state not /var":  {Binary: "/b", ConfigFile: "/c", User: "shir", StateDir: "/srv/shir", LogDir: "/var/log/shir"},
		"bad user":        {Binary: "/b", ConfigFile: "/c", User: "a b", StateDir: "/var/lib/shir", LogDir: "/var/log/shir"},
	} {
		if _, err := RenderUnit(HostUnit, u); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestUnitsVerify runs the real systemd-analyze verify on the rendered units.
func TestUnitsVerify(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("systemd-analyze runs on Linux only; the linux run verifies the units")
	}
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("SHIR_REQUIRE_SYSTEMD") == "1" {
			t.Fatal("systemd-analyze not found but SHIR_REQUIRE_SYSTEMD=1")
		}
		t.Skip("systemd-analyze not installed (apt systemd): units were not verified")
	}
	dir := t.TempDir()
	// verify wants the ExecStart binary to exist: point it at a real file.
	bin := filepath.Join(dir, "shir")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	u := testUnit
	u.Binary = bin
	u.ConfigFile = filepath.Join(dir, "shir.toml")
	for _, name := range []string{HostUnit, UpdaterUnit} {
		b, err := RenderUnit(name, u)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sa, "verify", p).CombinedOutput()
		// Only lines about our unit matter; the host may lack unrelated units.
		var ours []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, name) {
				ours = append(ours, l)
			}
		}
		if err != nil || len(ours) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", name, err, out)
		}
	}
}
