// Package cli is the command line of shir: it parses flags and msiexec-style
// properties into plain configuration, calls the package that does the work,
// and maps the resulting error to an exit code in one place (exitcode).
//
// Commands whose issue has not landed yet are registered with their flags and
// help and return an error wrapping exitcode.ErrNotImplemented (exit 1, or
// 1603 in msiexec-style calls): never a fake success.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/internal/exitcode"
)

const exitStatusHelp = `
EXIT STATUS
  0    success
  1    failure (including a command that is not implemented yet)
  2    usage error: a bad flag, argument or property
  3    prerequisite checks failed
  4    reboot required (run the same command again after the reboot)
  5    another installation is running
  6    registration refused by the control plane
  130  cancelled
  msiexec-style calls (shir install /q ...) exit with Windows Installer codes
  instead: 0, 1602 cancelled, 1603 failure, 1618 another install running,
  1633 platform unsupported, 3010 reboot required.
`

// app carries what every command needs: standard streams and whether the
// call was msiexec-style (which changes the exit codes).
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	msiStyle       bool
}

// Main runs shir with args (args[0] is the program name, as in os.Args) and
// returns the process exit code. Called as dmgcmd or dmgcmd.exe (any case),
// it runs `shir dmgcmd`.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	var rest []string
	if len(args) > 0 {
		rest = args[1:]
		if isDmgcmd(args[0]) {
			rest = append([]string{"dmgcmd"}, rest...)
		}
	}
	root := a.rootCommand()
	root.SetArgs(rest)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName(cmd), err)
		if errors.Is(err, exitcode.ErrUsage) && cmd != nil {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	if a.msiStyle {
		return exitcode.MSICode(err)
	}
	return exitcode.Code(err)
}

func progName(cmd *cobra.Command) string {
	if cmd == nil {
		return "shir"
	}
	return cmd.CommandPath()
}

// isDmgcmd reports whether the program was invoked under the name dmgcmd.
func isDmgcmd(argv0 string) bool {
	base := argv0[strings.LastIndexAny(argv0, `/\`)+1:]
	base = strings.ToLower(base)
	base = strings.TrimSuffix(base, ".exe")
	return base == "dmgcmd"
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "shir",
		Short: "Install, register, update and provision self-hosted integration runtime nodes",
		Long: `shir installs, registers, keeps up to date and provisions fleets of a
self-hosted integration runtime: an agent on your own Windows and Linux
machines that registers with a control plane by an authentication key and
runs the jobs queued for it. shir also is that control plane (shir server).

Start with: shir quickstart
` + exitStatusHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
	})
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(
		a.versionCommand(),
		a.checkCommand(),
		a.installCommand("install", "Install this machine as a node (flags or msiexec style: /q AUTHKEY=... NOFIREWALL=1)"),
		a.installCommand("uninstall", "Remove services, firewall rule and files (state is kept unless --purge)"),
		a.installCommand("repair", "Re-apply every install step"),
		a.dmgcmdCommand(),
		a.agentCommand(),
		a.updaterCommand(),
		a.updateCommand(),
		a.releaseCommand(),
		a.serverCommand(),
		a.runtimeCommand(),
		a.jobCommand(),
		a.firewallCommand(),
		a.armCommand(),
		a.fleetCommand(),
		a.quickstartCommand(),
		a.packagingCommand(),
	)
	return root
}

// notImplemented is what a command returns until its issue lands.
func notImplemented(issue int) error {
	return fmt.Errorf("%w (tracked in issue #%d)", exitcode.ErrNotImplemented, issue)
}

// usageError marks err as a usage error (exit code 2).
func usageError(format string, a ...any) error {
	return fmt.Errorf("%w: %s", exitcode.ErrUsage, fmt.Sprintf(format, a...))
}

// noArgs rejects positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		if cmd.HasSubCommands() {
			return usageError("unknown command %q for %q", args[0], cmd.CommandPath())
		}
		return usageError("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// exactArgs wants n positional arguments, named in the error.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageError("%s needs %d argument(s) (%s), got %d", cmd.CommandPath(), len(names), strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// group makes a command that only holds subcommands.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_ = cmd.Help()
			return usageError("%s needs a subcommand", cmd.CommandPath())
		},
	}
	c.AddCommand(subs...)
	return c
}

// stub is a leaf command that is registered but not implemented yet.
func stub(use, short string, issue int, args cobra.PositionalArgs, flags func(*cobra.Command)) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(*cobra.Command, []string) error {
			return notImplemented(issue)
		},
	}
	if flags != nil {
		flags(c)
	}
	return c
}
