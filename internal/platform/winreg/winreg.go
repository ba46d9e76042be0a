// Package winreg reads the Windows registry through a small interface with
// plain Go types, so that code which reads the registry compiles and is tested
// on every OS. System is the real registry (64-bit view, read only) on
// Windows and returns errors.ErrUnsupported elsewhere; Fake is an in-memory
// registry for tests of any package.
//
// Paths name the root key first, as reg.exe does: `HKLM\SOFTWARE\...`,
// `HKCU\...` (also the long forms HKEY_LOCAL_MACHINE, HKEY_CURRENT_USER,
// HKEY_USERS, HKEY_CLASSES_ROOT). Names are case-insensitive, as in Windows.
package winreg

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotExist is wrapped by every method when the key or value is absent.
var ErrNotExist = errors.New("registry key or value does not exist")

// ErrType is wrapped when a value exists with another type than asked for.
var ErrType = errors.New("registry value has an unexpected type")

// Reader reads keys and values.
type Reader interface {
	// DWORD reads a REG_DWORD value.
	DWORD(path, name string) (uint32, error)
	// String reads a REG_SZ or REG_EXPAND_SZ value (not expanded).
	String(path, name string) (string, error)
	// SubKeys lists the names of the subkeys of path.
	SubKeys(path string) ([]string, error)
	// KeyExists reports whether the key exists (false, nil when it does not).
	KeyExists(path string) (bool, error)
}

var (
	_ Reader = System{}
	_ Reader = (*Fake)(nil)
)

// System is the registry of this machine.
type System struct{}

// Root keys accepted at the start of a path.
const (
	HKLM = "HKLM"
	HKCU = "HKCU"
	HKU  = "HKU"
	HKCR = "HKCR"
)

// SplitPath splits `HKLM\SOFTWARE\X` into its root (one of HKLM, HKCU, HKU,
// HKCR) and the subkey path `SOFTWARE\X`. Slashes are accepted as separators.
func SplitPath(path string) (root, sub string, err error) {
	p := strings.ReplaceAll(path, "/", `\`)
	p = strings.Trim(p, `\`)
	first, rest, _ := strings.Cut(p, `\`)
	switch strings.ToUpper(first) {
	case "HKLM", "HKEY_LOCAL_MACHINE":
		root = HKLM
	case "HKCU", "HKEY_CURRENT_USER":
		root = HKCU
	case "HKU", "HKEY_USERS":
		root = HKU
	case "HKCR", "HKEY_CLASSES_ROOT":
		root = HKCR
	default:
		return "", "", fmt.Errorf("registry path %q: unknown root key %q (want HKLM, HKCU, HKU or HKCR)", path, first)
	}
	for s := range strings.SplitSeq(rest, `\`) {
		if s == "" && rest != "" {
			return "", "", fmt.Errorf("registry path %q: empty key name", path)
		}
	}
	return root, rest, nil
}
