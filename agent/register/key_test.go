package register

import (
	"errors"
	"strings"
	"testing"
)

const (
	secret = "s3cr3t-0123456789abcdef"
	ca     = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func TestParseKey(t *testing.T) {
	good := "SHIR@rt-1@my runtime@ServiceEndpoint=https://cp.example:8443/base@" + secret
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"good", good, ""},
		{"good with ca", good + "@ca=sha256:" + ca, ""},
		{"surrounding space", "  " + good + "\n", ""},
		{"empty", "", "empty"},
		{"wrong prefix", "IR@" + good[5:], "SHIR@"},
		{"too few parts", "SHIR@a@b@" + secret, "5 or 6 parts"},
		{"bad id", "SHIR@a b@n@ServiceEndpoint=https://h@" + secret, "runtime id"},
		{"no endpoint label", "SHIR@a@n@https://h@" + secret, "ServiceEndpoint=<https-url>"},
		{"http endpoint", "SHIR@a@n@ServiceEndpoint=http://h@" + secret, "https://"},
		{"short secret", "SHIR@a@n@ServiceEndpoint=https://h@short", "too short"},
		{"bad ca label", good + "@sha256:" + ca, "part 6"},
		{"bad ca hex", good + "@ca=sha256:zz", "64 hex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKey(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if k.Secret != secret || k.RuntimeID != "rt-1" || k.Endpoint.Host != "cp.example:8443" {
					t.Errorf("parsed %+v", k)
				}
				if strings.Contains(k.String(), secret) {
					t.Errorf("String leaks the secret: %s", k)
				}
				if again, err := ParseKey(k.Encode()); err != nil || again.Encode() != k.Encode() {
					t.Errorf("Encode does not round-trip: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want ErrBadKey mentioning %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add("SHIR@rt@n@ServiceEndpoint=https://h:1@" + secret + "@ca=sha256:" + ca)
	f.Add("SHIR@@@@")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			if len(s) >= 16 && strings.Contains(err.Error(), s) {
				t.Fatalf("error repeats the input")
			}
			return
		}
		if _, err := ParseKey(k.Encode()); err != nil {
			t.Fatalf("Encode of a parsed key does not parse: %v", err)
		}
	})
}
