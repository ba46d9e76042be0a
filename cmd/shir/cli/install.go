package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/internal/buildinfo"
	"github.com/shirhq/shir/provision"
)

func (a *app) installCommand(name, short string) *cobra.Command {
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
			inv, err := provision.ParseArgs(args)
			if err != nil {
				a.msiStyle = looksMSIStyle(args)
				return err
			}
			a.msiStyle = inv.MSIStyle
			if inv.Help {
				return cmd.Help()
			}
			if inv.Purge && name != "uninstall" {
				return usageError("--purge is only for uninstall")
			}
			return a.runInstaller(cmd.Context(), name, inv)
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
			// A sandbox node (install --root DIR --no-service) is addressed
			// with --root DIR before the action, or $SHIR_ROOT.
			root := os.Getenv("SHIR_ROOT")
			if len(args) >= 2 && args[0] == "--root" {
				root, args = args[1], args[2:]
			}
			dc, err := provision.ParseDmgcmd(args)
			if err != nil {
				return err
			}
			if dc.Help {
				_, err := fmt.Fprint(a.stdout, provision.DmgUsage())
				return err
			}
			inv := provision.Invocation{Root: root, NoService: root != "", Props: provision.PropertySet{}}
			in, err := provision.Open(provision.Options{Inv: inv, Out: a.stdout, Stdin: a.stdin})
			if err != nil {
				return err
			}
			defer in.Close()
			if err := in.Dmgcmd(cmd.Context(), dc); err != nil {
				return fmt.Errorf("%s: %w", dc, err)
			}
			return nil
		},
	}
}

// runInstaller runs install, uninstall or repair through the provision
// pipeline, with the optional /l*v log file.
func (a *app) runInstaller(ctx context.Context, name string, inv provision.Invocation) error {
	out := a.stdout
	logger := slog.New(slog.DiscardHandler)
	if inv.LogFile != "" {
		f, err := os.OpenFile(inv.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("open log file: %w", err)
		}
		defer f.Close()
		level := slog.LevelInfo
		if inv.LogVerbose {
			level = slog.LevelDebug
		}
		logger = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: level}))
		out = io.MultiWriter(out, f)
		logger.Info("shir "+name, "version", buildinfo.Get().Version, "properties", inv.Props.String())
	}
	in, err := provision.Open(provision.Options{Inv: inv, Out: out, Log: logger, Stdin: a.stdin})
	if err != nil {
		return err
	}
	defer in.Close()
	if inv.DryRun {
		fmt.Fprintf(out, "shir %s --dry-run: nothing is changed\n", name)
		for _, l := range in.Plan() {
			fmt.Fprintln(out, l)
		}
		return nil
	}
	switch name {
	case "uninstall":
		return in.Uninstall(ctx, inv.Purge)
	case "repair":
		return in.Repair(ctx)
	default:
		return in.Install(ctx)
	}
}
