package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"aead.dev/minisign"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/shirhq/shir/internal/buildinfo"
	"github.com/shirhq/shir/internal/netproxy"
	"github.com/shirhq/shir/internal/nodeconfig"
	"github.com/shirhq/shir/internal/svcrun"
	"github.com/shirhq/shir/updater"
)

const updateExitHelp = `
The update commands print why a release is refused (bad signature, unknown
or revoked key, expired, downgrade, outside the maintenance window, not in
the rollout, ...) and exit 1; "up to date" exits 0. Bad flags exit 2.`

// UpdaterServiceName is the upgrade service's name on Windows (DESIGN.md).
const UpdaterServiceName = "shirupdater"

func (a *app) updaterCommand() *cobra.Command {
	run := &cobra.Command{
		Use:   "run",
		Short: "Run the upgrade service in the foreground",
		Long: `Run the upgrade service: check every interval, apply what the policy
allows inside the maintenance window, restart the host service, wait for its
health file, roll back if it does not come. The control plane's policy
(update-policy.json in the state directory: autoUpdate, pinnedVersion) is
re-read before every check. Returns after a successful update so that the
service manager restarts the updater on the new binary.

Settings come from the [update] table of shir.toml (--config, default the
node's shir.toml): source, channel, constraint, window, interval,
github_api; state_dir and [proxy] are used too. Flags override them. With
no source the service idles (and says so) instead of failing.` + updateExitHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			interval, err := a.updaterSettings(cmd)
			if err != nil {
				return err
			}
			asService, _ := cmd.Flags().GetBool("service")
			text := slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelInfo})
			// Under the Windows SCM: the service handshake and the Event Log
			// (source "shirupdater"); elsewhere stderr (journald on Linux).
			return svcrun.Run(cmd.Context(), UpdaterServiceName, asService, text, func(ctx context.Context, log *slog.Logger) error {
				if src, _ := cmd.Flags().GetString("source"); src == "" {
					log.Info("no update source is configured ([update] source in shir.toml, or --source): the upgrade service idles")
					<-ctx.Done()
					return nil
				}
				u, st, err := a.newUpdater(cmd, true, log)
				if err != nil {
					return err
				}
				policyFile := filepath.Join(st, updater.PolicyFileName)
				return u.Run(ctx, interval, func(p updater.Policy) (updater.Policy, error) {
					cp, err := updater.LoadControlPolicy(policyFile)
					if err != nil {
						return p, err
					}
					return cp.Apply(p), nil
				})
			})
		},
	}
	updateFlags(run)
	applyFlags(run)
	run.Flags().Duration("interval", time.Hour, "time between checks (at least 1m)")
	run.Flags().String("config", "", "node configuration file (default: the node's shir.toml, under --root if given)")
	run.Flags().Bool("service", false, "answer the Windows service manager even when detection says otherwise (the installer sets it)")
	return group("updater", "The upgrade service of a node", run)
}

// updaterSettings fills the flags the user did not give from shir.toml and
// returns the check interval.
func (a *app) updaterSettings(cmd *cobra.Command) (time.Duration, error) {
	f := cmd.Flags()
	path, _ := f.GetString("config")
	explicit := path != ""
	if !explicit {
		root, _ := f.GetString("root")
		path = nodeconfig.DefaultPaths(root).Config
	}
	cfg, err := nodeconfig.Load(path, !explicit)
	if err != nil {
		return 0, err
	}
	u := cfg.Update
	proxy := cfg.Proxy.Mode
	if proxy == netproxy.ModeCustom {
		proxy = cfg.Proxy.URL
	}
	for _, kv := range [][2]string{{"source", u.Source}, {"channel", u.Channel}, {"constraint", u.Constraint},
		{"window", u.Window}, {"github-api", u.GitHubAPI}, {"state-dir", cfg.StateDir}, {"proxy", proxy}} {
		if kv[1] != "" && !f.Changed(kv[0]) {
			if err := f.Set(kv[0], kv[1]); err != nil {
				return 0, usageError("%s: %s: %v", path, kv[0], err)
			}
		}
	}
	interval, _ := f.GetDuration("interval")
	if !f.Changed("interval") && u.Interval.Duration != 0 {
		interval = u.Interval.Duration
	}
	if interval < time.Minute {
		return 0, usageError("--interval %s: must be at least 1m", interval)
	}
	return interval, nil
}

