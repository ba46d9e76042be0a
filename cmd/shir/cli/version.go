package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shirhq/shir/internal/buildinfo"
)

func (a *app) versionCommand() *cobra.Command {
	var asJSON, short bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date, Go version and platform",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := buildinfo.Get()
			switch {
			case asJSON:
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			case short:
				_, err := fmt.Fprintln(a.stdout, info.Version)
				return err
			}
			_, err := fmt.Fprintf(a.stdout, "shir %s\n  commit:     %s\n  built:      %s\n  go version: %s\n  platform:   %s/%s\n",
				info.Version, info.Commit, info.Date, info.GoVersion, info.OS, info.Arch)
			return err
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	c.Flags().BoolVar(&short, "short", false, "print only the version")
	return c
}
