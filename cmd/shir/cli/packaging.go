package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/packaging"
	"github.com/shirhq/shir/provision"
)

// packagingCommand is the publisher's `shir packaging` group: only what
// goreleaser and nfpm cannot do (docs/RELEASING.md).
func (a *app) packagingCommand() *cobra.Command {
	render := &cobra.Command{
		Use:   "render-files",
		Short: "Write the generated files of the .deb/.rpm (systemd units, shir.toml) into --out",
		Long: `Write the systemd units (rendered from templates, as shir install renders
them) and the default shir.toml of the Linux packages into --out
(default packaging/files). A test keeps the committed copies equal.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, _ := cmd.Flags().GetString("out")
			changed, err := packaging.WriteFiles(out)
			if err != nil {
				return err
			}
			if len(changed) == 0 {
				fmt.Fprintf(a.stdout, "%s: up to date\n", out)
				return nil
			}
			fmt.Fprintf(a.stdout, "%s: wrote %s\n", out, strings.Join(changed, ", "))
			return nil
		},
	}
	render.Flags().String("out", packaging.FilesDir, "directory to write")

	msi := &cobra.Command{
		Use:   "msi",
		Short: "Build the 64-bit MSI from shir.exe with wixl",
		Long: `Build the MSI (templates.RenderWXS, wixl -a x64). Installing it runs
shir install /q with the msiexec properties (AUTHKEY, NODENAME, NOFIREWALL,
PORT, INSTALLDIR, ...); msiexec /x runs shir uninstall /q (PURGE=1: --purge).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			exe, _ := f.GetString("exe")
			version, _ := f.GetString("version")
			out, _ := f.GetString("out")
			if exe == "" || version == "" || out == "" {
				return usageError("--exe, --version and --out are required")
			}
			var secret []string
			for _, p := range provision.Properties {
				if p.Secret {
					secret = append(secret, p.Name)
				}
			}
			err := packaging.BuildMSI(cmd.Context(), packaging.MSIOptions{Exe: exe, Version: version, Out: out,
				Properties: provision.PropertyNames(), Secret: secret})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s\n", out)
			return nil
		},
	}
	msi.Flags().String("exe", "", "shir.exe (windows/amd64) to package")
	msi.Flags().String("version", "", "release version (MSI version: MAJOR.MINOR.PATCH)")
	msi.Flags().String("out", "", "MSI file to write")

	sign := &cobra.Command{
		Use:   "sign",
		Short: "Authenticode-sign an .exe or .msi with osslsigncode (SHA-256)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			s := func(n string) string { v, _ := f.GetString(n); return v }
			if s("in") == "" || s("cert") == "" || s("key") == "" {
				return usageError("--in, --cert and --key are required")
			}
			o := packaging.SignOptions{In: s("in"), Out: s("out"), Cert: s("cert"), Key: s("key"),
				PassFile: s("pass-file"), Timestamp: s("timestamp"), URL: s("url")}
			if err := packaging.Sign(cmd.Context(), o); err != nil {
				return err
			}
			if o.Out == "" {
				o.Out = o.In
			}
			fmt.Fprintf(a.stdout, "signed %s\n", o.Out)
			return nil
		},
	}
	sf := sign.Flags()
	sf.String("in", "", "file to sign")
	sf.String("out", "", "signed file to write (default: replace --in)")
	sf.String("cert", "", "PEM certificate chain")
	sf.String("key", "", "PEM private key")
	sf.String("pass-file", "", "file holding the key password")
	sf.String("timestamp", "", "RFC 3161 timestamp server URL")
	sf.String("url", "", "publisher URL shown by Windows")

	verify := &cobra.Command{
		Use:   "verify FILE...",
		Short: "Verify Authenticode signatures (osslsigncode verify)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("%s needs at least one file", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ca, _ := cmd.Flags().GetString("ca")
			for _, file := range args {
				if err := packaging.Verify(cmd.Context(), file, ca, ""); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "ok: %s\n", file)
			}
			return nil
		},
	}
	verify.Flags().String("ca", "", "PEM file with the trusted CA certificates")

	g := group("packaging", "Publisher tools: package files, MSI, Authenticode (see docs/RELEASING.md)", render, msi, sign, verify)
	g.Hidden = true
	return g
}
