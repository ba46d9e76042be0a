package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/arm"
)

func (a *app) armCommand() *cobra.Command {
	return group("arm", "Azure: ARM templates, lint, VM-extension handler",
		a.armTemplateCommand(),
		a.armLintCommand(),
		a.armHandlerCommand(),
	)
}

func (a *app) armTemplateCommand() *cobra.Command {
	var o arm.TemplateOptions
	var out string
	c := &cobra.Command{
		Use:   "template",
		Short: "Write azuredeploy.json and azuredeploy.parameters.json",
		Long: `Write an ARM template for 1 to 4 Azure VMs that install shir and register as
nodes of one runtime, and its parameters file.

The VMs sit in an availability set (or availability zones with --zones), in a
new virtual network or an existing one (--existing-vnet), with no public IP
and no inbound port open to the Internet. Each VM runs
  shir install /q AUTHKEY=... NODENAME=<vm name>
under the Custom Script Extension (--handler cse), or gets the key through
shir's own VM-extension handler (--handler shir). The authentication key is a
secure parameter that reaches the VMs only in protectedSettings; the
parameters file never holds a secret (use --key-vault to reference one).
Nodes register one after the other. Use 2 or more nodes for high availability.
` + exitStatusHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tmpl, params, warnings, err := arm.RenderTemplate(o)
			if err != nil {
				return err
			}
			for _, w := range warnings {
				fmt.Fprintf(a.stderr, "warning: %s\n", w)
			}
			if err := arm.WriteTemplate(out, tmpl, params); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s\nwrote %s\n", filepath.Join(out, arm.TemplateFile), filepath.Join(out, arm.ParametersFile))
			return nil
		},
	}
	f := c.Flags()
	f.IntVar(&o.Nodes, "nodes", 2, "number of VMs/nodes (1 to 4)")
	f.StringVar(&o.OS, "os", "windows", "windows or linux")
	f.StringVar(&o.Handler, "handler", "cse", "cse (Custom Script Extension) or shir (shir's own handler)")
	f.BoolVar(&o.Zones, "zones", false, "spread the VMs over availability zones instead of an availability set")
	f.StringVar(&o.ExistingVnet, "existing-vnet", "", "resource ID of an existing virtual network (optionally .../subnets/NAME; default subnet: default)")
	f.StringVar(&o.AdminUsername, "admin-username", "shiradmin", "administrator user of the VMs")
	f.StringVar(&o.KeyVaultID, "key-vault", "", "resource ID of a Key Vault holding the secrets shir-auth-key and shir-admin-password")
	f.StringVar(&out, "out", ".", "output directory")
	return c
}

func (a *app) armLintCommand() *cobra.Command {
	var asJSON bool
	var schemaDir string
	c := &cobra.Command{
		Use:   "lint FILE...",
		Short: "Validate a template offline: schema and arm-ttk rules",
		Long: `Validate ARM templates and parameters files offline: the deployment-template
JSON schema (2019-04-01, embedded; provider schemas are not shipped, so
resources get the generic checks) and the arm-ttk rules (secure parameters,
no secrets in outputs or public settings, no hard-coded locations or cloud
URLs, recent apiVersions, parameters and variables referenced, ...). Given a
template and its parameters file together, it also checks that the file
passes only declared parameters. JSON with comments is accepted.

Exit status 1 when any finding is reported.
` + exitStatusHelp,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("%s needs at least one FILE", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opt := arm.LintOptions{}
			if schemaDir != "" {
				v, err := arm.NewValidator(schemaDir)
				if err != nil {
					return usageError("--schema-dir: %v", err)
				}
				opt.Validator = v
			}
			fs, err := arm.LintFiles(args, opt)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if fs == nil {
					fs = []arm.Finding{}
				}
				if err := enc.Encode(fs); err != nil {
					return err
				}
			} else {
				for _, f := range fs {
					fmt.Fprintln(a.stdout, f.String())
				}
			}
			if len(fs) > 0 {
				return fmt.Errorf("%w: %d finding(s) in %d file(s)", arm.ErrLintFailed, len(fs), len(args))
			}
			if !asJSON {
				fmt.Fprintf(a.stdout, "ok: %d file(s), no findings\n", len(args))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print findings as JSON")
	c.Flags().StringVar(&schemaDir, "schema-dir", "", "folder laid out like schema.management.azure.com/schemas to use instead of the embedded schemas")
	return c
}
