package handler

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

const testKey = "SHIR@rt-0001@runtime1@ServiceEndpoint=https://cp.example.com:8443@c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"

func init() {
	// Windows' agent and CSE under FIPS use AES-256; openssl's default
	// (des-ede3) is covered by TestOpenSSLInterop.
	pkcs7.ContentEncryptionAlgorithm = pkcs7.EncryptionAlgorithmAES256CBC
}

// testCert is a throw-away VM certificate, as the agent would have.
type testCert struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
	tp   string
}

var (
	certOnce  sync.Once
	certA     testCert
	certB     testCert
	certErr   error
	newCertMu sync.Mutex
)

func makeCert(cn string) (testCert, error) {
	newCertMu.Lock()
	defer newCertMu.Unlock()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return testCert{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return testCert{}, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return testCert{}, err
	}
	return testCert{cert: c, key: key, tp: Thumbprint(c)}, nil
}

func certs(t *testing.T) (testCert, testCert) {
	t.Helper()
	certOnce.Do(func() {
		if certA, certErr = makeCert("Windows Azure CRP Certificate Generator"); certErr != nil {
			return
		}
		certB, certErr = makeCert("another VM")
	})
	if certErr != nil {
		t.Fatal(certErr)
	}
	return certA, certB
}

// agentLayout is a fake agent's on-disk layout in a temp dir:
// lib/ (certificates), lib/<ext>/ (handler root) with config/, status/.
type agentLayout struct {
	lib, root, config, status, heartbeat string
}

func newLayout(t *testing.T) agentLayout {
	t.Helper()
	lib := t.TempDir()
	l := agentLayout{lib: lib, root: filepath.Join(lib, "Shir.Azure.ShirNode-1.0.0")}
	l.config = filepath.Join(l.root, "config")
	l.status = filepath.Join(l.root, "status")
	l.heartbeat = filepath.Join(l.root, "heartbeat.log")
	for _, d := range []string{l.config, l.status} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := []map[string]any{{"name": "Shir.Azure.ShirNode", "version": 1.0, "handlerEnvironment": map[string]any{
		"logFolder": filepath.Join(lib, "log"), "configFolder": l.config, "statusFolder": l.status, "heartbeatFile": l.heartbeat,
	}}}
	b, _ := json.Marshal(env)
	writeFile(t, filepath.Join(l.root, "HandlerEnvironment.json"), b)
	writeFile(t, filepath.Join(l.root, "HandlerManifest.json"), ShirManifest("1.0.0"))
	return l
}

func writeFile(t testing.TB, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// installCert puts <TP>.crt and <TP>.prv where the Linux agent puts them.
func (l agentLayout) installCert(t testing.TB, c testCert) {
	t.Helper()
	writeFile(t, filepath.Join(l.lib, c.tp+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw}))
	kb, err := x509.MarshalPKCS8PrivateKey(c.key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(l.lib, c.tp+".prv"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}))
}

