package netproxy

import (
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shirhq/shir/internal/netproxy/netproxytest"
	"github.com/shirhq/shir/internal/secret"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		c       Config
		wantErr string
	}{
		{"zero", Config{}, ""},
		{"none", Config{Mode: "none"}, ""},
		{"system", Config{Mode: "system"}, ""},
		{"custom", Config{Mode: "custom", URL: "http://proxy:3128"}, ""},
		{"custom user", Config{Mode: "custom", URL: "http://proxy:3128", User: "u", Password: "p"}, ""},
		{"bad mode", Config{Mode: "auto"}, "proxy.mode"},
		{"url without custom", Config{Mode: "none", URL: "http://p:1"}, "proxy.url"},
		{"custom no url", Config{Mode: "custom"}, "proxy.url"},
		{"custom https", Config{Mode: "custom", URL: "https://p:1"}, "proxy.url"},
		{"custom no port", Config{Mode: "custom", URL: "http://p"}, "proxy.url"},
		{"custom userinfo", Config{Mode: "custom", URL: "http://u:secretpw@p:1"}, "proxy.url"},
		{"custom path", Config{Mode: "custom", URL: "http://p:1/x"}, "proxy.url"},
		{"password no user", Config{Mode: "custom", URL: "http://p:1", Password: "x"}, "proxy.user"},
		{"user with colon", Config{Mode: "custom", URL: "http://p:1", User: "a:b"}, "proxy.user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
			if err != nil && (!errors.Is(err, ErrConfig) || strings.Contains(err.Error(), "secretpw")) {
				t.Fatalf("error %v: not ErrConfig or leaks the password", err)
			}
		})
	}
}

func TestStringRedacts(t *testing.T) {
	c := Config{Mode: "custom", URL: "http://p:1", User: "bob", Password: "hunter2"}
	if s := c.String(); strings.Contains(s, "hunter2") || !strings.Contains(s, "bob") {
		t.Fatalf("String() = %q", s)
	}
}

func get(t *testing.T, c Config, target string) (string, error) {
	t.Helper()
	tr, err := c.Transport(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(target)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", errors.New(resp.Status)
	}
	return string(b), nil
}

// TestCustomProxyReal sends HTTP and HTTPS (CONNECT) through a real proxy,
// with and without authentication.
func TestCustomProxyReal(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "plain") }))
	defer target.Close()
	tlsTarget := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "tls") }))
	defer tlsTarget.Close()

	open := netproxytest.New("", "")
	defer open.Close()
	c := Config{Mode: ModeCustom, URL: open.URL}
	if body, err := get(t, c, target.URL); err != nil || body != "plain" {
		t.Fatalf("http via proxy: %q %v", body, err)
	}
	tr, _ := c.Transport(tlsTarget.Client().Transport.(*http.Transport).TLSClientConfig)
	resp, err := (&http.Client{Transport: tr}).Get(tlsTarget.URL)
	if err != nil {
		t.Fatalf("https via proxy: %v", err)
	}
	resp.Body.Close()
	u, _ := url.Parse(tlsTarget.URL)
	if got := open.Targets(); len(got) != 2 || got[1] != u.Host {
		t.Fatalf("proxy targets %v, want the http target then CONNECT %s", got, u.Host)
	}

	authed := netproxytest.New("bob", "s3cret")
	defer authed.Close()
	if _, err := get(t, Config{Mode: ModeCustom, URL: authed.URL}, target.URL); err == nil || authed.Denied() != 1 {
		t.Fatalf("no credentials: err %v, denied %d", err, authed.Denied())
	}
	if body, err := get(t, Config{Mode: ModeCustom, URL: authed.URL, User: "bob", Password: "s3cret"}, target.URL); err != nil || body != "plain" {
		t.Fatalf("with credentials: %q %v", body, err)
	}
	if n := len(authed.Targets()); n != 1 {
		t.Fatalf("authenticated proxy served %d requests, want 1", n)
	}

	// none: the proxy is not used.
	if body, err := get(t, Config{Mode: ModeNone}, target.URL); err != nil || body != "plain" || len(open.Targets()) != 2 {
		t.Fatalf("mode none: %q %v, proxy targets %v", body, err, open.Targets())
	}
}

func TestPasswordSealed(t *testing.T) {
	dir := t.TempDir()
	p, err := secret.ForStateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pw, err := LoadPassword(dir, p); err != nil || pw != "" {
		t.Fatalf("no password: %q %v", pw, err)
	}
	if err := SavePassword(dir, p, "pa55word"); err != nil {
		t.Fatal(err)
	}
	if pw, err := LoadPassword(dir, p); err != nil || pw != "pa55word" {
		t.Fatalf("LoadPassword = %q %v", pw, err)
	}
	if err := SavePassword(dir, p, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := filepath.Glob(filepath.Join(dir, PasswordFile)); err != nil {
		t.Fatal(err)
	}
	if pw, _ := LoadPassword(dir, p); pw != "" {
		t.Fatal("password not removed")
	}
}

func winhttpValue(flags uint32, server, bypass string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 0x18)
	b = binary.LittleEndian.AppendUint32(b, 7)
	b = binary.LittleEndian.AppendUint32(b, flags)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(server)))
	b = append(b, server...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(bypass)))
	return append(b, bypass...)
}

func TestParseWinHTTPSettings(t *testing.T) {
	direct, err := parseWinHTTPSettings(winhttpValue(1, "", ""))
	if err != nil || direct != nil {
		t.Fatalf("direct: %v %v", direct, err)
	}
	w, err := parseWinHTTPSettings(winhttpValue(3, "proxy.corp:8080", "<local>;*.internal;10.*"))
	if err != nil || w == nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"example.com": "http://proxy.corp:8080", "intranet": "", "db.internal": "", "10.1.2.3": "",
		"127.0.0.1": "", "localhost": "", "11.0.0.1": "http://proxy.corp:8080",
	} {
		r, _ := http.NewRequest("GET", "https://"+host+"/", nil)
		u, _ := w.proxyFunc()(r)
		got := ""
		if u != nil {
			got = u.String()
		}
		if got != want {
			t.Errorf("%s: proxy %q, want %q", host, got, want)
		}
	}
	w, err = parseWinHTTPSettings(winhttpValue(3, "http=hp:80;https=sp:443", ""))
	if err != nil || w.http.Host != "hp:80" || w.https.Host != "sp:443" {
		t.Fatalf("per scheme: %+v %v", w, err)
	}
	for _, bad := range [][]byte{nil, {1, 2, 3}, winhttpValue(3, "x", "")[:18], winhttpValue(3, ";;", "")} {
		if _, err := parseWinHTTPSettings(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzParseWinHTTPSettings(f *testing.F) {
	f.Add(winhttpValue(3, "proxy:8080", "<local>"))
	f.Add(winhttpValue(1, "", ""))
	f.Add([]byte{0x18, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := parseWinHTTPSettings(b)
		if err == nil && w != nil && w.http == nil && w.https == nil {
			t.Fatal("proxy without an address")
		}
	})
}

func FuzzValidate(f *testing.F) {
	f.Add("custom", "http://p:1", "u")
	f.Fuzz(func(t *testing.T, mode, u, user string) {
		c := Config{Mode: mode, URL: u, User: user, Password: "zzsecretzz"}
		if err := c.Validate(); err != nil && strings.Contains(err.Error(), "zzsecretzz") {
			t.Fatal("error leaks the password")
		}
	})
}
