package power

import (
	"errors"
	"testing"

	"golang.org/x/sys/windows"
)

// TestWineNotImplemented pins what ../shared/wine/README.md says: Wine's
// PowerGetActiveScheme returns ERROR_CALL_NOT_IMPLEMENTED.
func TestWineNotImplemented(t *testing.T) {
	if !underWine() {
		t.Skip("not under Wine: the real power API is exercised by TestActiveScheme")
	}
	_, err := ActiveScheme()
	if !errors.Is(err, windows.ERROR_CALL_NOT_IMPLEMENTED) {
		t.Fatalf("ActiveScheme under Wine: %v, want ERROR_CALL_NOT_IMPLEMENTED", err)
	}
}

func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
