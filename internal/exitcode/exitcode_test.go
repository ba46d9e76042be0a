package exitcode

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestCodes(t *testing.T) {
	wrap := func(e error) error { return fmt.Errorf("step prereq: %w", e) }
	tests := []struct {
		name      string
		err       error
		code, msi int
	}{
		{"nil", nil, 0, 0},
		{"plain", errors.New("boom"), 1, 1603},
		{"not implemented", wrap(ErrNotImplemented), 1, 1603},
		{"usage", wrap(ErrUsage), 2, 1603},
		{"prereq", wrap(ErrPrereq), 3, 1603},
		{"reboot", wrap(ErrRebootRequired), 4, 3010},
		{"locked", wrap(ErrLocked), 5, 1618},
		{"registration", wrap(ErrRegistration), 6, 1603},
		{"platform", wrap(ErrPlatform), 1, 1633},
		{"cancelled", wrap(ErrCancelled), 130, 1602},
		{"context canceled", wrap(context.Canceled), 130, 1602},
		{"joined: cancel wins over prereq", errors.Join(ErrPrereq, context.Canceled), 130, 1602},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Code(tt.err); got != tt.code {
				t.Errorf("Code(%v) = %d, want %d", tt.err, got, tt.code)
			}
			if got := MSICode(tt.err); got != tt.msi {
				t.Errorf("MSICode(%v) = %d, want %d", tt.err, got, tt.msi)
			}
		})
	}
}
