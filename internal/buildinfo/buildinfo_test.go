package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFillFromToolchain(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"},
		{Key: "vcs.time", Value: "2026-11-25T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	got := fill(Info{}, bi)
	if got.Version != "" || got.Commit != "abc123-dirty" || got.Date != "2026-11-25T10:00:00Z" {
		t.Errorf("fill = %+v", got)
	}
	// Linker-set values win.
	got = fill(Info{Version: "1.2.3", Commit: "def", Date: "d"}, bi)
	if got.Version != "1.2.3" || got.Commit != "def" || got.Date != "d" {
		t.Errorf("fill with ldflags = %+v", got)
	}
}

func TestGet(t *testing.T) {
	old := Version
	Version = "9.8.7"
	t.Cleanup(func() { Version = old })
	i := Get()
	if i.Version != "9.8.7" || i.OS != runtime.GOOS || i.Arch != runtime.GOARCH || i.GoVersion != runtime.Version() {
		t.Errorf("Get = %+v", i)
	}
	if s := i.String(); !strings.HasPrefix(s, "shir 9.8.7 (commit ") {
		t.Errorf("String = %q", s)
	}
}
