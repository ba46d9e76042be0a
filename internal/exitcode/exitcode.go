// Package exitcode is the one place that turns errors into process exit codes.
//
// Packages never choose an exit code. They return errors that wrap one of the
// sentinels below (for example prereq returns an error wrapping ErrPrereq), and
// the CLI calls Code or MSICode once, at the very end. The table is the one in
// DESIGN.md:
//
//	code  MSI   meaning
//	0     0     ok
//	1     1603  anything else (including "not implemented yet")
//	2     1603  usage: bad flag, argument or property (msiexec has no usage code)
//	3     1603  prerequisites failed
//	4     3010  reboot required
//	5     1618  another install is running
//	6     1603  registration refused by the control plane
//	130   1602  cancelled (Ctrl-C, SIGTERM)
//	1     1633  platform not supported (1633 only in msiexec-style calls)
package exitcode

import (
	"context"
	"errors"
)

// Sentinels that packages wrap to say what kind of failure an error is.
var (
	ErrUsage          = errors.New("usage error")
	ErrPrereq         = errors.New("prerequisites failed")
	ErrRebootRequired = errors.New("reboot required")
	ErrLocked         = errors.New("another installation is running")
	ErrRegistration   = errors.New("registration refused")
	ErrPlatform       = errors.New("platform not supported")
	ErrNotImplemented = errors.New("not implemented yet")
	ErrCancelled      = errors.New("cancelled")
)

// Exit codes of plain (non-msiexec) calls.
const (
	OK             = 0
	Failure        = 1
	Usage          = 2
	Prereq         = 3
	RebootRequired = 4
	Locked         = 5
	Registration   = 6
	Cancelled      = 130
)

// Windows Installer exit codes, used by msiexec-style calls.
const (
	MSISuccess        = 0
	MSIUserExit       = 1602 // ERROR_INSTALL_USEREXIT
	MSIFailure        = 1603 // ERROR_INSTALL_FAILURE
	MSIAlreadyRunning = 1618 // ERROR_INSTALL_ALREADY_RUNNING
	MSIPlatform       = 1633 // ERROR_INSTALL_PLATFORM_UNSUPPORTED
	MSIRebootRequired = 3010 // ERROR_SUCCESS_REBOOT_REQUIRED
)

// Code returns the exit code of a plain call that ended with err.
func Code(err error) int {
	switch {
	case err == nil:
		return OK
	case errors.Is(err, ErrCancelled), errors.Is(err, context.Canceled):
		return Cancelled
	case errors.Is(err, ErrUsage):
		return Usage
	case errors.Is(err, ErrPrereq):
		return Prereq
	case errors.Is(err, ErrRebootRequired):
		return RebootRequired
	case errors.Is(err, ErrLocked):
		return Locked
	case errors.Is(err, ErrRegistration):
		return Registration
	default:
		return Failure
	}
}

// MSICode returns the Windows Installer exit code of an msiexec-style call
// (shir install /q ...) that ended with err.
func MSICode(err error) int {
	switch {
	case err == nil:
		return MSISuccess
	case errors.Is(err, ErrCancelled), errors.Is(err, context.Canceled):
		return MSIUserExit
	case errors.Is(err, ErrRebootRequired):
		return MSIRebootRequired
	case errors.Is(err, ErrLocked):
		return MSIAlreadyRunning
	case errors.Is(err, ErrPlatform):
		return MSIPlatform
	default:
		return MSIFailure
	}
}