func encrypt(t testing.TB, c testCert, plain string) string {
	t.Helper()
	der, err := pkcs7.Encrypt([]byte(plain), []*x509.Certificate{c.cert})
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func settingsJSON(public any, protectedB64, tp string) []byte {
	hs := map[string]any{"publicSettings": public}
	if protectedB64 != "" {
		hs["protectedSettings"] = protectedB64
		hs["protectedSettingsCertThumbprint"] = tp
	}
	b, _ := json.Marshal(map[string]any{"runtimeSettings": []any{map[string]any{"handlerSettings": hs}}})
	return b
}

func (l agentLayout) writeSettings(t *testing.T, seq int, data []byte) {
	t.Helper()
	writeFile(t, filepath.Join(l.config, fmt.Sprintf("%d.settings", seq)), data)
}

func (l agentLayout) goodSettings(t *testing.T, seq int, c testCert) {
	t.Helper()
	l.writeSettings(t, seq, settingsJSON(
		map[string]any{"nodeName": "vm-1", "properties": map[string]any{"PORT": "8060", "NOFIREWALL": "1"}},
		encrypt(t, c, `{"authKey":"`+testKey+`"}`+"\n"), c.tp))
}

// fakeInstaller records calls and reports progress.
type fakeInstaller struct {
	mu         sync.Mutex
	calls      []map[string]string
	err        error
	block      bool // wait for ctx to end
	uninstalls int
}

func (f *fakeInstaller) Install(ctx context.Context, props map[string]string, progress func(string)) error {
	f.mu.Lock()
	f.calls = append(f.calls, props)
	f.mu.Unlock()
	progress("[prereq] checks passed")
	progress("[register] registering node " + props["NODENAME"] + " with key " + props["AUTHKEY"])
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.err
}

func (f *fakeInstaller) Uninstall(context.Context, func(string)) error {
	f.mu.Lock()
	f.uninstalls++
	f.mu.Unlock()
	return nil
}

func (f *fakeInstaller) nCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func newHandler(t *testing.T, l agentLayout, inst Installer, env map[string]string) *Handler {
	t.Helper()
	h, err := New(Options{
		Root:      l.root,
		Getenv:    func(k string) string { return env[k] },
		Installer: inst,
		Logger:    slog.New(slog.NewTextHandler(t.Output(), nil)),
		Now:       func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func readStatus(t *testing.T, l agentLayout, seq int) (StatusReport, string) {
	t.Helper()
	p := filepath.Join(l.status, fmt.Sprintf("%d.status", seq))
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("status file: %v", err)
	}
	rep, err := ParseStatus(raw)
	if err != nil {
		t.Fatalf("status file is not what the agent accepts: %v\n%s", err, raw)
	}
	return rep, string(raw)
}

func TestEnableSuccess(t *testing.T) {
	a, _ := certs(t)
	l := newLayout(t)
	l.installCert(t, a)
	l.writeSettings(t, 0, nil) // the agent's empty 0.settings
	l.goodSettings(t, 1, a)
	l.goodSettings(t, 2, a)
	fi := &fakeInstaller{}
	h := newHandler(t, l, fi, nil)
	if err := h.Run(context.Background(), OpEnable); err != nil {
		t.Fatal(err)
	}
	if fi.nCalls() != 1 {
		t.Fatalf("installer called %d times", fi.nCalls())
	}
	props := fi.calls[0]
	want := map[string]string{"AUTHKEY": testKey, "NODENAME": "vm-1", "PORT": "8060", "NOFIREWALL": "1"}
	if fmt.Sprint(props) != fmt.Sprint(want) {
		t.Errorf("props = %v, want %v", props, want)
	}
	rep, raw := readStatus(t, l, 2) // highest sequence number
	if rep.Status.Status != StatusSuccess || rep.Status.Operation != "Enable" || !strings.Contains(rep.Status.FormattedMessage.Message, `node "vm-1"`) {
		t.Errorf("status = %+v", rep.Status)
	}
	if !strings.Contains(raw, "[prereq] checks passed") || !strings.Contains(raw, "[register] registering node vm-1") {
		t.Errorf("progress is not in the status file:\n%s", raw)
	}
	if strings.Contains(raw, "c2VjcmV0") || !strings.Contains(raw, "<redacted>") {
		t.Errorf("the key leaked into the status file:\n%s", raw)
	}
	if mr, _ := ReadMRSeq(l.root); mr != 2 {
		t.Errorf("mrseq = %d, want 2", mr)
	}
	// older settings are emptied after success; the current one is kept
	if fi, _ := os.Stat(filepath.Join(l.config, "1.settings")); fi.Size() != 0 {
		t.Error("1.settings still holds the encrypted key")
	}
	if fi, _ := os.Stat(filepath.Join(l.config, "2.settings")); fi.Size() == 0 {
		t.Error("2.settings was emptied")
	}
	hb, err := os.ReadFile(l.heartbeat)
	if err != nil {
		t.Fatal(err)
	}
	var hbDoc []struct {
		Heartbeat struct {
			Status           string           `json:"status"`
			FormattedMessage FormattedMessage `json:"formattedMessage"`
		} `json:"heartbeat"`
	}
	if err := json.Unmarshal(hb, &hbDoc); err != nil || len(hbDoc) != 1 || hbDoc[0].Heartbeat.Status != HeartbeatReady || hbDoc[0].Heartbeat.FormattedMessage.Lang == "" {
		t.Errorf("heartbeat file = %s (%v)", hb, err)
	}
	// No temp files are left in the status folder.
	ents, _ := os.ReadDir(l.status)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("leftover temp file %s", e.Name())
		}
	}
}

// The agent re-runs enable on every goal state: the same sequence number
// must not install again; a new one must.
func TestEnableReplayProtection(t *testing.T) {
	a, _ := certs(t)
	l := newLayout(t)
	l.installCert(t, a)
	l.goodSettings(t, 3, a)
	fi := &fakeInstaller{}
	env := map[string]string{"ConfigSequenceNumber": "3"}
	for i := 0; i < 3; i++ {
		if err := newHandler(t, l, fi, env).Run(context.Background(), OpEnable); err != nil {
			t.Fatal(err)
		}
	}
	if fi.nCalls() != 1 {
		t.Errorf("installer ran %d times for one sequence number", fi.nCalls())
	}
	// an older sequence number (replayed goal state) does nothing either
	l.goodSettings(t, 2, a)
	if err := newHandler(t, l, fi, map[string]string{"ConfigSequenceNumber": "2"}).Run(context.Background(), OpEnable); err != nil {
		t.Fatal(err)
	}
	l.goodSettings(t, 4, a)
	if err := newHandler(t, l, fi, map[string]string{"ConfigSequenceNumber": "4"}).Run(context.Background(), OpEnable); err != nil {
		t.Fatal(err)
	}
	if fi.nCalls() != 2 {
		t.Errorf("installer ran %d times, want 2", fi.nCalls())
	}
}

func TestHighestSeq(t *testing.T) {
	d := t.TempDir()
	for _, n := range []string{"0.settings", "9.settings", "10.settings", "foo.settings", "ext.42.settings", "HandlerState", "11.status"} {
		writeFile(t, filepath.Join(d, n), []byte("{}"))
	}
	if got, err := HighestSeq(d); err != nil || got != 10 {
		t.Errorf("HighestSeq = %d, %v; want 10", got, err)
	}
	if _, err := HighestSeq(t.TempDir()); err == nil {
		t.Error("HighestSeq of an empty folder: no error")
	}
}

// Bad input: each case ends in an error status with a clear message and no
// secret, and the installer never runs.
func TestEnableBadInput(t *testing.T) {
	a, b := certs(t)
	good := func(c testCert) string { return encrypt(t, c, `{"authKey":"`+testKey+`"}`) }
	cases := []struct {
		name     string
		settings func(l agentLayout) []byte
		env      map[string]string
		noCert   bool
		seq      int
		want     string
		wantCode int
	}{
		{name: "malformed JSON", settings: func(agentLayout) []byte { return []byte(`{"runtimeSettings": [`) }, want: "not valid JSON", wantCode: CodeInvalidSetting},
		{name: "two runtimeSettings", settings: func(agentLayout) []byte {
			return []byte(`{"runtimeSettings":[{"handlerSettings":{}},{"handlerSettings":{}}]}`)
		}, want: "exactly 1 element, got 2", wantCode: CodeInvalidSetting},
		{name: "empty settings", settings: func(agentLayout) []byte { return nil }, want: "is empty", wantCode: CodeInvalidSetting},
		{name: "missing certificate", noCert: true, settings: func(agentLayout) []byte {
			return settingsJSON(map[string]any{"nodeName": "vm-1"}, good(a), a.tp)
		}, want: "certificate not found", wantCode: CodeInvalidSetting},
		{name: "encrypted to another certificate", settings: func(agentLayout) []byte {
			return settingsJSON(map[string]any{"nodeName": "vm-1"}, good(b), a.tp)
		}, want: "decryption failed", wantCode: CodeInvalidSetting},
		{name: "not base64", settings: func(agentLayout) []byte {
			return settingsJSON(map[string]any{"nodeName": "vm-1"}, "%%%not-base64%%%", a.tp)
		}, want: "not valid base64", wantCode: CodeInvalidSetting},
		{name: "not PKCS#7", settings: func(agentLayout) []byte {
			return settingsJSON(map[string]any{"nodeName": "vm-1"}, base64.StdEncoding.EncodeToString([]byte(`{"authKey":"`+testKey+`"}`)), a.tp)
		}, want: "not PKCS#7", wantCode: CodeInvalidSetting},
		{name: "no thumbprint", settings: func(agentLayout) []byte {
			return settingsJSON(map[string]any{"nodeName": "vm-1"}, good(a), "")
		}, want: "protectedSettingsCertThumbprint is empty", wantCode: CodeInvalidSetting},
		{name: "wrong sequence number", env: map[string]string{"ConfigSequenceNumber": "7"}, seq: 7, settings: func(agentLayout) []byte {
			return settingsJSON(map[string]any{"nodeName": "vm-1"}, good(a), a.tp)
		}, want: "sequence number 7 does not exist", wantCode: CodeInvalidSetting},
		{name: "unknown public key", settings: func(agentLayout) []byte {
			return settingsJSON(map[string]any{"nodeName": "vm-1", "authkey": "x"}, good(a), a.tp)
		}, want: `publicSettings: unknown key "authkey"`, wantCode: CodeInvalidSetting},
		{name: "key in public properties", settings: func(agentLayout) []byte {
			return settingsJSON(map[string]any{"properties": map[string]any{"AUTHKEY": testKey}}, good(a), a.tp)
		}, want: "must not be in public settings", wantCode: CodeInvalidSetting},
		{name: "no protected settings", settings: func(agentLayout) []byte {
			return settingsJSON(map[string]any{"nodeName": "vm-1"}, "", "")
		}, want: "authKey) must come in protectedSettings", wantCode: CodeInvalidSetting},
		{name: "protected not JSON", settings: func(agentLayout) []byte {
			return settingsJSON(nil, encrypt(t, a, "authKey="+testKey), a.tp)
		}, want: "decrypted text is not a JSON object", wantCode: CodeInvalidSetting},
		{name: "bad key format", settings: func(agentLayout) []byte {
			return settingsJSON(nil, encrypt(t, a, `{"authKey":"SHIR@broken-`+"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"+`"}`), a.tp)
		}, want: "protectedSettings.authKey", wantCode: CodeInvalidSetting},
		{name: "unknown property", settings: func(agentLayout) []byte {
			return settingsJSON(map[string]any{"properties": map[string]any{"COLOUR": "blue"}}, good(a), a.tp)
		}, want: `unknown property "COLOUR"`, wantCode: CodeInvalidSetting},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLayout(t)
			if !c.noCert {
				l.installCert(t, a)
			}
			l.writeSettings(t, 0, c.settings(l))
			fi := &fakeInstaller{}
			err := newHandler(t, l, fi, c.env).Run(context.Background(), OpEnable)
			if !errors.Is(err, ErrFailed) {
				t.Fatalf("Run = %v, want ErrFailed", err)
			}
			if fi.nCalls() != 0 {
				t.Error("the installer ran on bad input")
			}
			rep, raw := readStatus(t, l, c.seq)
			if rep.Status.Status != StatusError || rep.Status.Code != c.wantCode {
				t.Errorf("status %q code %d, want error %d", rep.Status.Status, rep.Status.Code, c.wantCode)
			}
			if !strings.Contains(rep.Status.FormattedMessage.Message, c.want) || !strings.HasPrefix(rep.Status.FormattedMessage.Message, "Enable failed: ") {
				t.Errorf("message %q, want it to contain %q", rep.Status.FormattedMessage.Message, c.want)
			}
			for _, secret := range []string{testKey, "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"} {
				if strings.Contains(raw, secret) || strings.Contains(err.Error(), secret) {
					t.Errorf("secret in status or error:\n%s\n%v", raw, err)
				}
			}
			if !strings.Contains(raw, `"ErrorClarification"`) {
				t.Error("no ErrorClarification substatus")
			}
		})
	}
}

