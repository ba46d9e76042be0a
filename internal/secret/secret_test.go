package secret

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// testProtector is the conformance suite every Protector passes.
func testProtector(t *testing.T, p Protector) {
	t.Helper()
	for _, plain := range [][]byte{[]byte("node-token-0123456789"), {}, bytes.Repeat([]byte{0, 1, 2}, 5000)} {
		sealed, err := Seal(p, plain)
		if err != nil {
			t.Fatal(err)
		}
		if len(plain) > 4 && bytes.Contains(sealed, plain) {
			t.Fatal("sealed data contains the plain text")
		}
		got, err := Open(p, sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, %v", got, err)
		}
		// Every flipped bit in the blob is detected.
		for _, i := range []int{len(sealed) - 1, len(sealed) / 2, len(magic) + 2 + len(p.Scheme())} {
			if i >= len(sealed) {
				continue
			}
			bad := bytes.Clone(sealed)
			bad[i] ^= 0x40
			// A flip is detected, or (in metadata that some DPAPI
			// implementations do not authenticate) changes nothing; it never
			// yields other data.
			got, err := Open(p, bad)
			if err == nil && !bytes.Equal(got, plain) {
				t.Errorf("flipped byte %d of %d: opened to other data", i, len(sealed))
			}
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Errorf("flipped byte %d of %d: err %v, want ErrCorrupt", i, len(sealed), err)
			}
			if _, isAES := p.(*AESGCM); isAES && err == nil {
				t.Errorf("aes-256-gcm: flipped byte %d of %d not detected", i, len(sealed))
			}
		}
	}
	// Truncation is detected.
	sealed, _ := Seal(p, []byte("secret value"))
	if _, err := Open(p, sealed[:len(sealed)-3]); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated: err %v", err)
	}
	// Two seals of one value differ (random nonce / salt).
	s2, _ := Seal(p, []byte("secret value"))
	if bytes.Equal(sealed, s2) {
		t.Error("two seals of the same value are identical")
	}
}

func TestAESGCMConformance(t *testing.T) {
	p, err := LoadOrCreateKey(filepath.Join(t.TempDir(), KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	testProtector(t, p)
}

func TestDefaultProtectorConformance(t *testing.T) {
	p, err := ForStateDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scheme %s", p.Scheme())
	testProtector(t, p)
}

func TestMachineKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFile)
	p1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		st, _ := os.Stat(path)
		if st.Mode().Perm() != 0o600 {
			t.Errorf("key mode %#o, want 0600", st.Mode().Perm())
		}
	}
	sealed, _ := Seal(p1, []byte("v"))
	p2, err := LoadOrCreateKey(path) // same key again
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Open(p2, sealed); err != nil || string(got) != "v" {
		t.Fatalf("reloaded key cannot open: %q %v", got, err)
	}
	// Another machine's key cannot open it.
	other, _ := LoadOrCreateKey(filepath.Join(t.TempDir(), KeyFile))
	if _, err := Open(other, sealed); !errors.Is(err, ErrCorrupt) {
		t.Errorf("other key: %v", err)
	}
	// A damaged key is refused and left alone.
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "5 bytes") {
		t.Errorf("short key: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "short" {
		t.Error("damaged key was overwritten")
	}
	if runtime.GOOS != "windows" {
		if err := os.WriteFile(path, bytes.Repeat([]byte{1}, 32), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, 0o644)
		if _, err := LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("world-readable key: %v", err)
		}
	}
}

func TestSealedFile(t *testing.T) {
	dir := t.TempDir()
	p, err := ForStateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "identity.sealed")
	if _, err := ReadFile(path, p); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if err := WriteFile(path, p, []byte("tok-abcdefghijklmnop")); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("abcdefghijklmnop")) {
		t.Fatal("file holds the plain text")
	}
	got, err := ReadFile(path, p)
	if err != nil || string(got) != "tok-abcdefghijklmnop" {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
	os.WriteFile(path, []byte("{\"token\":\"x\"}"), 0o600)
	if _, err := ReadFile(path, p); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("plain JSON file: %v", err)
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in      string
		scheme  string
		wantErr bool
	}{
		{"SHIRSEC1\x03abcXYZ", "abc", false},
		{"SHIRSEC1\x03abc", "abc", false},
		{"SHIRSEC1", "", true},
		{"SHIRSEC1\x00", "", true},
		{"SHIRSEC1\x05abc", "", true},
		{"SHIRSEC1\x03A!c", "", true},
		{"NOTSEC01\x03abc", "", true},
	}
	for _, tt := range tests {
		s, _, err := parseHeader([]byte(tt.in))
		if (err != nil) != tt.wantErr || s != tt.scheme {
			t.Errorf("parseHeader(%q) = %q, %v", tt.in, s, err)
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Errorf("parseHeader(%q): %v does not wrap ErrCorrupt", tt.in, err)
		}
	}
}

func FuzzOpen(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	p, _ := NewAESGCM(key)
	good, _ := Seal(p, []byte("hello"))
	f.Add(good)
	f.Add([]byte("SHIRSEC1\x0baes-256-gcm"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		plain, err := Open(p, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		again, err := Seal(p, plain)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := Open(p, again); err != nil || !bytes.Equal(back, plain) {
			t.Fatal("round trip failed")
		}
	})
}
