package client

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolvePrecedence(t *testing.T) {
	dir := t.TempDir()
	pin := strings.Repeat("ab", 32)
	cfgPath := filepath.Join(dir, "sub", "server.json")
	if err := WriteConfig(cfgPath, FileConfig{Server: "https://file:1", TokenFile: "/file/token", CASHA256: "sha256:" + pin}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(cfgPath); err != nil || (os.PathSeparator == '/' && fi.Mode().Perm() != 0o600) {
		t.Errorf("config file mode: %v %v", fi.Mode(), err)
	}
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	cfg, err := Resolve("", "", "", getenv, cfgPath)
	if err != nil || cfg.URL != "https://file:1" || cfg.TokenFile != "/file/token" || hex.EncodeToString(cfg.CASHA256) != pin {
		t.Errorf("from file: %+v %v", cfg, err)
	}
	env["SHIR_SERVER"], env["SHIR_TOKEN_FILE"] = "https://env:2/", "/env/token"
	cfg, _ = Resolve("", "", "", getenv, cfgPath)
	if cfg.URL != "https://env:2" || cfg.TokenFile != "/env/token" || cfg.CASHA256 != nil {
		t.Errorf("env wins, and the file's pin does not go with another token file: %+v", cfg)
	}
	cfg, _ = Resolve("https://flag:3", "/flag/token", "sha256:"+pin, getenv, cfgPath)
	if cfg.URL != "https://flag:3" || cfg.TokenFile != "/flag/token" || cfg.CASHA256 == nil {
		t.Errorf("flags win: %+v", cfg)
	}
	if _, err := Resolve("", "", "sha256:xyz", getenv, cfgPath); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
		t.Errorf("bad pin: %v", err)
	}
	os.WriteFile(cfgPath, []byte(`{"server":"x","extra":1}`), 0o600)
	if _, err := Resolve("", "", "", getenv, cfgPath); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("unknown field in config: %v", err)
	}
	if _, err := New(Config{URL: "https://x:1", TokenFile: filepath.Join(dir, "missing")}); err == nil || !strings.Contains(err.Error(), "admin token file") {
		t.Errorf("missing token file: %v", err)
	}
}

func FuzzReadConfig(f *testing.F) {
	f.Add([]byte(`{"server":"https://x:1","tokenFile":"/t","caSha256":"sha256:00"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "c.json")
		os.WriteFile(p, b, 0o600)
		_, _ = ReadConfig(p)
	})
}
