package winsvc

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows"
)

// Exists reports whether a service with this name is installed.
func Exists(name string) (bool, error) {
	m, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT)
	if err != nil {
		return false, fmt.Errorf("open service manager: %w", err)
	}
	defer windows.CloseServiceHandle(m)
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return false, fmt.Errorf("service name %q: %w", name, err)
	}
	s, err := windows.OpenService(m, p, windows.SERVICE_QUERY_STATUS)
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open service %q: %w", name, err)
	}
	windows.CloseServiceHandle(s)
	return true, nil
}
