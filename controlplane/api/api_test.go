package api

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPaths(t *testing.T) {
	if got, want := RuntimePath("rt 1", "nodes", "n/1", "concurrency"), "/v1/runtimes/rt%201/nodes/n%2F1/concurrency"; got != want {
		t.Errorf("RuntimePath = %q, want %q", got, want)
	}
	if got, want := JobPath("j-1", "renew"), "/v1/jobs/j-1/renew"; got != want {
		t.Errorf("JobPath = %q, want %q", got, want)
	}
	for _, p := range []string{PathRegister, PathHeartbeat, PathLease, PathRuntimes, PathJobs, PathHealth} {
		if !strings.HasPrefix(p, "/"+Version+"/") {
			t.Errorf("path %q is not under /%s", p, Version)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name    string
		wantErr string
	}{
		{"node1", ""},
		{"My.Runtime_2-b", ""},
		{"", "must not be empty"},
		{"-x", "position 1"},
		{"a@b", "position 2"},
		{"a b", "position 2"},
		{strings.Repeat("a", 65), "at most 64"},
	} {
		err := CheckName(tc.name)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("CheckName(%q) = %v, want error containing %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestDecodeStrict(t *testing.T) {
	var r RegisterRequest
	if err := DecodeStrict([]byte(`{"runtimeId":"a","bogus":1}`), &r); err == nil || !strings.Contains(err.Error(), `unknown field "bogus"`) {
		t.Errorf("unknown field: got %v", err)
	}
	if err := DecodeStrict([]byte(`{"runtimeId":"a"} {}`), &r); err == nil {
		t.Error("trailing data accepted")
	}
	if err := DecodeStrict([]byte(`{"runtimeId":"a","machine":{"machineId":"m"}}`), &r); err != nil || r.Machine.MachineID != "m" {
		t.Errorf("good body: %v %+v", err, r)
	}
}

func TestReadProblem(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", ContentTypeProblem)
	rec.WriteHeader(409)
	rec.WriteString(`{"type":"` + ProblemRuntimeFull + `","title":"runtime is full","status":409}`)
	p := ReadProblem(rec.Result())
	if !errors.Is(p, &Problem{Type: ProblemRuntimeFull}) || errors.Is(p, &Problem{Type: ProblemNotFound}) {
		t.Errorf("errors.Is on %v wrong", p)
	}
	rec = httptest.NewRecorder()
	rec.WriteHeader(502)
	rec.WriteString("bad gateway")
	p = ReadProblem(rec.Result())
	if p.Status != 502 || p.Detail != "bad gateway" {
		t.Errorf("non-problem body: %+v", p)
	}
}

func TestPinnedTLSConfig(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	pin := CertSHA256(srv.Certificate().Raw)
	get := func(cfg *tls.Config) error {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		resp, err := c.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(PinnedTLSConfig(pin)); err != nil {
		t.Errorf("right pin refused: %v", err)
	}
	bad := append([]byte(nil), pin...)
	bad[0] ^= 1
	if err := get(PinnedTLSConfig(bad)); err == nil || !strings.Contains(err.Error(), "does not match the pinned") {
		t.Errorf("wrong pin: got %v", err)
	}
}

func TestParsePin(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for _, s := range []string{h, "sha256:" + h} {
		if b, err := ParsePin(s); err != nil || len(b) != 32 {
			t.Errorf("ParsePin(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "sha256:", "sha256:zz", h[:62]} {
		if _, err := ParsePin(s); err == nil {
			t.Errorf("ParsePin(%q) accepted", s)
		}
	}
}

func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"a", "node-1", "", "a@b", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckName(s) == nil && (len(s) == 0 || len(s) > 64 || strings.ContainsAny(s, "@/ \\")) {
			t.Errorf("CheckName accepted %q", s)
		}
	})
}

func FuzzDecodeStrict(f *testing.F) {
	f.Add([]byte(`{"waitSeconds":3}`))
	f.Add([]byte(`{"waitSeconds":3,"x":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r LeaseRequest
		_ = DecodeStrict(b, &r)
	})
}

func FuzzParsePin(f *testing.F) {
	f.Add("sha256:" + strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, s string) {
		if b, err := ParsePin(s); err == nil && len(b) != 32 {
			t.Errorf("pin of %d bytes", len(b))
		}
	})
}