func TestEnableInstallerFailure(t *testing.T) {
	a, _ := certs(t)
	l := newLayout(t)
	l.installCert(t, a)
	l.goodSettings(t, 5, a)
	fi := &fakeInstaller{err: fmt.Errorf("step register: control plane refused key %s: runtime is full (4 nodes)", testKey)}
	err := newHandler(t, l, fi, nil).Run(context.Background(), OpEnable)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("Run = %v", err)
	}
	rep, raw := readStatus(t, l, 5)
	msg := rep.Status.FormattedMessage.Message
	if rep.Status.Status != StatusError || rep.Status.Code != CodeInstallFailed || !strings.Contains(msg, "Enable failed: install: step register") || !strings.Contains(msg, "runtime is full") {
		t.Errorf("status = %+v", rep.Status)
	}
	if strings.Contains(raw, testKey) || strings.Contains(err.Error(), testKey) {
		t.Errorf("key leaked:\n%s", raw)
	}
	if !strings.Contains(raw, "[prereq] checks passed") {
		t.Error("progress lost on failure")
	}
	// A failed sequence number is not retried until the settings change.
	if err := newHandler(t, l, fi, nil).Run(context.Background(), OpEnable); err != nil {
		t.Errorf("replayed failed seq: %v", err)
	}
	if fi.nCalls() != 1 {
		t.Errorf("installer ran %d times", fi.nCalls())
	}
}

