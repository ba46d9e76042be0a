package register

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadKey(t *testing.T) {
	good := "SHIR@rt1@prod@ServiceEndpoint=https://cp:8443@" + secret
	f := filepath.Join(t.TempDir(), "key")
	os.WriteFile(f, []byte("\ufeff"+good+"\r\n"), 0o600)
	for _, tc := range []struct {
		arg, stdin string
	}{{good, ""}, {"-", good + "\n"}, {"@" + f, ""}} {
		k, err := ReadKey(tc.arg, strings.NewReader(tc.stdin))
		if err != nil || k.RuntimeID != "rt1" || k.Secret != secret {
			t.Errorf("ReadKey(%q): %+v %v", tc.arg, k, err)
		}
	}
	for _, tc := range []struct{ arg, stdin, want string }{
		{"-", "", "empty"},
		{"@" + filepath.Join(t.TempDir(), "nope"), "", "does not exist"},
		{"garbage", "", "SHIR@"},
	} {
		_, err := ReadKey(tc.arg, strings.NewReader(tc.stdin))
		if !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadKey(%q): %v, want %q", tc.arg, err, tc.want)
		}
	}
}

func FuzzReadKeyStdin(f *testing.F) {
	f.Add("SHIR@rt1@prod@ServiceEndpoint=https://cp:8443@" + secret + "\n")
	f.Add("\ufeff\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		k, err := ReadKey("-", strings.NewReader(in))
		if err == nil && (k.Endpoint == nil || len(k.Secret) < 16) {
			t.Fatalf("accepted %q", in)
		}
		if err != nil && len(in) > 40 && strings.Contains(err.Error(), in) {
			t.Fatal("error repeats the input")
		}
	})
}
