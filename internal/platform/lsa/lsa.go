// Package lsa reads user rights ("Log on as a service") from the Local
// Security Authority. x/sys/windows has no LSA wrappers, so lsa_windows.go
// binds the three advapi32 calls it needs (LsaOpenPolicy with
// POLICY_LOOKUP_NAMES|POLICY_VIEW_LOCAL_INFORMATION,
// LsaEnumerateAccountsWithUserRight, LsaClose/LsaFreeMemory). Rights are
// listed per right, not per account, because LsaEnumerateAccountRights does
// not show rights held through groups such as NT SERVICE\ALL SERVICES.
// ServiceSID is pure and portable.
package lsa

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

// User rights.
const (
	ServiceLogonRight     = "SeServiceLogonRight"
	DenyServiceLogonRight = "SeDenyServiceLogonRight"
)

// AllServicesSID is NT SERVICE\ALL SERVICES: every service process.
const AllServicesSID = "S-1-5-80-0"

// ServiceSID returns the SID of the virtual account NT SERVICE\<service>:
// S-1-5-80- followed by the SHA-1 of the upper-cased UTF-16LE service name
// as five little-endian 32-bit sub-authorities. It is computed, so it is
// known before the service exists.
func ServiceSID(service string) string {
	u := utf16.Encode([]rune(strings.ToUpper(service)))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	h := sha1.Sum(b)
	var sb strings.Builder
	sb.WriteString("S-1-5-80")
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&sb, "-%d", binary.LittleEndian.Uint32(h[4*i:]))
	}
	return sb.String()
}

// VirtualService returns the service name of an `NT SERVICE\name` account,
// or false for any other account.
func VirtualService(account string) (string, bool) {
	dom, name, ok := strings.Cut(account, `\`)
	if !ok || !strings.EqualFold(dom, "NT SERVICE") || name == "" {
		return "", false
	}
	return name, true
}
