package atomicfile

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

func TestPrivateFileHasProtectedDACL(t *testing.T) {
	p := filepath.Join(t.TempDir(), "secret")
	if err := Write(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	sd, err := windows.GetNamedSecurityInfo(p, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	s := sd.String()
	// Wine drops the P (protected) flag when it reports the DACL, so the test
	// checks the entries: SYSTEM yes; Everyone, Users, Authenticated Users no.
	if !strings.Contains(s, "(A;;FA;;;SY)") {
		t.Errorf("DACL %s: SYSTEM has no full access", s)
	}
	for _, who := range []string{";;;WD)", ";;;BU)", ";;;AU)"} {
		if strings.Contains(s, who) {
			t.Errorf("DACL %s grants %s", s, who)
		}
	}
}
