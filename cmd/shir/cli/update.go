package cli

import (
	"github.com/spf13/cobra"
)

func (a *app) updaterCommand() *cobra.Command {
	return group("updater", "The upgrade service of a node",
		stub("run", "Run the upgrade service in the foreground", 9, noArgs, func(c *cobra.Command) {
			c.Flags().String("config", "", "path of shir.toml")
		}),
	)
}

func updateFlags(c *cobra.Command) {
	c.Flags().String("source", "", "release source: github://owner/repo, https://feed/url or a local directory")
	c.Flags().String("channel", "stable", "release channel: stable or beta")
	c.Flags().String("constraint", "", `version constraint, e.g. "~> 1.4"`)
}

func (a *app) updateCommand() *cobra.Command {
	return group("update", "Check for and apply a signed update now",
		stub("check", "Show the newest release the policy allows", 9, noArgs, updateFlags),
		stub("apply", "Download, verify and apply the newest allowed release", 9, noArgs, func(c *cobra.Command) {
			updateFlags(c)
			c.Flags().Bool("ignore-window", false, "apply outside the maintenance window")
		}),
	)
}

func (a *app) releaseCommand() *cobra.Command {
	return group("release", "Publisher tools: keys, signed manifests",
		stub("keygen", "Create a root or signing key pair (private key encrypted with a password)", 9, noArgs, func(c *cobra.Command) {
			c.Flags().String("kind", "signing", "root or signing")
			c.Flags().String("out", "", "output file prefix")
		}),
		stub("sign", "Write and sign a release manifest for built artifacts", 9, noArgs, func(c *cobra.Command) {
			c.Flags().String("key", "", "signing private key")
			c.Flags().String("artifacts", "dist", "directory with the built artifacts")
			c.Flags().String("version", "", "release version")
			c.Flags().String("channel", "stable", "stable or beta")
			c.Flags().String("url-base", "", "URL the artifacts are downloaded from")
			c.Flags().Int("rollout", 100, "staged rollout percent")
			c.Flags().Duration("expires-in", 0, "manifest lifetime")
		}),
		stub("verify", "Verify a manifest against root keys", 9, noArgs, func(c *cobra.Command) {
			c.Flags().String("manifest", "", "manifest file")
			c.Flags().String("root-pub", "", "root public key file (default: the compiled-in keys)")
		}),
	)
}
