package fleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/prereq"
)

const base = `
control_plane:
  url: https://cp.example:8443
  admin_token_file: admin.token
runtime: prod
auth_key:
  env: SHIR_AUTHKEY
defaults:
  user: deploy
  identity_file: id
`

func TestParseExample(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "docs", "fleet.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	hs, _ := c.HostList(nil)
	if len(hs) != 4 || hs[2].OS != "windows" || hs[2].Sudo || !hs[0].Sudo || hs[3].Root != "/srv/shir-lab" {
		t.Fatalf("hosts: %+v", hs)
	}
	if hs[1].Properties["PROXY"] != "http://proxy.corp:3128" || hs[1].Properties["NOFIREWALL"] != "1" {
		t.Errorf("properties not merged: %v", hs[1].Properties)
	}
	if c.Waves.Canary.Of(4) != 1 || c.Waves.Size.Of(8) != 2 || c.Waves.Pause.Seconds() != 30 {
		t.Errorf("waves: %+v", c.Waves)
	}
	if len(c.CAPin()) != 32 {
		t.Error("ca pin")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"empty", "", "empty"},
		{"unknown field", base + "hosts: [{address: a, colour: red}]", "field colour not found"},
		{"unknown top field", base + "extra: 1\nhosts: [{address: a}]", "field extra not found"},
		{"two documents", base + "hosts: [{address: a}]\n---\nruntime: x\n", "one YAML document"},
		{"no hosts", base, "hosts: the list is empty"},
		{"bad port", base + "hosts: [{name: web3, address: a, port: 70000}]", "hosts[0] (web3): port: 70000 is not a TCP port"},
		{"no address", base + "hosts: [{name: web1}]", "hosts[0] (web1): address: is required"},
		{"bad os", base + "hosts: [{address: a, os: plan9}]", `hosts[0] (a): os: "plan9" must be linux or windows`},
		{"authkey property", base + "hosts: [{address: a, properties: {AUTHKEY: SHIR@x}}]", "properties.AUTHKEY: the key never goes in fleet.yaml"},
		{"secret property", base + "hosts: [{address: a, properties: {proxypassword: x}}]", "properties.PROXYPASSWORD: is a secret"},
		{"unknown property", base + "hosts: [{address: a, properties: {FOO: x}}]", "properties.FOO: unknown installer property"},
		{"bad property value", base + "hosts: [{address: a, properties: {PORT: '0'}}]", "properties.PORT"},
		{"duplicate name", base + "hosts: [{address: a}, {address: a}]", `hosts[1] (a): name: "a" is used by another host`},
		{"duplicate node", base + "hosts: [{name: x, address: a, node_name: n}, {name: y, address: b, node_name: N}]", `node_name: "N" is also the node name of host x`},
		{"bad node name", base + "hosts: [{address: a, node_name: 'a b'}]", "node_name: property NODENAME"},
		{"http url", strings.Replace(base, "https://", "http://", 1) + "hosts: [{address: a}]", "control_plane.url"},
		{"bad pin", base + "hosts: [{address: a}]\n" + "known_hosts: k\n" + "binaries: {files: {plan9/mips: x}}", `binaries.files: "plan9/mips"`},
		{"two key sources", strings.Replace(base, "env: SHIR_AUTHKEY", "env: K\n  file: f", 1) + "hosts: [{address: a}]", "set only one"},
		{"no key source", strings.Replace(base, "env: SHIR_AUTHKEY", "{}", 1) + "hosts: [{address: a}]", "auth_key"},
		{"bad canary", base + "waves: {canary: 150%}\nhosts: [{address: a}]", `"150%" is not a count`},
		{"bad pause", base + "waves: {pause: soon}\nhosts: [{address: a}]", `"soon" is not a duration`},
		{"no user", strings.Replace(base, "user: deploy", "port: 22", 1) + "hosts: [{address: a}]", "user: is required"},
		{"sudo on windows", base + "hosts: [{address: a, os: windows, sudo: true}]", "sudo: is for Linux hosts"},
		{"relative root", base + "hosts: [{address: a, root: lab}]", "root: \"lab\" must be an absolute path"},
		{"no identity", base + "hosts: [{address: a, agent: false, identity_file: ''}]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if tt.want == "" {
				return // only: no panic
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, exitcode.ErrUsage) {
				t.Fatalf("err = %v, want usage error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseAllErrorsAtOnce(t *testing.T) {
	_, err := Parse([]byte(base + "hosts: [{name: a1, address: a, port: 70000}, {name: b1, address: b, os: bsd}]"))
	if err == nil || !strings.Contains(err.Error(), "hosts[0] (a1): port") || !strings.Contains(err.Error(), "hosts[1] (b1): os") {
		t.Fatalf("err = %v", err)
	}
}

func TestHostList(t *testing.T) {
	c, err := Parse([]byte(base + "hosts: [{address: 10.0.0.1}, {name: b, address: b.example, port: 2222, user: root}]"))
	if err != nil {
		t.Fatal(err)
	}
	hs, err := c.HostList([]string{"b"})
	if err != nil || len(hs) != 1 || hs[0].Addr() != "b.example:2222" || hs[0].User != "root" || hs[0].NodeName != "b" {
		t.Fatalf("%+v %v", hs, err)
	}
	all, _ := c.HostList(nil)
	if all[0].NodeName != "10-0-0-1" {
		t.Errorf("node name from an IP: %q", all[0].NodeName)
	}
	if _, err := c.HostList([]string{"nope"}); !errors.Is(err, exitcode.ErrUsage) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown --only: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	ex, _ := os.ReadFile(filepath.Join("..", "..", "docs", "fleet.example.yaml"))
	f.Add(string(ex))
	f.Add(base + "hosts: [{address: a, port: 22}]")
	f.Add(base + "waves: {canary: 10%, size: 3, pause: 1s}\nhosts: [{address: a}]")
	f.Add("hosts: &a [*a]")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse([]byte(s))
		if err != nil {
			if !errors.Is(err, exitcode.ErrUsage) {
				t.Fatalf("error does not wrap ErrUsage: %v", err)
			}
			return
		}
		hs, err := c.HostList(nil)
		if err != nil || len(hs) == 0 {
			t.Fatalf("valid config without hosts: %v", err)
		}
		for _, h := range hs {
			if h.Port < 1 || h.Port > 65535 || h.User == "" || h.NodeName == "" || h.Properties["AUTHKEY"] != "" {
				t.Fatalf("invalid host passed: %+v", h)
			}
		}
		if c.Waves.MaxParallel < 1 {
			t.Fatal("max_parallel < 1")
		}
	})
}

