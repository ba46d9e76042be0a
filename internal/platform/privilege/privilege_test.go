package privilege

import (
	"os"
	"runtime"
	"testing"
)

func TestCurrent(t *testing.T) {
	s, err := Current()
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if want := os.Geteuid() == 0; s.Elevated != want || s.Admin != want || s.OK() != want {
			t.Errorf("Current() = %+v, euid %d", s, os.Geteuid())
		}
		return
	}
	// Wine runs every process as an elevated administrator; on a real
	// Windows CI runner the job runs elevated too.
	if !s.OK() {
		t.Errorf("Current() = %+v, want elevated admin (Wine and CI run elevated)", s)
	}
}

func TestOK(t *testing.T) {
	for _, tt := range []struct {
		s    Status
		want bool
	}{{Status{true, true}, true}, {Status{true, false}, false}, {Status{false, true}, false}, {Status{}, false}} {
		if tt.s.OK() != tt.want {
			t.Errorf("%+v.OK() = %v", tt.s, !tt.want)
		}
	}
}