func TestEnableTimeout(t *testing.T) {
	a, _ := certs(t)
	l := newLayout(t)
	l.installCert(t, a)
	l.goodSettings(t, 0, a)
	h := newHandler(t, l, &fakeInstaller{block: true}, nil)
	h.o.Timeouts = map[string]time.Duration{OpEnable: 20 * time.Millisecond}
	if err := h.Run(context.Background(), OpEnable); !errors.Is(err, ErrFailed) {
		t.Fatalf("Run = %v", err)
	}
	rep, _ := readStatus(t, l, 0)
	if rep.Status.Status != StatusError || rep.Status.Code != CodeTimeout || !strings.Contains(rep.Status.FormattedMessage.Message, "timed out after 20ms") {
		t.Errorf("status = %+v", rep.Status)
	}
}

// The agent's update order: old disable, new update, old uninstall, new
// enable. The old uninstall must keep the node; a real uninstall removes it.
func TestUpdateThenUninstallKeepsNode(t *testing.T) {
	a, _ := certs(t)
	l := newLayout(t)
	l.installCert(t, a)
	l.goodSettings(t, 1, a)
	fi := &fakeInstaller{}
	env := map[string]string{"VERSION": "1.1.0"}
	for _, op := range []string{OpEnable, OpDisable, OpUpdate, OpUninstall, OpEnable} {
		if err := newHandler(t, l, fi, env).Run(context.Background(), op); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
	}
	if fi.uninstalls != 0 {
		t.Error("uninstall after update removed the node")
	}
	if fi.nCalls() != 1 {
		t.Errorf("enable after update re-installed (%d calls)", fi.nCalls())
	}
	if err := newHandler(t, l, fi, nil).Run(context.Background(), OpUninstall); err != nil {
		t.Fatal(err)
	}
	if fi.uninstalls != 1 {
		t.Error("a real uninstall did not remove the node")
	}
	rep, _ := readStatus(t, l, 1)
	if rep.Status.Status != StatusSuccess {
		t.Errorf("status after the update sequence: %+v", rep.Status)
	}
}

