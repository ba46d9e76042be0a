package winreg

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSplitPath(t *testing.T) {
	tests := []struct {
		in, root, sub string
		wantErr       string
	}{
		{`HKLM\SOFTWARE\Microsoft`, HKLM, `SOFTWARE\Microsoft`, ""},
		{`HKEY_LOCAL_MACHINE\SOFTWARE`, HKLM, `SOFTWARE`, ""},
		{`hkcu/Software/x`, HKCU, `Software\x`, ""},
		{`HKU`, HKU, ``, ""},
		{`HKCR\.txt`, HKCR, `.txt`, ""},
		{`HKXX\foo`, "", "", `unknown root key "HKXX"`},
		{`SOFTWARE\foo`, "", "", `unknown root key "SOFTWARE"`},
		{`HKLM\a\\b`, "", "", "empty key name"},
		{``, "", "", "unknown root key"},
	}
	for _, tt := range tests {
		root, sub, err := SplitPath(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SplitPath(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || root != tt.root || sub != tt.sub {
			t.Errorf("SplitPath(%q) = %q, %q, %v; want %q, %q", tt.in, root, sub, err, tt.root, tt.sub)
		}
	}
}

func FuzzSplitPath(f *testing.F) {
	for _, s := range []string{`HKLM\SOFTWARE\x`, `hkcu/a/b`, `HKEY_USERS\`, `\\`, ``, "HKLM\\\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		root, sub, err := SplitPath(s)
		if err != nil {
			return
		}
		if !slices.Contains([]string{HKLM, HKCU, HKU, HKCR}, root) || strings.Contains(sub, "/") || strings.Contains(sub, `\\`) {
			t.Fatalf("SplitPath(%q) = %q, %q", s, root, sub)
		}
		// Round trip: the normalized form splits the same way.
		r2, s2, err := SplitPath(root + `\` + sub)
		if err != nil || r2 != root || s2 != sub {
			t.Fatalf("round trip of %q: %q %q %v", s, r2, s2, err)
		}
	})
}

// conformance runs the same assertions against any Reader whose key base
// holds: DWORD Release=528040, string Name="shir test", subkeys A and B, and
// no value or key called Missing.
func conformance(t *testing.T, r Reader, base string) {
	t.Helper()
	if v, err := r.DWORD(base, "Release"); err != nil || v != 528040 {
		t.Errorf("DWORD Release = %d, %v", v, err)
	}
	if v, err := r.DWORD(base, "release"); err != nil || v != 528040 {
		t.Errorf("names must be case-insensitive: %d, %v", v, err)
	}
	if v, err := r.String(base, "Name"); err != nil || v != "shir test" {
		t.Errorf("String Name = %q, %v", v, err)
	}
	if _, err := r.DWORD(base, "Missing"); !errors.Is(err, ErrNotExist) {
		t.Errorf("missing value: %v, want ErrNotExist", err)
	}
	if _, err := r.DWORD(base+`\Missing`, "Release"); !errors.Is(err, ErrNotExist) {
		t.Errorf("missing key: %v, want ErrNotExist", err)
	}
	if _, err := r.DWORD(base, "Name"); !errors.Is(err, ErrType) {
		t.Errorf("DWORD of a string: %v, want ErrType", err)
	}
	if _, err := r.String(base, "Release"); err == nil {
		t.Errorf("String of a DWORD: no error")
	}
	subs, err := r.SubKeys(base)
	for i := range subs {
		subs[i] = strings.ToLower(subs[i])
	}
	slices.Sort(subs)
	if err != nil || !slices.Equal(subs, []string{"a", "b"}) {
		t.Errorf("SubKeys = %v, %v", subs, err)
	}
	if _, err := r.SubKeys(base + `\Missing`); !errors.Is(err, ErrNotExist) {
		t.Errorf("SubKeys of missing key: %v", err)
	}
	if ok, err := r.KeyExists(base + `\A`); !ok || err != nil {
		t.Errorf("KeyExists(A) = %v, %v", ok, err)
	}
	if ok, err := r.KeyExists(base + `\Missing`); ok || err != nil {
		t.Errorf("KeyExists(Missing) = %v, %v", ok, err)
	}
	if _, err := r.DWORD(`NOPE\x`, "y"); err == nil || errors.Is(err, ErrNotExist) {
		t.Errorf("bad root: %v", err)
	}
}

func TestFake(t *testing.T) {
	base := `HKCU\Software\shir-test`
	f := new(Fake).SetDWORD(base, "Release", 528040).SetString(base, "Name", "shir test").AddKey(base + `\A`).AddKey(base + `\B`)
	conformance(t, f, base)

	denied := errors.New("Access is denied.")
	f.SetError(base+`\A`, denied)
	if _, err := f.DWORD(base+`\A\x`, "v"); !errors.Is(err, denied) {
		t.Errorf("SetError: %v", err)
	}
	if _, err := f.KeyExists(base + `\A`); !errors.Is(err, denied) {
		t.Errorf("SetError KeyExists: %v", err)
	}
}
