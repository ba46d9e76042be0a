package winreg

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

func open(path string, access uint32) (registry.Key, error) {
	root, sub, err := SplitPath(path)
	if err != nil {
		return 0, err
	}
	var k registry.Key
	switch root {
	case HKLM:
		k = registry.LOCAL_MACHINE
	case HKCU:
		k = registry.CURRENT_USER
	case HKU:
		k = registry.USERS
	case HKCR:
		k = registry.CLASSES_ROOT
	}
	key, err := registry.OpenKey(k, sub, access|registry.WOW64_64KEY)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, mapErr(err))
	}
	return key, nil
}

func mapErr(err error) error {
	if errors.Is(err, registry.ErrNotExist) || errors.Is(err, windows.ERROR_PATH_NOT_FOUND) {
		return fmt.Errorf("%w (%v)", ErrNotExist, err)
	}
	if errors.Is(err, registry.ErrUnexpectedType) {
		return fmt.Errorf("%w (%v)", ErrType, err)
	}
	return err
}

// DWORD implements Reader.
func (System) DWORD(path, name string) (uint32, error) {
	k, err := open(path, registry.QUERY_VALUE)
	if err != nil {
		return 0, err
	}
	defer k.Close()
	v, typ, err := k.GetIntegerValue(name)
	if err != nil {
		return 0, fmt.Errorf("read %s\\%s: %w", path, name, mapErr(err))
	}
	if typ != registry.DWORD {
		return 0, fmt.Errorf("read %s\\%s: %w (type %d, want REG_DWORD)", path, name, ErrType, typ)
	}
	return uint32(v), nil
}

// String implements Reader.
func (System) String(path, name string) (string, error) {
	k, err := open(path, registry.QUERY_VALUE)
	if err != nil {
		return "", err
	}
	defer k.Close()
	v, _, err := k.GetStringValue(name)
	if err != nil {
		return "", fmt.Errorf("read %s\\%s: %w", path, name, mapErr(err))
	}
	return v, nil
}

// SubKeys implements Reader.
func (System) SubKeys(path string) ([]string, error) {
	k, err := open(path, registry.ENUMERATE_SUB_KEYS)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	names, err := k.ReadSubKeyNames(-1)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", path, mapErr(err))
	}
	return names, nil
}

// KeyExists implements Reader.
func (System) KeyExists(path string) (bool, error) {
	k, err := open(path, registry.QUERY_VALUE)
	if errors.Is(err, ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	k.Close()
	return true, nil
}
