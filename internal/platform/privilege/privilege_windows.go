package privilege

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// Current returns the rights of this process. Token(0).IsMember makes
// CheckTokenMembership use the thread's impersonation token or a duplicate
// of the primary token, as it needs (the process token itself fails with
// "No impersonation token").
func Current() (Status, error) {
	elevated := windows.GetCurrentProcessToken().IsElevated()
	sid, err := windows.CreateWellKnownSid(windows.WinBuiltinAdministratorsSid)
	if err != nil {
		return Status{Elevated: elevated}, fmt.Errorf("administrators sid: %w", err)
	}
	member, err := windows.Token(0).IsMember(sid)
	if err != nil {
		return Status{Elevated: elevated}, fmt.Errorf("check membership of Administrators: %w", err)
	}
	return Status{Elevated: elevated, Admin: member}, nil
}
