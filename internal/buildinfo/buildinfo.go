// Package buildinfo holds the version, commit and build date of this binary.
//
// Release builds set them with the linker:
//
//	go build -ldflags "-X github.com/shirhq/shir/internal/buildinfo.Version=1.2.3 \
//	  -X github.com/shirhq/shir/internal/buildinfo.Commit=abc123 \
//	  -X github.com/shirhq/shir/internal/buildinfo.Date=2026-11-25T00:00:00Z"
//
// A plain `go build` or `go run` falls back to what the Go toolchain recorded
// (the VCS revision and time), and to version "0.0.0-dev".
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by -ldflags -X at release time.
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// Info describes this build.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"goVersion"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
}

// Get returns the build information, filling what the linker did not set from
// the toolchain's build info.
func Get() Info {
	info := Info{Version: Version, Commit: Commit, Date: Date,
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info = fill(info, bi)
	}
	if info.Version == "" {
		info.Version = "0.0.0-dev"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	if info.Date == "" {
		info.Date = "unknown"
	}
	return info
}

// fill completes info from the toolchain's build settings.
func fill(info Info, bi *debug.BuildInfo) Info {
	if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		info.Version = bi.Main.Version
	}
	dirty, fromVCS := false, false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if info.Commit == "" {
				info.Commit, fromVCS = s.Value, true
			}
		case "vcs.time":
			if info.Date == "" {
				info.Date = s.Value
			}
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && fromVCS {
		info.Commit += "-dirty"
	}
	return info
}

// String is the one-line form printed by `shir version --short`.
func (i Info) String() string {
	return fmt.Sprintf("shir %s (commit %s, built %s, %s %s/%s)",
		i.Version, i.Commit, i.Date, i.GoVersion, i.OS, i.Arch)
}