func TestRunUnknownOperation(t *testing.T) {
	l := newLayout(t)
	if err := newHandler(t, l, &fakeInstaller{}, nil).Run(context.Background(), "reboot"); err == nil || !strings.Contains(err.Error(), `unknown handler operation "reboot"`) {
		t.Errorf("Run(reboot) = %v", err)
	}
}

func TestNewWithoutEnvironment(t *testing.T) {
	_, err := New(Options{Root: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "HandlerEnvironment.json not found") {
		t.Errorf("New = %v", err)
	}
}

func TestRenderStatusSizeLimit(t *testing.T) {
	big := strings.Repeat("é progress line\n", 20000)
	sub := make([]SubStatus, 100)
	for i := range sub {
		sub[i] = SubStatus{Name: "s", Status: StatusSuccess, FormattedMessage: &FormattedMessage{Lang: "en-US", Message: big}}
	}
	out, err := RenderStatus(time.Unix(0, 0), StatusBody{Operation: "Enable", Status: StatusTransitioning, FormattedMessage: FormattedMessage{Message: big}, Substatus: sub})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > maxStatusLen {
		t.Errorf("status is %d bytes, over %d", len(out), maxStatusLen)
	}
	rep, err := ParseStatus(out)
	if err != nil {
		t.Fatal(err)
	}
	if m := rep.Status.FormattedMessage.Message; !strings.HasPrefix(m, "... ") || len(m) > maxMessage {
		t.Errorf("message not cut to its tail: %d bytes", len(m))
	}
}
