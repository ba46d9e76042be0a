package secret

import (
	"bytes"
	"testing"
)

// TestDPAPIMachineScope runs under Wine: the default protector on Windows is
// DPAPI, and its blob is not the AES format.
func TestDPAPIMachineScope(t *testing.T) {
	p, err := ForStateDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if p.Scheme() != "dpapi-machine" {
		t.Fatalf("default scheme %q on Windows, want dpapi-machine", p.Scheme())
	}
	blob, err := p.Protect([]byte("credential"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(blob, []byte("credential")) {
		t.Fatal("DPAPI blob contains the plain text")
	}
	got, err := p.Unprotect(blob)
	if err != nil || string(got) != "credential" {
		t.Fatalf("Unprotect = %q, %v", got, err)
	}
}
