package winsvc

import (
	"errors"
	"runtime"
	"testing"
)

func TestExists(t *testing.T) {
	ok, err := Exists("shir-test-no-such-service")
	if runtime.GOOS != "windows" {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("Exists on %s: %v", runtime.GOOS, err)
		}
		return
	}
	if ok || err != nil {
		t.Errorf("Exists(missing) = %v, %v", ok, err)
	}
	// RpcSs exists on every Windows and in every Wine prefix.
	if ok, err := Exists("RpcSs"); !ok || err != nil {
		t.Errorf("Exists(RpcSs) = %v, %v", ok, err)
	}
}