func TestDecide(t *testing.T) {
	online := &api.Node{Name: "n1", Status: api.StatusOnline}
	offline := &api.Node{Name: "n1", Status: api.StatusOffline}
	tests := []struct {
		name string
		o    Observed
		want Action
	}{
		{"fresh", Observed{CandidateSHA256: "aa"}, ActionInstall},
		{"crashed install", Observed{InstalledSHA256: "aa", Journal: true, CandidateSHA256: "aa", Node: online}, ActionInstall},
		{"other binary", Observed{InstalledSHA256: "bb", Journal: true, JournalCompleted: true, CandidateSHA256: "aa", Node: online}, ActionUpgrade},
		{"not registered", Observed{InstalledSHA256: "aa", Journal: true, JournalCompleted: true, CandidateSHA256: "aa"}, ActionRekey},
		{"offline", Observed{InstalledSHA256: "aa", Journal: true, JournalCompleted: true, CandidateSHA256: "aa", Node: offline}, ActionRepair},
		{"converged", Observed{InstalledSHA256: "aa", Journal: true, JournalCompleted: true, CandidateSHA256: "aa", Node: online}, ActionNothing},
		{"binary gone", Observed{Journal: true, JournalCompleted: true, CandidateSHA256: "aa", Node: online}, ActionInstall},
	}
	for _, tt := range tests {
		if got, why := Decide(tt.o); got != tt.want || why == "" {
			t.Errorf("%s: %s (%q), want %s", tt.name, got, why, tt.want)
		}
	}
}

