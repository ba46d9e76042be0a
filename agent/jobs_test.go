package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/internal/credstore"
	"github.com/shirhq/shir/internal/netproxy"
	"github.com/shirhq/shir/internal/netproxy/netproxytest"
	"github.com/shirhq/shir/internal/secret"
)

func spec(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testEnv(t *testing.T) *jobEnv {
	dir := t.TempDir()
	p, err := secret.ForStateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &jobEnv{http: http.DefaultClient, creds: credstore.Open(dir, p)}
}

func sumHex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestCopyFile(t *testing.T) {
	dir := t.TempDir()
	data := []byte(strings.Repeat("shir copy ", 100000))
	src := filepath.Join(dir, "src.bin")
	os.WriteFile(src, data, 0o644)
	sink := filepath.Join(dir, "out", "dst.bin")
	env := testEnv(t)

	out, err := runCopy(context.Background(), env, spec(t, api.CopySpec{Source: src, Sink: sink, SHA256: sumHex(data)}))
	if err != nil {
		t.Fatal(err)
	}
	co := out.(api.CopyOutput)
	if co.Bytes != int64(len(data)) || co.SHA256 != sumHex(data) || env.bytes.Load() != int64(len(data)) {
		t.Fatalf("output %+v, progress %d", co, env.bytes.Load())
	}
	if got, _ := os.ReadFile(sink); string(got) != string(data) {
		t.Fatal("sink content differs")
	}

	// A wrong checksum leaves the old sink and no temporary file.
	os.WriteFile(src, []byte("new content"), 0o644)
	_, err = runCopy(context.Background(), env, spec(t, api.CopySpec{Source: src, Sink: sink, SHA256: sumHex(data)}))
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") || isRetryable(err) {
		t.Fatalf("mismatch: %v", err)
	}
	if got, _ := os.ReadFile(sink); string(got) != string(data) {
		t.Fatal("sink changed after a checksum mismatch")
	}
	ents, _ := os.ReadDir(filepath.Dir(sink))
	if len(ents) != 1 {
		t.Fatalf("sink dir has %d entries, want 1", len(ents))
	}

	for _, tc := range []struct {
		name string
		spec string
		want string
	}{
		{"relative sink", `{"source":"` + filepath.ToSlash(src) + `","sink":"rel"}`, "spec.sink"},
		{"bad sha", `{"source":"` + filepath.ToSlash(src) + `","sink":"` + filepath.ToSlash(sink) + `","sha256":"xyz"}`, "spec.sha256"},
		{"unknown field", `{"source":"a","sink":"b","colour":1}`, `unknown field "colour"`},
		{"missing source", `{"source":"` + filepath.ToSlash(filepath.Join(dir, "nope")) + `","sink":"` + filepath.ToSlash(sink) + `"}`, "source"},
		{"user in url", `{"source":"https://u:pw@example.com/x","sink":"` + filepath.ToSlash(sink) + `"}`, "credential"},
	} {
		_, err := runCopy(context.Background(), env, json.RawMessage(tc.spec))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestCopyHTTPWithCredentialThroughProxy: an HTTP source needing basic auth
// from the credential store, fetched through a real proxy.
func TestCopyHTTPWithCredentialThroughProxy(t *testing.T) {
	data := []byte("payload over http")
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		switch {
		case r.URL.Path == "/flaky":
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case !ok || u != "reader" || p != "linked-secret":
			http.Error(w, "no", http.StatusUnauthorized)
		default:
			w.Write(data)
		}
	}))
	defer origin.Close()
	px := netproxytest.New("", "")
	defer px.Close()
	tr, err := netproxy.Config{Mode: netproxy.ModeCustom, URL: px.URL}.Transport(nil)
	if err != nil {
		t.Fatal(err)
	}
	env := testEnv(t)
	env.http = &http.Client{Transport: tr}
	if err := env.creds.Put("origin", "reader", "linked-secret"); err != nil {
		t.Fatal(err)
	}
	sink := filepath.Join(t.TempDir(), "f")
	out, err := runCopy(context.Background(), env, spec(t, api.CopySpec{Source: origin.URL + "/f?token=abc", Sink: sink, Credential: "origin"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(sink); string(got) != string(data) || out.(api.CopyOutput).SHA256 != sumHex(data) {
		t.Fatalf("sink %q", got)
	}
	if len(px.Targets()) != 1 {
		t.Fatalf("proxy targets %v", px.Targets())
	}
	_, err = runCopy(context.Background(), env, spec(t, api.CopySpec{Source: origin.URL + "/f?token=abc", Sink: sink}))
	if err == nil || !strings.Contains(err.Error(), "401") || isRetryable(err) || strings.Contains(err.Error(), "token=abc") {
		t.Fatalf("without credential: %v", err)
	}
	_, err = runCopy(context.Background(), env, spec(t, api.CopySpec{Source: origin.URL + "/flaky", Sink: sink}))
	if err == nil || !isRetryable(err) {
		t.Fatalf("503: %v", err)
	}
	_, err = runCopy(context.Background(), env, spec(t, api.CopySpec{Source: origin.URL, Sink: sink, Credential: "nope"}))
	if !errors.Is(err, credstore.ErrNotFound) && (err == nil || !strings.Contains(err.Error(), "not found")) {
		t.Fatalf("unknown credential: %v", err)
	}
}

func TestCopyCancelled(t *testing.T) {
	started := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("first part"))
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done()
	}))
	defer origin.Close()
	sink := filepath.Join(t.TempDir(), "f")
	os.WriteFile(sink, []byte("old"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := runCopy(ctx, testEnv(t), spec(t, api.CopySpec{Source: origin.URL, Sink: sink}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled copy: %v", err)
	}
	if got, _ := os.ReadFile(sink); string(got) != "old" {
		t.Fatal("sink changed by a cancelled copy")
	}
	if ents, _ := os.ReadDir(filepath.Dir(sink)); len(ents) != 1 {
		t.Fatal("temporary file left behind")
	}
}

func TestTestConnection(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer web.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	env := testEnv(t)
	host := strings.TrimPrefix(web.URL, "http://")

	out, err := runTestConnection(context.Background(), env, spec(t, api.TestConnectionSpec{Protocol: "tcp", Address: host}))
	if err != nil || !out.(api.TestConnectionOutput).Reachable {
		t.Fatalf("tcp: %+v %v", out, err)
	}
	out, err = runTestConnection(context.Background(), env, spec(t, api.TestConnectionSpec{Protocol: "http", Address: web.URL}))
	if err != nil || out.(api.TestConnectionOutput).StatusCode != 204 {
		t.Fatalf("http: %+v %v", out, err)
	}
	out, err = runTestConnection(context.Background(), env, spec(t, api.TestConnectionSpec{Protocol: "tcp", Address: closed, TimeoutSeconds: 2}))
	if err == nil || out.(api.TestConnectionOutput).Reachable || out.(api.TestConnectionOutput).Detail == "" {
		t.Fatalf("closed port: %+v %v", out, err)
	}
	// A self-signed server fails verification: reachable by TCP, not by TLS.
	out, err = runTestConnection(context.Background(), env, spec(t, api.TestConnectionSpec{Protocol: "tls", Address: strings.TrimPrefix(tlsSrv.URL, "https://")}))
	if err == nil || !strings.Contains(out.(api.TestConnectionOutput).Detail, "certificate") {
		t.Fatalf("tls self-signed: %+v %v", out, err)
	}
	for _, bad := range []string{`{"protocol":"udp","address":"a:1"}`, `{"protocol":"tcp","address":"nohost"}`, `{"protocol":"http","address":"ftp://x"}`, `{"protocol":"tcp","address":"a:1","timeoutSeconds":9999}`} {
		if _, err := runTestConnection(context.Background(), env, json.RawMessage(bad)); err == nil || isRetryable(err) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestExecAllowList(t *testing.T) {
	env := testEnv(t)
	if _, err := runExec(context.Background(), env, spec(t, api.ExecSpec{Command: "/bin/echo"})); err == nil || !strings.Contains(err.Error(), "exec jobs are off") {
		t.Fatalf("off by default: %v", err)
	}
	env.allow = []string{"/usr/bin/allowed"}
	if _, err := runExec(context.Background(), env, spec(t, api.ExecSpec{Command: "/bin/echo"})); err == nil || !strings.Contains(err.Error(), "not in this node's exec.allow") {
		t.Fatalf("not allowed: %v", err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh: the allowed-command run was not tested")
	}
	env.allow = []string{sh}
	out, err := runExec(context.Background(), env, spec(t, api.ExecSpec{Command: sh, Args: []string{"-c", "echo hi; echo oops >&2; exit 3"}}))
	eo := out.(api.ExecOutput)
	if err == nil || eo.ExitCode != 3 || eo.Stdout != "hi\n" || eo.Stderr != "oops\n" {
		t.Fatalf("exec: %+v %v", eo, err)
	}
	out, err = runExec(context.Background(), env, spec(t, api.ExecSpec{Command: sh, Args: []string{"-c", "head -c 200000 /dev/zero"}}))
	if err != nil || !strings.HasSuffix(out.(api.ExecOutput).Stdout, "[truncated]") || len(out.(api.ExecOutput).Stdout) > maxStream+20 {
		t.Fatalf("big output: %v, %d bytes", err, len(out.(api.ExecOutput).Stdout))
	}
	_ = io.Discard
}

// BenchmarkCopyFile measures a 64 MiB file-to-file copy job: streamed
// through SHA-256 and checked, temp file, fsync and rename.
func BenchmarkCopyFile(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "src")
	data := make([]byte, 64<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	os.WriteFile(src, data, 0o644)
	sum := sumHex(data)
	env := &jobEnv{http: http.DefaultClient}
	raw, _ := json.Marshal(api.CopySpec{Source: src, Sink: filepath.Join(dir, "sink"), SHA256: sum})
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := runCopy(context.Background(), env, raw); err != nil {
			b.Fatal(err)
		}
	}
}
