package osinfo

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/windows"
)

// Windows returns the version of the running Windows.
func Windows() (WindowsVersion, error) {
	v := windows.RtlGetVersion()
	if v == nil || v.MajorVersion == 0 {
		return WindowsVersion{}, fmt.Errorf("RtlGetVersion returned no version")
	}
	return WindowsVersion{Major: v.MajorVersion, Minor: v.MinorVersion, Build: v.BuildNumber, ProductType: v.ProductType}, nil
}

// IMAGE_FILE_MACHINE values of IsWow64Process2.
const (
	machineI386  = 0x014c
	machineAMD64 = 0x8664
	machineARM64 = 0xaa64
	machineARMNT = 0x01c4
)

// Machine returns the native architecture of Windows: "amd64", "arm64",
// "386" or "arm". A 64-bit binary runs only on a 64-bit Windows, so only a
// 32-bit binary asks IsWow64Process2.
func Machine() (string, error) {
	if runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" {
		return runtime.GOARCH, nil
	}
	var process, native uint16
	if err := windows.IsWow64Process2(windows.CurrentProcess(), &process, &native); err != nil {
		return "", fmt.Errorf("IsWow64Process2: %w", err)
	}
	switch native {
	case machineAMD64:
		return "amd64", nil
	case machineARM64:
		return "arm64", nil
	case machineI386:
		return "386", nil
	case machineARMNT:
		return "arm", nil
	}
	return "", fmt.Errorf("IsWow64Process2: unknown native machine %#x", native)
}