func updateFlags(c *cobra.Command) {
	f := c.Flags()
	f.String("source", "", "release source: github://owner/repo, https://feed/url or a local directory")
	f.String("channel", "stable", "release channel: stable or beta")
	f.String("constraint", "", `version constraint, e.g. "~> 1.4"`)
	f.String("version", "", "a specific version instead of the newest allowed")
	f.String("window", "", `maintenance window in local time, e.g. "Sun 02:00-04:00" (default: any time)`)
	f.String("node-id", "", "node ID for the staged rollout bucket (default: the host name)")
	f.String("root", "", "sandbox root: the node's files are under DIR (as install --root)")
	f.String("target", "", "binary to replace (default: this executable, or the one under --root)")
	f.String("state-dir", "", "updater state directory (default: /var/lib/shir or %ProgramData%\\shir\\state)")
	f.StringArray("root-pub", nil, "trusted root public key file (repeatable; default: the compiled-in roots)")
	f.String("github-api", "", "GitHub API base URL (GitHub Enterprise)")
	f.String("proxy", "system", "proxy: none, system (HTTPS_PROXY...) or http://host:port")
	f.String("current", "", "installed version (default: this binary's version)")
	_ = f.MarkHidden("current")
}

func applyFlags(c *cobra.Command) {
	f := c.Flags()
	f.Bool("ignore-window", false, "apply outside the maintenance window")
	f.Bool("no-restart", false, "replace the binary but restart nothing (no health check, no rollback)")
	f.String("host-service", defaultHostService(), "host service to restart after the update")
	f.Duration("health-timeout", 2*time.Minute, "how long to wait for the restarted host's healthy heartbeat")
	f.Int64("size-limit", updater.DefaultSizeLimit, "largest artifact accepted, in bytes")
}

// dmgcmdLink is the dmgcmd name of the binary next to it (the installer
// makes it a hard link on Windows, a symlink elsewhere).
func dmgcmdLink(bin string) string {
	if strings.EqualFold(filepath.Ext(bin), ".exe") {
		return filepath.Join(filepath.Dir(bin), "dmgcmd.exe")
	}
	return filepath.Join(filepath.Dir(bin), "dmgcmd")
}

func defaultHostService() string {
	if runtime.GOOS == "windows" {
		return "shirhost"
	}
	return "shir-host"
}

func (a *app) updateCommand() *cobra.Command {
	check := &cobra.Command{
		Use:   "check",
		Short: "Show the newest release the policy allows",
		Long:  "Verify the source's signed key list and manifests and show the newest release the policy allows." + updateExitHelp,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, _, err := a.newUpdater(cmd, false, nil)
			if err != nil {
				return err
			}
			c, err := u.Check(cmd.Context(), a.request(cmd))
			if errors.Is(err, updater.ErrUpToDate) {
				fmt.Fprintf(a.stdout, "up to date: %v\n", err)
				return nil
			}
			if err != nil {
				return err
			}
			m := c.Verified.Manifest
			fmt.Fprintf(a.stdout, "update available: %s (channel %s, rollout %d%%, expires %s, signed by %s)\n",
				m.Version, m.Channel, m.Rollout, m.Expires.Format(time.RFC3339), updater.KeyID(c.Verified.SignedBy))
			fmt.Fprintf(a.stdout, "artifact: %s (%d bytes, sha256 %s)\n", c.Artifact.URL, c.Artifact.Size, c.Artifact.SHA256)
			return nil
		},
	}
	updateFlags(check)
	apply := &cobra.Command{
		Use:   "apply",
		Short: "Download, verify and apply the newest allowed release",
		Long: `Download (resumable, size-limited), verify the hash and signatures,
replace the binary (the old one is kept), restart the host service and wait
for its healthy heartbeat; roll back and mark the version bad if it does not
come.` + updateExitHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, _, err := a.newUpdater(cmd, true, nil)
			if err != nil {
				return err
			}
			req := a.request(cmd)
			req.Manual = true
			res, err := u.Apply(cmd.Context(), req)
			if errors.Is(err, updater.ErrUpToDate) {
				fmt.Fprintf(a.stdout, "up to date: %v\n", err)
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "updated %s -> %s\n", res.From, res.To)
			return nil
		},
	}
	updateFlags(apply)
	applyFlags(apply)
	return group("update", "Check for and apply a signed update now", check, apply)
}

