package power

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	powrprof                  = windows.NewLazySystemDLL("powrprof.dll")
	procPowerGetActiveScheme  = powrprof.NewProc("PowerGetActiveScheme")
	procPowerReadACValueIndex = powrprof.NewProc("PowerReadACValueIndex")
)

// GUIDs of the sleep subgroup and its settings (winnt.h).
var (
	subSleep      = windows.GUID{Data1: 0x238c9fa8, Data2: 0x0aad, Data3: 0x41ed, Data4: [8]byte{0x83, 0xf4, 0x97, 0xbe, 0x24, 0x2c, 0x8f, 0x20}}
	standbyIdle   = windows.GUID{Data1: 0x29f6c1db, Data2: 0x86da, Data3: 0x48c5, Data4: [8]byte{0x9f, 0xdb, 0xf2, 0xb6, 0x7b, 0x1f, 0x44, 0xda}}
	hibernateIdle = windows.GUID{Data1: 0x9d7815a6, Data2: 0x7ee4, Data3: 0x497e, Data4: [8]byte{0x88, 0x88, 0x51, 0x5a, 0x05, 0xf0, 0x23, 0x64}}
)

// ActiveScheme reads the AC sleep and hibernate timeouts of the active scheme.
func ActiveScheme() (Settings, error) {
	if err := procPowerGetActiveScheme.Find(); err != nil {
		return Settings{}, fmt.Errorf("power api: %w", err)
	}
	var scheme *windows.GUID
	r, _, _ := procPowerGetActiveScheme.Call(0, uintptr(unsafe.Pointer(&scheme)))
	if r != 0 {
		return Settings{}, fmt.Errorf("PowerGetActiveScheme: %w", windows.Errno(r))
	}
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(scheme)))
	var s Settings
	for _, v := range []struct {
		guid *windows.GUID
		out  *uint32
		name string
	}{{&standbyIdle, &s.StandbyAC, "STANDBYIDLE"}, {&hibernateIdle, &s.HibernateAC, "HIBERNATEIDLE"}} {
		r, _, _ := procPowerReadACValueIndex.Call(0, uintptr(unsafe.Pointer(scheme)),
			uintptr(unsafe.Pointer(&subSleep)), uintptr(unsafe.Pointer(v.guid)), uintptr(unsafe.Pointer(v.out)))
		if r != 0 {
			return Settings{}, fmt.Errorf("PowerReadACValueIndex %s: %w", v.name, windows.Errno(r))
		}
	}
	return s, nil
}
