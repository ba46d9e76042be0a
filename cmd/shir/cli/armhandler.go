package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/arm/handler"
	"github.com/shirhq/shir/provision"
)

// provisionInstaller runs the install pipeline of package provision for the
// VM-extension handler with the settings' properties; every progress line
// goes to the status file. $SHIR_ROOT makes it a sandbox install (--root
// DIR --no-service), which tests use.
var provisionInstaller handler.Installer = handler.InstallerFunc(func(ctx context.Context, props map[string]string, progress func(string)) error {
	ps := provision.PropertySet{}
	for k, v := range props {
		if err := ps.Set(k, v); err != nil {
			return err
		}
	}
	root := os.Getenv("SHIR_ROOT")
	inv := provision.Invocation{Quiet: true, Root: root, NoService: root != "", Props: ps}
	w := &lineWriter{emit: progress}
	in, err := provision.Open(provision.Options{Inv: inv, Out: w})
	if err != nil {
		return err
	}
	defer in.Close()
	err = in.Install(ctx)
	w.flush()
	return err
})

// lineWriter turns written text into progress lines.
type lineWriter struct {
	emit func(string)
	buf  []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if line := strings.TrimSpace(string(w.buf[:i])); line != "" {
			w.emit(line)
		}
		w.buf = w.buf[i+1:]
	}
}

func (w *lineWriter) flush() {
	if line := strings.TrimSpace(string(w.buf)); line != "" {
		w.emit(line)
	}
	w.buf = nil
}

func (a *app) armHandlerCommand() *cobra.Command {
	var root, certDir string
	c := group("handler", "Run as an Azure VM-extension handler (install, enable, disable, uninstall, update)")
	c.Long = `Run one command of the Azure VM-extension handler contract, as named in the
extension's HandlerManifest.json (bin/shir arm handler enable, ...).

The handler reads HandlerEnvironment.json (next to --root or one folder up),
the settings of the current sequence number (ConfigSequenceNumber, else the
highest config/<N>.settings), decrypts protectedSettings with the VM
certificate <THUMBPRINT>.crt/.prv, and on enable installs and registers this
machine as a node with those settings:
  public:    {"nodeName": "vm-1", "properties": {"PORT": "8060"}}
  protected: {"authKey": "SHIR@...", "properties": {...}}
It writes status/<N>.status for the agent (success, or error with the reason;
never a secret) and keeps replay protection in mrseq.
` + exitStatusHelp
	for _, op := range handler.Ops {
		c.AddCommand(&cobra.Command{
			Use:   op,
			Short: "The extension's " + op + " command",
			Args:  noArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				h, err := handler.New(handler.Options{
					Root:      root,
					CertDir:   certDir,
					Installer: provisionInstaller,
					Logger:    slog.New(slog.NewTextHandler(a.stderr, nil)),
				})
				if err != nil {
					return err
				}
				return h.Run(cmd.Context(), op)
			},
		})
	}
	c.PersistentFlags().StringVar(&root, "root", "", "handler root holding HandlerEnvironment.json (default: the folder of the shir executable)")
	c.PersistentFlags().StringVar(&certDir, "cert-dir", "", "folder with <THUMBPRINT>.crt and .prv (default: configFolder/../.., the agent's folder)")
	return c
}
