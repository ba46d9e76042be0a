package lsa

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	advapi32                              = windows.NewLazySystemDLL("advapi32.dll")
	procLsaOpenPolicy                     = advapi32.NewProc("LsaOpenPolicy")
	procLsaClose                          = advapi32.NewProc("LsaClose")
	procLsaFreeMemory                     = advapi32.NewProc("LsaFreeMemory")
	procLsaEnumerateAccountsWithUserRight = advapi32.NewProc("LsaEnumerateAccountsWithUserRight")
	procLsaNtStatusToWinError             = advapi32.NewProc("LsaNtStatusToWinError")
)

const (
	policyViewLocalInformation = 0x00000001
	policyLookupNames          = 0x00000800
	statusNoMoreEntries        = 0x8000001A
)

type lsaObjectAttributes struct {
	Length                   uint32
	RootDirectory            windows.Handle
	ObjectName               *windows.NTUnicodeString
	Attributes               uint32
	SecurityDescriptor       unsafe.Pointer
	SecurityQualityOfService unsafe.Pointer
}

func ntErr(call string, status uintptr) error {
	r, _, _ := procLsaNtStatusToWinError.Call(status)
	return fmt.Errorf("%s: %w (NTSTATUS %#x)", call, windows.Errno(r), uint32(status))
}

// AccountsWithRight returns the SIDs (S-1-...) that hold right directly.
// None holding it is an empty list, not an error.
func AccountsWithRight(right string) ([]string, error) {
	if err := procLsaEnumerateAccountsWithUserRight.Find(); err != nil {
		return nil, fmt.Errorf("lsa: %w", err)
	}
	var attrs lsaObjectAttributes
	attrs.Length = uint32(unsafe.Sizeof(attrs))
	var policy windows.Handle
	r, _, _ := procLsaOpenPolicy.Call(0, uintptr(unsafe.Pointer(&attrs)), policyLookupNames|policyViewLocalInformation, uintptr(unsafe.Pointer(&policy)))
	if r != 0 {
		return nil, ntErr("LsaOpenPolicy", r)
	}
	defer procLsaClose.Call(uintptr(policy))
	name, err := windows.NewNTUnicodeString(right)
	if err != nil {
		return nil, fmt.Errorf("right %q: %w", right, err)
	}
	var buf unsafe.Pointer
	var n uint32
	r, _, _ = procLsaEnumerateAccountsWithUserRight.Call(uintptr(policy), uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(&buf)), uintptr(unsafe.Pointer(&n)))
	if r == statusNoMoreEntries {
		return []string{}, nil
	}
	if r != 0 {
		return nil, ntErr("LsaEnumerateAccountsWithUserRight "+right, r)
	}
	defer procLsaFreeMemory.Call(uintptr(buf))
	// buf is an array of LSA_ENUMERATION_INFORMATION{PSID Sid}.
	sids := unsafe.Slice((**windows.SID)(buf), n)
	out := make([]string, 0, n)
	for _, s := range sids {
		out = append(out, s.String())
	}
	return out, nil
}

// LookupSID returns the SID of a named account (DOMAIN\user, user).
func LookupSID(account string) (string, error) {
	sid, _, _, err := windows.LookupSID("", account)
	if err != nil {
		return "", fmt.Errorf("look up account %q: %w", account, err)
	}
	return sid.String(), nil
}

var (
	procLsaAddAccountRights    = advapi32.NewProc("LsaAddAccountRights")
	procLsaRemoveAccountRights = advapi32.NewProc("LsaRemoveAccountRights")
)

const policyCreateAccount = 0x00000010

// GrantRight gives the account with SID sid (S-1-...) the user right (for
// example ServiceLogonRight). Granting a right already held is a no-op.
func GrantRight(sid, right string) error {
	return changeRight(procLsaAddAccountRights, "LsaAddAccountRights", sid, right)
}

// RevokeRight takes the user right from the account with SID sid.
func RevokeRight(sid, right string) error {
	return changeRight(procLsaRemoveAccountRights, "LsaRemoveAccountRights", sid, right)
}

func changeRight(proc *windows.LazyProc, call, sid, right string) error {
	if err := proc.Find(); err != nil {
		return fmt.Errorf("lsa: %w", err)
	}
	s, err := windows.StringToSid(sid)
	if err != nil {
		return fmt.Errorf("sid %q: %w", sid, err)
	}
	var attrs lsaObjectAttributes
	attrs.Length = uint32(unsafe.Sizeof(attrs))
	var policy windows.Handle
	r, _, _ := procLsaOpenPolicy.Call(0, uintptr(unsafe.Pointer(&attrs)), policyLookupNames|policyCreateAccount, uintptr(unsafe.Pointer(&policy)))
	if r != 0 {
		return ntErr("LsaOpenPolicy", r)
	}
	defer procLsaClose.Call(uintptr(policy))
	name, err := windows.NewNTUnicodeString(right)
	if err != nil {
		return fmt.Errorf("right %q: %w", right, err)
	}
	if proc == procLsaRemoveAccountRights {
		r, _, _ = proc.Call(uintptr(policy), uintptr(unsafe.Pointer(s)), 0, uintptr(unsafe.Pointer(name)), 1)
	} else {
		r, _, _ = proc.Call(uintptr(policy), uintptr(unsafe.Pointer(s)), uintptr(unsafe.Pointer(name)), 1)
	}
	if r != 0 {
		return ntErr(call+" "+right, r)
	}
	return nil
}
