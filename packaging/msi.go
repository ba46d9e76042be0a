package packaging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/shirhq/shir/internal/atomicfile"
	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/templates"
)

// MSIOptions describe one MSI build.
type MSIOptions struct {
	Exe        string   // shir.exe for windows/amd64
	Version    string   // release version (MSI ProductVersion keeps MAJOR.MINOR.PATCH)
	Out        string   // the .msi to write
	Properties []string // installer property names (provision.PropertyNames)
	Secret     []string // the secret ones, hidden from the MSI log
	Wixl       string   // wixl program; default "wixl" from PATH
	Log        *slog.Logger
}

// BuildMSI renders the WiX source and builds the MSI with `wixl -a x64` in a
// temporary directory; Out is written only when the build succeeded.
func BuildMSI(ctx context.Context, o MSIOptions) error {
	log := orDiscard(o.Log)
	switch {
	case o.Exe == "":
		return fmt.Errorf("%w: msi: the shir.exe to package is required", exitcode.ErrUsage)
	case o.Out == "":
		return fmt.Errorf("%w: msi: the output file is required", exitcode.ErrUsage)
	case !strings.EqualFold(filepath.Ext(o.Out), ".msi"):
		return fmt.Errorf("%w: msi: output %q must end in .msi", exitcode.ErrUsage, o.Out)
	}
	if err := checkPE(o.Exe); err != nil {
		return err
	}
	wxs, err := templates.RenderWXS(templates.MSI{Version: o.Version, Exe: "shir.exe", Properties: o.Properties, Secret: o.Secret})
	if err != nil {
		return fmt.Errorf("%w: msi: %w", exitcode.ErrUsage, err)
	}
	wixl, err := tool("wixl", o.Wixl, "wixl")
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(o.Out), ".msi-build-*")
	if err != nil {
		return fmt.Errorf("msi: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := copyFile(o.Exe, filepath.Join(tmp, "shir.exe")); err != nil {
		return fmt.Errorf("msi: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "shir.wxs"), wxs, 0o644); err != nil {
		return fmt.Errorf("msi: %w", err)
	}
	if _, err := run(ctx, log, tmp, wixl, "-a", "x64", "-o", "shir.msi", "shir.wxs"); err != nil {
		return fmt.Errorf("msi: %w", err)
	}
	// wixl reports some errors only on stderr (exit 0) and writes no file.
	if _, err := os.Stat(filepath.Join(tmp, "shir.msi")); err != nil {
		return fmt.Errorf("msi: wixl wrote no MSI: %w", err)
	}
	if err := os.Rename(filepath.Join(tmp, "shir.msi"), o.Out); err != nil {
		return fmt.Errorf("msi: %w", err)
	}
	log.Info("built msi", "out", o.Out, "version", o.Version)
	return nil
}

// checkPE refuses anything that is not a Windows executable (an "MZ" file).
func checkPE(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: msi: %w", exitcode.ErrUsage, err)
	}
	defer f.Close()
	var magic [2]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || string(magic[:]) != "MZ" {
		return fmt.Errorf("%w: msi: %s is not a Windows executable (build it with GOOS=windows GOARCH=amd64)", exitcode.ErrUsage, path)
	}
	return nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return atomicfile.Write(dst, b, 0o755)
}
