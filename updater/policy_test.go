package updater

import (
	"strings"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	at := func(day, hm string) time.Time {
		// 2026-11-29 is a Sunday.
		d := map[string]int{"Sun": 29, "Mon": 30, "Tue": 1, "Sat": 28}[day]
		m := time.November
		if day == "Tue" {
			m = time.December
		}
		tt, _ := time.Parse("15:04", hm)
		return time.Date(2026, m, d, tt.Hour(), tt.Minute(), 0, 0, time.Local)
	}
	cases := []struct {
		window, day, hm string
		want            bool
	}{
		{"Sun 02:00-04:00", "Sun", "02:00", true},
		{"Sun 02:00-04:00", "Sun", "03:59", true},
		{"Sun 02:00-04:00", "Sun", "04:00", false},
		{"Sun 02:00-04:00", "Sat", "03:00", false},
		{"Mon-Fri 22:00-02:00", "Mon", "23:00", true},
		{"Mon-Fri 22:00-02:00", "Tue", "01:30", true},  // Monday's window, after midnight
		{"Mon-Fri 22:00-02:00", "Mon", "01:30", false}, // would be Sunday's window
		{"Sat,Sun 01:00-05:00", "Sat", "04:00", true},
		{"daily 00:00-24:00", "Tue", "12:34", true},
	}
	for _, c := range cases {
		w, err := ParseWindow(c.window)
		if err != nil {
			t.Fatalf("%q: %v", c.window, err)
		}
		if got := w.Contains(at(c.day, c.hm)); got != c.want {
			t.Errorf("%q at %s %s = %v, want %v", c.window, c.day, c.hm, got, c.want)
		}
	}
	for in, want := range map[string]string{
		"Sun":                `want "DAYS HH:MM-HH:MM"`,
		"Sunday 02:00-03:00": `unknown day "sunday"`,
		"Sun 2:00-03:00":     `start: "2:00": want HH:MM`,
		"Sun 02:00-25:00":    "not a time of day",
		"Sun 02:00-02:00":    "same time",
	} {
		if _, err := ParseWindow(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseWindow(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestBucketSpread(t *testing.T) {
	var counts [100]int
	for i := 0; i < 10000; i++ {
		counts[Bucket("node-"+string(rune('a'+i%26))+time.Duration(i).String())]++
	}
	for b, n := range counts {
		if n == 0 {
			t.Fatalf("bucket %d never used", b)
		}
	}
	if Bucket("node-1") != Bucket("node-1") {
		t.Fatal("bucket not stable")
	}
}

func TestDecideChannelsAndConstraint(t *testing.T) {
	m := Manifest{Schema: 1, Version: "1.5.0-beta.1", Channel: "beta", Published: testNow.Add(-time.Hour),
		NotBefore: testNow.Add(-time.Hour), Expires: testNow.Add(time.Hour), Rollout: 100,
		Artifacts: map[string]Artifact{"linux/amd64": {}}}
	p := Policy{Channel: "beta", AutoUpdate: true, GOOS: "linux", GOARCH: "amd64"}
	if err := Decide(p, Request{}, "1.4.0", m, State{}, testNow); err != nil {
		t.Fatalf("beta node, beta release: %v", err)
	}
	p.Constraint = "~> 1.4"
	if err := Decide(p, Request{}, "1.4.0", m, State{}, testNow); err == nil {
		t.Fatal("prerelease accepted by ~> 1.4 (go-version excludes prereleases)")
	}
	m.Version, m.Channel = "2.0.0", "stable"
	if err := Decide(p, Request{}, "1.4.0", m, State{}, testNow); err == nil || !strings.Contains(err.Error(), "constraint") {
		t.Fatalf("2.0.0 with ~> 1.4: %v", err)
	}
	p.Constraint = ">= 1.0, <"
	if err := Decide(p, Request{}, "1.4.0", m, State{}, testNow); err == nil || !strings.Contains(err.Error(), `constraint ">= 1.0, <"`) {
		t.Fatalf("bad constraint: %v", err)
	}
	p.Constraint, p.GOOS = "", "windows"
	if err := Decide(p, Request{}, "1.4.0", m, State{}, testNow); err == nil || !strings.Contains(err.Error(), "no artifact") {
		t.Fatalf("no artifact: %v", err)
	}
}

func TestKeyEncryption(t *testing.T) {
	_, priv, _ := GenerateKey()
	enc, err := EncryptPrivateKey("s3cret-pass", priv, CostInteractive)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(enc), "s3cret") {
		t.Fatal("password in key file")
	}
	got, err := DecryptPrivateKey("s3cret-pass", enc)
	if err != nil || !got.Equal(priv) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := DecryptPrivateKey("nope", enc); err == nil || !strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := EncryptPrivateKey("", priv, CostInteractive); err == nil {
		t.Fatal("empty password accepted")
	}
	if _, err := ParsePublicKey("RWQnotakey"); err == nil || !strings.Contains(err.Error(), "not a minisign public key") {
		t.Fatalf("bad public key: %v", err)
	}
	if _, err := DefaultRoots(); err != nil {
		t.Fatalf("compiled-in roots: %v", err)
	}
}

func TestManifestValidate(t *testing.T) {
	f := newFeed(t, newKeys(t), testNow)
	good := f.release(t, PublishOptions{Version: "1.0.0"}, []byte("x"))
	for name, mut := range map[string]func(m *Manifest){
		"version: \"v1\"":        func(m *Manifest) { m.Version = "v1" },
		"channel":                func(m *Manifest) { m.Channel = "nightly" },
		"rollout":                func(m *Manifest) { m.Rollout = 101 },
		"expires: must be after": func(m *Manifest) { m.Expires = m.NotBefore },
		"schema":                 func(m *Manifest) { m.Schema = 2 },
		"artifacts: empty":       func(m *Manifest) { m.Artifacts = nil },
	} {
		m := good
		m.Artifacts = map[string]Artifact{}
		for k, v := range good.Artifacts {
			m.Artifacts[k] = v
		}
		mut(&m)
		if err := m.Validate(); err == nil || !strings.Contains(err.Error(), strings.Split(name, ":")[0]) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseManifest(append(good.Marshal(), []byte(`{}`)...)); err == nil {
		t.Error("trailing data accepted")
	}
	if _, err := ParseManifest([]byte(`{"schema":1,"extra":true}`)); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("unknown field: %v", err)
	}
}