func (a *app) request(cmd *cobra.Command) updater.Request {
	v, _ := cmd.Flags().GetString("version")
	ign, _ := cmd.Flags().GetBool("ignore-window")
	return updater.Request{Version: v, IgnoreWindow: ign}
}

// newUpdater builds an Updater from the flags; apply adds a host and a
// progress bar. It returns the state directory too.
func (a *app) newUpdater(cmd *cobra.Command, apply bool, log *slog.Logger) (*updater.Updater, string, error) {
	f := cmd.Flags()
	str := func(n string) string { s, _ := f.GetString(n); return s }
	if str("source") == "" {
		return nil, "", usageError("--source is required (github://owner/repo, https://feed/ or a directory)")
	}
	if v := str("version"); v != "" && strings.HasPrefix(v, "v") {
		return nil, "", usageError("--version %q: give the version without a leading v", v)
	}
	hc, err := updater.NewHTTPClient(str("proxy"))
	if err != nil {
		return nil, "", usageError("--proxy: %v", err)
	}
	src, err := updater.ParseSource(str("source"), updater.SourceOptions{HTTP: hc, GitHubAPI: str("github-api"), Token: os.Getenv("GITHUB_TOKEN")})
	if err != nil {
		return nil, "", usageError("--source: %v", err)
	}
	roots, err := loadRoots(f.GetStringArray("root-pub"))
	if err != nil {
		return nil, "", err
	}
	p := updater.Policy{Channel: str("channel"), Constraint: str("constraint"), NodeID: str("node-id"), AutoUpdate: true}
	if p.Channel != "stable" && p.Channel != "beta" {
		return nil, "", usageError("--channel %q: want stable or beta", p.Channel)
	}
	if w := str("window"); w != "" {
		if p.Window, err = updater.ParseWindow(w); err != nil {
			return nil, "", usageError("--window: %v", err)
		}
	}
	if p.NodeID == "" {
		p.NodeID, _ = os.Hostname()
	}
	paths := updater.SystemPaths()
	if r := str("root"); r != "" {
		paths = updater.SandboxPaths(r)
	} else if exe, err := os.Executable(); err == nil {
		paths.Binary = exe
	}
	if t := str("target"); t != "" {
		paths.Binary = t
	}
	if s := str("state-dir"); s != "" {
		paths.StateDir = s
	}
	current := str("current")
	if current == "" {
		current = strings.TrimPrefix(buildinfo.Get().Version, "v")
	}
	o := updater.Options{
		Source: src, Trust: updater.Trust{Roots: roots}, Policy: p, Current: current,
		Target: paths.Binary, StateDir: paths.StateDir, Links: []string{dmgcmdLink(paths.Binary)},
		Logger: log,
	}
	if log == nil {
		o.Logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if cp, err := updater.LoadControlPolicy(filepath.Join(paths.StateDir, updater.PolicyFileName)); err != nil {
		return nil, "", err
	} else {
		o.Policy = cp.Apply(o.Policy)
	}
	if apply {
		if nr, _ := f.GetBool("no-restart"); !nr {
			o.Host = updater.ServiceHost{Name: str("host-service")}
		}
		o.HealthTimeout, _ = f.GetDuration("health-timeout")
		o.SizeLimit, _ = f.GetInt64("size-limit")
		o.Progress = a.progress()
	}
	u, err := updater.New(o)
	if err != nil {
		return nil, "", usageError("%v", err)
	}
	return u, paths.StateDir, nil
}

// progress draws a download progress bar on stderr.
func (a *app) progress() func(done, total int64) {
	var bar *progressbar.ProgressBar
	return func(done, total int64) {
		if bar == nil {
			bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(a.stderr),
				progressbar.OptionShowBytes(true), progressbar.OptionSetDescription("downloading"),
				progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(a.stderr) }))
		}
		_ = bar.Set64(done)
	}
}

