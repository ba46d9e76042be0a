// Package privilege tells whether this process runs with administrator
// rights: root (effective uid 0) on Unix; on Windows an elevated token
// (TokenElevation) whose Administrators group (S-1-5-32-544) is enabled, as
// CheckTokenMembership reports it. Both facts are returned, because a
// UAC-filtered admin token is a member only "for deny" and not elevated.
package privilege

// Status is what Current found.
type Status struct {
	Elevated bool // Windows: TokenElevation; Unix: euid 0
	Admin    bool // Windows: enabled member of BUILTIN\Administrators; Unix: euid 0
}

// OK reports whether the process may install: elevated and admin.
func (s Status) OK() bool { return s.Elevated && s.Admin }
