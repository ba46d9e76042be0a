// Package winsvc asks the Windows service control manager whether a service
// is installed, with the least rights that can (SC_MANAGER_CONNECT and
// SERVICE_QUERY_STATUS), so it also works from a non-elevated prompt. Other
// OSes return errors.ErrUnsupported.
package winsvc