func loadRoots(files []string, err error) ([]minisign.PublicKey, error) {
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return updater.DefaultRoots()
	}
	var out []minisign.PublicKey
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err != nil {
			return nil, usageError("--root-pub: %v", err)
		}
		k, err := updater.ParsePublicKey(string(b))
		if err != nil {
			return nil, usageError("--root-pub %s: %v", fn, err)
		}
		out = append(out, k)
	}
	return out, nil
}

func (a *app) releaseCommand() *cobra.Command {
	keygen := &cobra.Command{
		Use:   "keygen",
		Short: "Create a root or signing key pair (private key encrypted with a password)",
		Long: `Create a minisign key pair: OUT.pub and OUT.key (0600, encrypted with the
password from --password-file, "-" for stdin, or $SHIR_RELEASE_PASSWORD).
The minisign tool reads both. Root public keys are compiled into shir
(-X github.com/shirhq/shir/updater.RootKeys=...); add signing keys to the
signed key list with shir release keys.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kind, _ := cmd.Flags().GetString("kind")
			out, _ := cmd.Flags().GetString("out")
			if kind != "root" && kind != "signing" {
				return usageError("--kind %q: want root or signing", kind)
			}
			if out == "" {
				return usageError("--out is required (file prefix: writes OUT.key and OUT.pub)")
			}
			for _, p := range []string{out + ".key", out + ".pub"} {
				if _, err := os.Stat(p); err == nil {
					return usageError("--out: %s exists; refusing to overwrite a key", p)
				}
			}
			pw, err := a.password(cmd)
			if err != nil {
				return err
			}
			cost, err := kdfCost(cmd)
			if err != nil {
				return err
			}
			pub, priv, err := updater.GenerateKey()
			if err != nil {
				return err
			}
			enc, err := updater.EncryptPrivateKey(pw, priv, cost)
			if err != nil {
				return err
			}
			if err := writeNew(out+".key", enc, 0o600); err != nil {
				return err
			}
			if err := writeNew(out+".pub", updater.PublicKeyFile(pub), 0o644); err != nil {
				os.Remove(out + ".key")
				return err
			}
			fmt.Fprintf(a.stdout, "%s key %s\npublic key: %s\nwrote %s.key and %s.pub\n", kind, updater.KeyID(pub.ID()), pub.String(), out, out)
			return nil
		},
	}
	keygen.Flags().String("kind", "signing", "root or signing")
	keygen.Flags().String("out", "", "output file prefix")
	passwordFlags(keygen)

	keys := &cobra.Command{
		Use:   "keys",
		Short: "Add or revoke signing keys in the key list, signed by a root key",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			dir, _ := f.GetString("dir")
			rootKey, _ := f.GetString("root-key")
			adds, _ := f.GetStringArray("add")
			revokes, _ := f.GetStringArray("revoke")
			exp, _ := f.GetDuration("expires-in")
			if dir == "" || rootKey == "" {
				return usageError("--dir and --root-key are required")
			}
			kl, err := updater.ReadKeyList(dir)
			if err != nil {
				return err
			}
			for _, fn := range adds {
				b, err := os.ReadFile(fn)
				if err != nil {
					return usageError("--add: %v", err)
				}
				pub, err := updater.ParsePublicKey(string(b))
				if err != nil {
					return usageError("--add %s: %v", fn, err)
				}
				kl = kl.Add(pub, filepath.Base(fn))
			}
			for _, id := range revokes {
				v, err := updater.ParseKeyID(strings.ToUpper(id))
				if err != nil {
					return usageError("--revoke: %v", err)
				}
				kl = kl.Revoke(v)
			}
			kl.Issued = time.Now().UTC().Truncate(time.Second)
			kl.Expires = time.Time{}
			if exp > 0 {
				kl.Expires = kl.Issued.Add(exp)
			}
			priv, err := a.readPrivateKey(cmd, rootKey)
			if err != nil {
				return err
			}
			if err := updater.SignKeyList(dir, kl, priv); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s: %d signing key(s), %d active, signed by root %s\n",
				filepath.Join(dir, "keys.json"), len(kl.Keys), len(kl.Active()), updater.KeyID(priv.ID()))
			return nil
		},
	}
	keys.Flags().String("dir", "", "feed directory holding keys.json")
	keys.Flags().String("root-key", "", "root private key file")
	keys.Flags().StringArray("add", nil, "signing public key file to add (repeatable)")
	keys.Flags().StringArray("revoke", nil, "signing key ID to revoke (repeatable)")
	keys.Flags().Duration("expires-in", 0, "key list lifetime (default: no expiry)")
	passwordFlags(keys)

	sign := &cobra.Command{
		Use:   "sign",
		Short: "Write and sign a release manifest for built artifacts",
		Long: `Sign the binaries in --artifacts (shir_OS_ARCH[.exe] files or the
shir_OS_ARCH/ folders of make build) and write OUT/VERSION/ with the
manifest, its minisign signature and the binaries, and OUT/index.json.
Verify with: minisign -V -p signing.pub -m OUT/VERSION/manifest.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			str := func(n string) string { s, _ := f.GetString(n); return s }
			rollout, _ := f.GetInt("rollout")
			exp, _ := f.GetDuration("expires-in")
			rb, _ := f.GetBool("rollback")
			switch {
			case str("key") == "":
				return usageError("--key is required")
			case str("version") == "":
				return usageError("--version is required")
			case str("out") == "":
				return usageError("--out is required (feed directory)")
			case rollout < 0 || rollout > 100:
				return usageError("--rollout %d: want 0 to 100", rollout)
			case exp < 0:
				return usageError("--expires-in must be positive")
			case str("channel") != "stable" && str("channel") != "beta":
				return usageError("--channel %q: want stable or beta", str("channel"))
			}
			priv, err := a.readPrivateKey(cmd, str("key"))
			if err != nil {
				return err
			}
			now := time.Now()
			o := updater.PublishOptions{Artifacts: str("artifacts"), Out: str("out"), Version: str("version"),
				Channel: str("channel"), URLBase: str("url-base"), Rollout: rollout, Rollback: rb, Key: priv, Now: now}
			if exp > 0 {
				o.Expires = now.Add(exp)
			}
			m, err := updater.SignRelease(o)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "signed %s (%s, rollout %d%%, expires %s) with key %s: %s\n", m.Version, m.Channel, m.Rollout,
				m.Expires.Format(time.RFC3339), updater.KeyID(priv.ID()), strings.Join(m.Platforms(), " "))
			return nil
		},
	}
	sf := sign.Flags()
	sf.String("key", "", "signing private key")
	sf.String("artifacts", "dist", "directory with the built artifacts")
	sf.String("version", "", "release version")
	sf.String("channel", "stable", "stable or beta")
	sf.String("url-base", "", "URL the artifacts are downloaded from (default: next to the manifest)")
	sf.String("out", "", "feed directory to write")
	sf.Int("rollout", 100, "staged rollout percent")
	sf.Bool("rollback", false, "a signed rollback: may replace a newer installed version")
	sf.Duration("expires-in", 30*24*time.Hour, "manifest lifetime")
	passwordFlags(sign)

	verify := &cobra.Command{
		Use:   "verify",
		Short: "Verify a manifest against root keys",
		Long: `Verify the chain root key -> keys.json -> manifest, and the artifacts
next to the manifest (size, SHA-256, signature). --manifest defaults to every
release of --dir; keys.json is looked up next to the manifest's folder.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			manifest, _ := f.GetString("manifest")
			dir, _ := f.GetString("dir")
			roots, err := loadRoots(f.GetStringArray("root-pub"))
			if err != nil {
				return err
			}
			var manifests []string
			switch {
			case manifest != "":
				manifests = []string{manifest}
				if dir == "" {
					dir = filepath.Dir(filepath.Dir(manifest))
				}
			case dir != "":
				ix, err := os.ReadFile(filepath.Join(dir, "index.json"))
				if err != nil {
					return err
				}
				idx, err := updater.ParseIndex(ix)
				if err != nil {
					return err
				}
				for _, r := range idx.Releases {
					manifests = append(manifests, filepath.Join(dir, r, "manifest.json"))
				}
			default:
				return usageError("give --manifest FILE or --dir FEED")
			}
			keys, err := readSigned(filepath.Join(dir, "keys.json"))
			if err != nil {
				return err
			}
			for _, mf := range manifests {
				ms, err := readSigned(mf)
				if err != nil {
					return err
				}
				v, err := updater.Trust{Roots: roots}.VerifyRelease(keys, ms, time.Now(), time.Time{})
				if err != nil {
					return fmt.Errorf("%s: %w", mf, err)
				}
				m := v.Manifest
				for _, p := range m.Platforms() {
					art := m.Artifacts[p]
					if strings.Contains(art.URL, "://") {
						continue
					}
					bin, err := os.ReadFile(filepath.Join(filepath.Dir(mf), filepath.FromSlash(art.URL)))
					if err != nil {
						return fmt.Errorf("%s: artifact %s: %w", mf, p, err)
					}
					if err := updater.VerifyArtifact(bin, art, v.SigningKey()); err != nil {
						return fmt.Errorf("%s: artifact %s: %w", mf, p, err)
					}
				}
				state := "valid"
				if time.Now().After(m.Expires) {
					state = "EXPIRED"
				}
				fmt.Fprintf(a.stdout, "ok: %s %s (%s), signed by %s, %s until %s, %d artifact(s)\n", mf, m.Version, m.Channel,
					updater.KeyID(v.SignedBy), state, m.Expires.Format(time.RFC3339), len(m.Artifacts))
			}
			return nil
		},
	}
	verify.Flags().String("manifest", "", "manifest file (manifest.json.minisig next to it)")
	verify.Flags().String("dir", "", "feed directory (keys.json, index.json, VERSION/)")
	verify.Flags().StringArray("root-pub", nil, "root public key file (repeatable; default: the compiled-in keys)")
	return group("release", "Publisher tools: keys, signed manifests", keygen, keys, sign, verify)
}

func passwordFlags(c *cobra.Command) {
	c.Flags().String("password-file", "", `file holding the key password ("-": stdin; default: $SHIR_RELEASE_PASSWORD)`)
	c.Flags().String("kdf", "sensitive", "scrypt cost of a new key: sensitive (minisign's default, 1 GiB) or interactive (16 MiB)")
	_ = c.Flags().MarkHidden("kdf")
}

func kdfCost(cmd *cobra.Command) (updater.KDFCost, error) {
	switch k, _ := cmd.Flags().GetString("kdf"); k {
	case "sensitive":
		return updater.CostSensitive, nil
	case "interactive":
		return updater.CostInteractive, nil
	default:
		return updater.KDFCost{}, usageError("--kdf %q: want sensitive or interactive", k)
	}
}

// password reads the key password; it is never printed or logged.
func (a *app) password(cmd *cobra.Command) (string, error) {
	fn, _ := cmd.Flags().GetString("password-file")
	var b []byte
	var err error
	switch fn {
	case "":
		if pw := os.Getenv("SHIR_RELEASE_PASSWORD"); pw != "" {
			return pw, nil
		}
		return "", usageError("no key password: give --password-file FILE (or - for stdin) or set SHIR_RELEASE_PASSWORD")
	case "-":
		b, err = io.ReadAll(io.LimitReader(a.stdin, 4096))
	default:
		b, err = os.ReadFile(fn)
	}
	if err != nil {
		return "", usageError("--password-file: %v", err)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", usageError("--password-file: empty password")
	}
	return pw, nil
}

func (a *app) readPrivateKey(cmd *cobra.Command, path string) (minisign.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return minisign.PrivateKey{}, usageError("key: %v", err)
	}
	pw := ""
	if minisign.IsEncrypted(b) {
		if pw, err = a.password(cmd); err != nil {
			return minisign.PrivateKey{}, err
		}
	}
	k, err := updater.DecryptPrivateKey(pw, b)
	if err != nil {
		return k, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func readSigned(path string) (updater.Signed, error) {
	d, err := os.ReadFile(path)
	if err != nil {
		return updater.Signed{}, err
	}
	s, err := os.ReadFile(path + ".minisig")
	if err != nil {
		return updater.Signed{}, err
	}
	return updater.Signed{Data: d, Sig: s}, nil
}

// writeNew creates path (never overwriting) with data.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
