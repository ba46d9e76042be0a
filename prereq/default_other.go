//go:build !linux && !windows

package prereq

import (
	"context"
	"errors"
	"runtime"
)

// unsupportedOS is the only check on an OS shir does not support.
type unsupportedOS struct{}

func (unsupportedOS) ID() string { return "os-version" }

func (unsupportedOS) Check(context.Context) Verdict {
	return Fail(SeverityError, "Install on Windows or Linux", "%s is not supported: %v", runtime.GOOS, errors.ErrUnsupported)
}

func defaultChecks(Options) []Checker { return []Checker{unsupportedOS{}} }
