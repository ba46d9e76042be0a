//go:build !windows

package winreg

import (
	"errors"
	"testing"
)

func TestSystemUnsupported(t *testing.T) {
	var r Reader = System{}
	if _, err := r.DWORD(`HKLM\SOFTWARE`, "x"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("DWORD: %v", err)
	}
	if _, err := r.String(`HKLM\SOFTWARE`, "x"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("String: %v", err)
	}
	if _, err := r.SubKeys(`HKLM\SOFTWARE`); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("SubKeys: %v", err)
	}
	if _, err := r.KeyExists(`HKLM\SOFTWARE`); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("KeyExists: %v", err)
	}
}
