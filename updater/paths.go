package updater

import (
	"os"
	"path/filepath"
	"runtime"
)

// Paths are where the updater finds the binary and its state on a node
// (DESIGN.md "Layout on a node").
type Paths struct {
	Binary   string // /opt/shir/shir, %ProgramFiles%\shir\shir.exe
	StateDir string // /var/lib/shir, %ProgramData%\shir\state
}

// SandboxPaths is the layout under root for `--root DIR` (tests, quickstart,
// plain-user installs): the system layout with root in front.
func SandboxPaths(root string) Paths {
	return layout(runtime.GOOS, root, func(string) string { return "" })
}

// SystemPaths is the layout of a machine-wide install.
func SystemPaths() Paths {
	return layout(runtime.GOOS, "", os.Getenv)
}

func layout(goos, root string, env func(string) string) Paths {
	if goos == "windows" {
		pf, pd := env("ProgramFiles"), env("ProgramData")
		if pf == "" {
			pf = `C:\Program Files`
		}
		if pd == "" {
			pd = `C:\ProgramData`
		}
		if root != "" {
			pf, pd = filepath.Join(root, "Program Files"), filepath.Join(root, "ProgramData")
		}
		return Paths{Binary: filepath.Join(pf, "shir", "shir.exe"), StateDir: filepath.Join(pd, "shir", "state")}
	}
	return Paths{
		Binary:   filepath.Join(root, "/opt/shir/shir"),
		StateDir: filepath.Join(root, "/var/lib/shir"),
	}
}
