package cli

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/arm/handler"
)

// provisionInstaller runs the install pipeline of package provision for the
// VM-extension handler. Until issue #7 lands it reports not implemented, so
// that enable ends in an error status that says so.
var provisionInstaller handler.Installer = handler.InstallerFunc(func(context.Context, map[string]string, func(string)) error {
	return notImplemented(7)
})

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
