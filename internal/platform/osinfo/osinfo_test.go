package osinfo

import (
	"errors"
	"runtime"
	"testing"
)

func TestMachine(t *testing.T) {
	m, err := Machine()
	switch runtime.GOOS {
	case "linux":
		want := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
		if err != nil || (want != "" && m != want) {
			t.Errorf("Machine() = %q, %v; want %q", m, err, want)
		}
	case "windows":
		if err != nil || m != runtime.GOARCH {
			t.Errorf("Machine() = %q, %v; want %q", m, err, runtime.GOARCH)
		}
	}
}

func TestWindows(t *testing.T) {
	v, err := Windows()
	if runtime.GOOS != "windows" {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("Windows() on %s: %v, want ErrUnsupported", runtime.GOOS, err)
		}
		return
	}
	// The Wine prefix of ../shared/wine reports Windows 10 build 18362.
	if err != nil || v.Major < 6 || v.Build == 0 || v.ProductType < Workstation || v.ProductType > Server {
		t.Errorf("Windows() = %+v, %v", v, err)
	}
	t.Logf("Windows() = %+v", v)
}
