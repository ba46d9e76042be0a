package provision

import (
	"os"
	"path"
	"path/filepath"
	"runtime"
)

// Paths is where an installation lives. DefaultPaths gives the layout of
// DESIGN.md; RootPaths puts everything under one directory (--root DIR), which
// tests and the quickstart use.
type Paths struct {
	BinDir     string // the shir binary (and the dmgcmd link)
	ConfigFile string // shir.toml
	StateDir   string // identity, credentials, journal (0700)
	LogDir     string
}

// Binary is the installed shir executable.
func (p Paths) Binary(goos string) string {
	if goos == "windows" {
		return filepath.Join(p.BinDir, "shir.exe")
	}
	if runtime.GOOS == "windows" {
		// Describing a Linux layout from Windows (plans, tests): keep slashes.
		return path.Join(p.BinDir, "shir")
	}
	return filepath.Join(p.BinDir, "shir")
}

// JournalFile is the install journal.
func (p Paths) JournalFile() string { return filepath.Join(p.StateDir, "install.json") }

// DefaultPaths returns the system layout for goos.
func DefaultPaths(goos string) Paths {
	if goos == "windows" {
		pf := envOr("ProgramFiles", `C:\Program Files`)
		pd := envOr("ProgramData", `C:\ProgramData`)
		return Paths{
			BinDir:     filepath.Join(pf, "shir"),
			ConfigFile: filepath.Join(pd, "shir", "shir.toml"),
			StateDir:   filepath.Join(pd, "shir", "state"),
			LogDir:     filepath.Join(pd, "shir", "logs"),
		}
	}
	return Paths{
		BinDir:     "/opt/shir",
		ConfigFile: "/etc/shir/shir.toml",
		StateDir:   "/var/lib/shir",
		LogDir:     "/var/log/shir",
	}
}

// RootPaths puts the layout of goos under root (--root DIR): on Linux
// DIR/opt/shir, DIR/etc/shir/shir.toml, DIR/var/lib/shir, DIR/var/log/shir;
// on Windows DIR/Program Files/shir and DIR/ProgramData/shir/... . The agent
// (internal/nodeconfig.DefaultPaths) finds the config at the same place.
func RootPaths(goos, root string) Paths {
	if goos == "windows" {
		pd := filepath.Join(root, "ProgramData", "shir")
		return Paths{
			BinDir:     filepath.Join(root, "Program Files", "shir"),
			ConfigFile: filepath.Join(pd, "shir.toml"),
			StateDir:   filepath.Join(pd, "state"),
			LogDir:     filepath.Join(pd, "logs"),
		}
	}
	return Paths{
		BinDir:     filepath.Join(root, "opt", "shir"),
		ConfigFile: filepath.Join(root, "etc", "shir", "shir.toml"),
		StateDir:   filepath.Join(root, "var", "lib", "shir"),
		LogDir:     filepath.Join(root, "var", "log", "shir"),
	}
}

// WithProps applies INSTALLDIR and DATADIR.
func (p Paths) WithProps(props PropertySet) Paths {
	if d := props["INSTALLDIR"]; d != "" {
		p.BinDir = d
	}
	if d := props["DATADIR"]; d != "" {
		p.StateDir = d
	}
	return p
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
