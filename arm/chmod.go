package arm

import (
	"errors"
	"runtime"
)

// isUnsupportedChmod reports a chmod failure that only means the OS has no
// Unix modes (Windows, where ACLs of the folder apply).
func isUnsupportedChmod(err error) bool {
	return runtime.GOOS == "windows" || errors.Is(err, errors.ErrUnsupported)
}
