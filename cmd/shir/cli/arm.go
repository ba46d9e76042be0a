package cli

import (
	"github.com/spf13/cobra"
)

func (a *app) armCommand() *cobra.Command {
	return group("arm", "Azure: ARM templates, lint, VM-extension handler",
		stub("template", "Write azuredeploy.json and azuredeploy.parameters.json", 10, noArgs, func(c *cobra.Command) {
			c.Flags().Int("nodes", 2, "number of VMs/nodes (1 to 4)")
			c.Flags().String("os", "windows", "windows or linux")
			c.Flags().String("handler", "cse", "cse (Custom Script Extension) or shir (shir's own handler)")
			c.Flags().String("existing-vnet", "", "resource ID of an existing virtual network")
			c.Flags().String("out", ".", "output directory")
		}),
		stub("lint FILE", "Validate a template offline: schema and arm-ttk rules", 10, exactArgs("FILE"), nil),
		stub("handler OPERATION", "Run as an Azure VM-extension handler (install, enable, disable, uninstall, update)", 10, exactArgs("OPERATION"), nil),
	)
}
