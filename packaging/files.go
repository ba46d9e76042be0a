package packaging

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/shirhq/shir/internal/atomicfile"
	"github.com/shirhq/shir/internal/nodeconfig"
	"github.com/shirhq/shir/templates"
)

// The Linux package layout (DESIGN.md, "Layout on a node").
const (
	BinDir     = "/opt/shir"
	Binary     = BinDir + "/shir"
	ConfigFile = "/etc/shir/shir.toml"
	StateDir   = "/var/lib/shir"
	LogDir     = "/var/log/shir"
	User       = "shir"
	UnitDir    = "/usr/lib/systemd/system"
)

// FilesDir is where the rendered files live in the repository, relative to
// its root (goreleaser.yaml's nfpms take them from there).
const FilesDir = "packaging/files"

// Unit is the templates.Unit of the packaged services.
var Unit = templates.Unit{Binary: Binary, ConfigFile: ConfigFile, User: User, StateDir: StateDir, LogDir: LogDir}

// RenderFiles returns the generated files of the Linux packages by name:
// the two systemd units and the default shir.toml. Everything else in
// FilesDir is written by hand.
func RenderFiles() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, name := range []string{templates.HostUnit, templates.UpdaterUnit} {
		b, err := templates.RenderUnit(name, Unit)
		if err != nil {
			return nil, err
		}
		out[name] = b
	}
	b, err := nodeconfig.Encode(nodeconfig.Config{StateDir: StateDir})
	if err != nil {
		return nil, fmt.Errorf("encode shir.toml: %w", err)
	}
	out["shir.toml"] = b
	return out, nil
}

// WriteFiles writes RenderFiles into dir (each file atomically) and returns
// the names of the files whose content changed.
func WriteFiles(dir string) ([]string, error) {
	files, err := RenderFiles()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	var changed []string
	for name, b := range files {
		p := filepath.Join(dir, name)
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, b) {
			continue
		}
		if err := atomicfile.Write(p, b, 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", p, err)
		}
		changed = append(changed, name)
	}
	sort.Strings(changed)
	return changed, nil
}
