//go:build !windows

package lsa

import (
	"errors"
	"fmt"
)

// AccountsWithRight returns errors.ErrUnsupported: user rights are Windows'.
func AccountsWithRight(right string) ([]string, error) {
	return nil, fmt.Errorf("accounts with %s: %w", right, errors.ErrUnsupported)
}

// LookupSID returns errors.ErrUnsupported.
func LookupSID(account string) (string, error) {
	return "", fmt.Errorf("look up account %q: %w", account, errors.ErrUnsupported)
}

// GrantRight returns errors.ErrUnsupported.
func GrantRight(sid, right string) error {
	return fmt.Errorf("grant %s: %w", right, errors.ErrUnsupported)
}

// RevokeRight returns errors.ErrUnsupported.
func RevokeRight(sid, right string) error {
	return fmt.Errorf("revoke %s: %w", right, errors.ErrUnsupported)
}
