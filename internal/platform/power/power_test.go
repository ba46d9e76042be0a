package power

import (
	"errors"
	"runtime"
	"testing"
)

// TestActiveScheme runs the real adapter. Under Wine the power API is not
// implemented, which must come back as an error (ERROR_CALL_NOT_IMPLEMENTED),
// not a crash and not made-up settings; on real Windows it returns settings.
func TestActiveScheme(t *testing.T) {
	s, err := ActiveScheme()
	if runtime.GOOS != "windows" {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("ActiveScheme on %s: %v, want ErrUnsupported", runtime.GOOS, err)
		}
		return
	}
	if err != nil {
		if s != (Settings{}) {
			t.Errorf("settings %+v returned with error %v", s, err)
		}
		t.Logf("ActiveScheme: %v (expected under Wine)", err)
		return
	}
	t.Logf("ActiveScheme = %+v", s)
}
