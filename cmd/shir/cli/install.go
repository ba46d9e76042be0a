package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/provision"
)

func (a *app) installCommand(name, short string, issue int) *cobra.Command {
	var props strings.Builder
	for _, p := range provision.Properties {
		fmt.Fprintf(&props, "  %-16s %s\n", p.Name, p.Help)
	}
	c := &cobra.Command{
		Use:                name + " [/q] [/l*v FILE] [NAME=VALUE ...] [flags]",
		Short:              short,
		DisableFlagParsing: true,
		Long: short + `.

Arguments may be given msiexec style or as flags, mixed:
  /q, /qn, /quiet, /passive   no prompts (shir never prompts anyway)
  /l*v FILE, /log FILE        write a verbose log to FILE
  /norestart                  never restart the machine
  NAME=VALUE                  a property (names are case-insensitive)
  --name VALUE                the same property as a flag (--node-name, --no-firewall, ...)
  --dry-run                   print the plan, change nothing
  --root DIR --no-service     install under DIR as a plain user, without OS services
  --purge                     (uninstall) also remove state: node identity and credentials

Properties (unknown ones are an error):
` + props.String() + `
Examples:
  shir install /q AUTHKEY=@key.txt NODENAME=node1 NOFIREWALL=1
  shir install --authkey - --node-name node1 < key.txt
` + exitStatusHelp,
		RunE: func(cmd *cobra.Command, args []string) error {
			a.msiStyle = looksMSIStyle(args)
			inv, err := provision.ParseArgs(args)
			if err != nil {
				return err
			}
			if inv.Help {
				return cmd.Help()
			}
			if inv.Purge && name != "uninstall" {
				return usageError("--purge is only for uninstall")
			}
			return notImplemented(issue)
		},
	}
	return c
}

// looksMSIStyle reports whether args use msiexec forms, so that even a usage
// error exits with a Windows Installer code.

func looksMSIStyle(args []string) bool {
	for _, s := range args {
		if strings.HasPrefix(s, "/") || (!strings.HasPrefix(s, "-") && strings.Contains(s, "=")) {
			return true
		}
	}
	return false
}

func (a *app) dmgcmdCommand() *cobra.Command {
	return &cobra.Command{
		Use:                "dmgcmd -ACTION [args]",
		Short:              "Node actions with the original dmgcmd's argument forms (-rn KEY node1, -gbf f.bak pw, ...)",
		DisableFlagParsing: true,
		Long:               "The dmgcmd tool. shir also runs as dmgcmd when its file is named dmgcmd or dmgcmd.exe.\n\n" + provision.DmgUsage(),
		RunE: func(cmd *cobra.Command, args []string) error {
			dc, err := provision.ParseDmgcmd(args)
			if err != nil {
				return err
			}
			if dc.Help {
				_, err := fmt.Fprint(a.stdout, provision.DmgUsage())
				return err
			}
			return fmt.Errorf("action %s: %w", dc, notImplemented(7))
		},
	}
}