func TestWaves(t *testing.T) {
	hosts := make([]Host, 10)
	for i := range hosts {
		hosts[i].Name = string(rune('a' + i))
	}
	shape := func(ws [][]Host) []int {
		var n []int
		for _, w := range ws {
			n = append(n, len(w))
		}
		return n
	}
	count := func(s string) Count {
		var c Count
		if err := c.UnmarshalYAML(&yaml.Node{Kind: yaml.ScalarNode, Value: s}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name string
		spec WaveSpec
		want []int
	}{
		{"default", WaveSpec{}, []int{1, 9}},
		{"canary 2 size 3", WaveSpec{Canary: count("2"), Size: count("3")}, []int{2, 3, 3, 2}},
		{"percent", WaveSpec{Canary: count("10%"), Size: count("50%")}, []int{1, 5, 4}},
		{"small percent rounds up", WaveSpec{Canary: count("1%"), Size: count("1%")}, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"no canary", WaveSpec{Canary: count("0")}, []int{10}},
		{"canary all", WaveSpec{Canary: count("100%")}, []int{10}},
	}
	for _, tt := range tests {
		ws := Waves(hosts, tt.spec)
		if got := shape(ws); !equalInts(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
		var flat []string
		for _, w := range ws {
			for _, h := range w {
				flat = append(flat, h.Name)
			}
		}
		if strings.Join(flat, "") != "abcdefghij" {
			t.Errorf("%s: order %v", tt.name, flat)
		}
	}
	if Waves(nil, WaveSpec{}) != nil {
		t.Error("waves of no hosts")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestShellCommands(t *testing.T) {
	h := Host{Name: "x", NodeName: "n1", OS: "linux", Root: "/srv/it's", Properties: map[string]string{"NOFIREWALL": "1", "PORT": "8061"}}
	bin, journal := layout(h)
	if bin != "/srv/it's/opt/shir/shir" || journal != "/srv/it's/var/lib/shir/install.json" {
		t.Fatalf("layout: %s %s", bin, journal)
	}
	sh := shellFor("linux")
	got := sh.run(installArgs(h, "/tmp/d/shir", "install"), true)
	want := `sudo -n -- '/tmp/d/shir' 'install' '/q' 'AUTHKEY=-' 'NODENAME=n1' 'NOFIREWALL=1' 'PORT=8061' '--root' '/srv/it'\''s' '--no-service'`
	if got != want {
		t.Errorf("install:\n got %s\nwant %s", got, want)
	}
	if got := strings.Join(checkArgs(h, "b", true), " "); got != "b check --json --no-remote-access --port 8061 --ignore admin,systemd,single-instance" {
		t.Errorf("check: %s", got)
	}
	if h2 := (Host{OS: "linux", Properties: map[string]string{"IGNOREPREREQ": "java"}}); strings.Join(checkArgs(h2, "b", false), " ") != "b check --json --ignore java" {
		t.Errorf("check: %v", checkArgs(h2, "b", false))
	}
	// The inspect script is valid sh and quotes the paths.
	if s := sh.inspect(bin, journal); !strings.Contains(s, `'\''`) || !strings.HasPrefix(s, "sh -c '") {
		t.Errorf("inspect: %s", s)
	}

	w := Host{OS: "windows", NodeName: "w1", Properties: map[string]string{}}
	wbin, wj := layout(w)
	if wbin != `C:\Program Files\shir\shir.exe` || wj != `C:\ProgramData\shir\state\install.json` {
		t.Errorf("windows layout: %s %s", wbin, wj)
	}
	ps := shellFor("windows")
	cmd := ps.run(installArgs(w, `C:\T\shir.exe`, "repair"), false)
	script := decodePS(t, cmd)
	if !strings.Contains(script, `& 'C:\T\shir.exe' 'repair' '/q' 'AUTHKEY=-' 'NODENAME=w1'; exit $LASTEXITCODE`) {
		t.Errorf("windows run: %s", script)
	}
	if p := ps.sftpPath(`C:\Users\a\Temp\shir.exe`); p != "/C:/Users/a/Temp/shir.exe" {
		t.Errorf("sftp path %s", p)
	}
	if ps.join(`C:\T\`, "shir.exe") != `C:\T\shir.exe` {
		t.Error("join")
	}
}

func decodePS(t *testing.T, cmd string) string {
	t.Helper()
	i := strings.LastIndex(cmd, " ")
	b, err := base64.StdEncoding.DecodeString(cmd[i+1:])
	if err != nil || len(b)%2 != 0 {
		t.Fatalf("not an encoded command: %s", cmd)
	}
	u := make([]uint16, len(b)/2)
	for j := range u {
		u[j] = uint16(b[2*j]) | uint16(b[2*j+1])<<8
	}
	return string(utf16.Decode(u))
}

func TestGoArchAndInspect(t *testing.T) {
	for in, want := range map[string]string{"x86_64": "amd64", "aarch64": "arm64", "AMD64": "amd64", "ARM64": "arm64"} {
		if goArch(in) != want {
			t.Errorf("%s -> %s", in, goArch(in))
		}
	}
	kv := parseInspect("arch=x86_64\nsha=ABC\nversion=1.2.3\njournal=e30=\nnoise\n")
	if kv["arch"] != "x86_64" || kv["sha"] != "ABC" || kv["journal"] != "e30=" {
		t.Errorf("%v", kv)
	}
}

func TestInstallExit(t *testing.T) {
	for _, c := range []struct {
		code int
		goos string
		ok   bool
		note string
	}{
		{0, "linux", true, ""},
		{0, "windows", true, ""},
		{3010, "windows", true, "reboot"},
		{194, "linux", true, "reboot"}, // 3010 mod 256
		{1603, "windows", false, "1603"},
		{67, "linux", false, "1603"},
		{1618, "windows", false, "another install is running"},
		{82, "linux", false, "another install is running"},
		{1602, "windows", false, "cancelled"},
		{66, "linux", false, "cancelled"},
		{97, "linux", false, "1633"},
		{1618, "linux", false, "exited with 1618"}, // no POSIX host reports it
		{2, "linux", false, "exited with 2"},
	} {
		ok, note := installExit(c.code, c.goos)
		if ok != c.ok || !strings.Contains(note, c.note) {
			t.Errorf("installExit(%d, %s) = %v, %q; want %v and %q", c.code, c.goos, ok, note, c.ok, c.note)
		}
	}
}

func TestProblems(t *testing.T) {
	r := &prereq.Results{Checks: []prereq.Result{
		{ID: "os-version", Status: prereq.StatusOK},
		{ID: "port-free", Status: prereq.StatusFailed, Severity: prereq.SeverityError, Message: "port 8060\nis in use"},
		{ID: "systemd", Status: prereq.StatusFailed, Severity: prereq.SeverityWarning, Ignored: true, Message: "no systemd"},
		{ID: "java", Status: prereq.StatusUnknown, Severity: prereq.SeverityWarning, Message: "could not determine"},
	}}
	errs, warns := Problems(r)
	if len(errs) != 1 || errs[0] != "port-free: port 8060 is in use" || len(warns) != 2 || warns[0] != "systemd: no systemd (ignored)" {
		t.Errorf("%q %q", errs, warns)
	}
}

// TestHostKeys covers known, unknown, changed and accept-new against a real
// known_hosts file, without a network.
func TestHostKeys(t *testing.T) {
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	key := func() ssh.PublicKey {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		k, _ := ssh.NewPublicKey(pub)
		return k
	}
	a, b, other := key(), key(), key()
	addr := "127.0.0.1:2201"
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2201}
	os.WriteFile(kh, []byte(knownhosts.Line([]string{knownhosts.Normalize(addr)}, a)+"\n"), 0o600)

	strict := &HostKeys{File: kh}
	if err := strict.Callback(addr, remote, a); err != nil {
		t.Errorf("known key: %v", err)
	}
	if err := strict.Callback(addr, remote, other); !errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), "CHANGED") {
		t.Errorf("changed key: %v", err)
	}
	if err := strict.Callback("127.0.0.1:2202", remote, b); !errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), "--accept-new") {
		t.Errorf("unknown key: %v", err)
	}
	if algs := strict.algorithms(addr); len(algs) != 1 || algs[0] != ssh.KeyAlgoED25519 {
		t.Errorf("algorithms: %v", algs)
	}
	acc := &HostKeys{File: kh, AcceptNew: true}
	if err := acc.Callback(addr, remote, other); !errors.Is(err, ErrHostKey) {
		t.Errorf("accept-new took a changed key: %v", err)
	}
	if err := acc.Callback("127.0.0.1:2202", remote, b); err != nil {
		t.Errorf("accept-new: %v", err)
	}
	if err := strict.Callback("127.0.0.1:2202", remote, b); err != nil {
		t.Errorf("added key not known afterwards: %v", err)
	}
	// A missing file: refused without accept-new, created (0600) with it.
	missing := filepath.Join(dir, "sub", "kh")
	if err := (&HostKeys{File: missing}).Callback(addr, remote, a); !errors.Is(err, ErrHostKey) {
		t.Errorf("missing file: %v", err)
	}
	if err := (&HostKeys{File: missing, AcceptNew: true}).Callback(addr, remote, a); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(missing); err != nil || fi.Mode().Perm()&0o077 != 0 && os.PathSeparator == '/' {
		t.Errorf("created known_hosts: %v %v", fi.Mode(), err)
	}
}

func TestAuthKeySources(t *testing.T) {
	dir := t.TempDir()
	key := "SHIR@rt1@prod@ServiceEndpoint=https://cp.example:8443@s3cr3t"
	os.WriteFile(filepath.Join(dir, "k"), []byte(key+"\n"), 0o600)
	for name, src := range map[string]string{"file": "file: k", "env": "env: K"} {
		c, err := Parse([]byte(strings.Replace(base, "env: SHIR_AUTHKEY", src, 1) + "hosts: [{address: a}]"))
		if err != nil {
			t.Fatal(err)
		}
		c.Dir = dir
		r := newRunner(Options{Config: c, Getenv: func(string) string { return key }})
		if got, err := r.authKey(context.Background()); err != nil || got != key {
			t.Errorf("%s: %v", name, err)
		}
		r = newRunner(Options{Config: c, Getenv: func(string) string { return "" }})
		c.Dir = t.TempDir()
		if _, err := r.authKey(context.Background()); err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s missing: %v", name, err)
		}
	}
}
