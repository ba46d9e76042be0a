package netproxy

import (
	"net/http"
	"testing"

	"golang.org/x/sys/windows/registry"
)

// TestSystemProxyWinHTTP writes the WinHTTP registry value (as
// `netsh winhttp set proxy` does) under Wine and checks that mode "system"
// uses it.
func TestSystemProxyWinHTTP(t *testing.T) {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		t.Setenv(k, "")
	}
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, winHTTPKey, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	old, _, oldErr := k.GetBinaryValue("WinHttpSettings")
	t.Cleanup(func() {
		if oldErr == nil {
			k.SetBinaryValue("WinHttpSettings", old)
		} else {
			k.DeleteValue("WinHttpSettings")
		}
	})
	if err := k.SetBinaryValue("WinHttpSettings", winhttpValue(3, "winproxy.test:3128", "<local>")); err != nil {
		t.Fatal(err)
	}
	pf, err := Config{Mode: ModeSystem}.ProxyFunc()
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest("GET", "https://example.com/", nil)
	u, err := pf(r)
	if err != nil || u == nil || u.Host != "winproxy.test:3128" {
		t.Fatalf("system proxy for example.com = %v, %v; want winproxy.test:3128", u, err)
	}
	r, _ = http.NewRequest("GET", "http://intranet/", nil)
	if u, _ := pf(r); u != nil {
		t.Fatalf("<local> host proxied via %v", u)
	}
}
