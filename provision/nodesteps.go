package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/internal/atomicfile"
	"github.com/shirhq/shir/internal/buildinfo"
	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/internal/netproxy"
	"github.com/shirhq/shir/internal/nodecert"
	"github.com/shirhq/shir/internal/nodeconfig"
	"github.com/shirhq/shir/internal/secret"
	"github.com/shirhq/shir/updater"
)

// configStep writes shir.toml from the properties. An existing file (a
// reinstall or an upgrade) is kept and only the given properties change it.
// The proxy password is sealed in the state dir, never written to the file.
type configStep struct{}

var (
	_ Step    = (*configStep)(nil)
	_ Undoer  = (*configStep)(nil)
	_ Planner = (*configStep)(nil)
)

func (*configStep) Name() string { return "config" }

func (*configStep) Plan(env *Env) []string {
	out := []string{fmt.Sprintf("write %s (node name, state dir, proxy); seal secrets in %s", env.Paths.ConfigFile, env.Paths.StateDir)}
	if ra, ok := installRemoteAccess(env); ok {
		out = append(out, fmt.Sprintf("enable remote access on port %d with the certificate of %s (checked first)", ra.Port, ra.CertFile+ra.Thumbprint))
	}
	return out
}

// installRemoteAccess is the remote-access setting an install asks for:
// CERTFILE or CERTTHUMBPRINT enables remote access on PORT (default 8060),
// as dmgcmd -era would. Without a certificate property an install leaves
// remote access as it is (off on a new node; -era turns it on).
func installRemoteAccess(env *Env) (nodeconfig.RemoteAccess, bool) {
	cf, tp := env.Props["CERTFILE"], env.Props["CERTTHUMBPRINT"]
	if cf == "" && tp == "" {
		return nodeconfig.RemoteAccess{}, false
	}
	port := 8060
	if p, err := strconv.Atoi(env.Props["PORT"]); err == nil {
		port = p
	}
	ra := nodeconfig.RemoteAccess{Enabled: true, Port: port, CertFile: cf}
	if tp != "" {
		ra.Thumbprint = nodeconfig.NormalizeThumbprint(tp)
	}
	return ra, true
}

// nodeConfig is the config the properties ask for, on top of base.
func nodeConfig(base nodeconfig.Config, env *Env) nodeconfig.Config {
	c := base
	c.StateDir = env.Paths.StateDir
	if v := env.Props["NODENAME"]; v != "" {
		c.NodeName = v
	}
	switch v := env.Props["PROXY"]; strings.ToLower(v) {
	case "":
	case "none", "system":
		c.Proxy = nodeconfig.Proxy{Mode: strings.ToLower(v)}
	default:
		c.Proxy = nodeconfig.Proxy{Mode: netproxy.ModeCustom, URL: v, User: env.Props["PROXYUSER"]}
	}
	if v := env.Props["UPDATECHANNEL"]; v != "" {
		c.Update.Channel = v
	}
	if v := env.Props["UPDATESOURCE"]; v != "" {
		c.Update.Source = v
	}
	return c
}

func (s *configStep) Apply(_ context.Context, env *Env) error {
	path := env.Paths.ConfigFile
	ra, withRA := installRemoteAccess(env)
	if withRA {
		// Checked before anything of this step is written.
		if err := ra.Validate(); err != nil {
			return err
		}
		if err := nodecert.Check(ra, time.Now()); err != nil {
			return fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
		}
	}
	base, err := nodeconfig.Load(path, true)
	if err != nil {
		return fmt.Errorf("existing %s: %w (fix or remove it, then run repair)", path, err)
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		env.Journal.Set("config.created", "1")
	}
	c := nodeConfig(base, env)
	if err := c.Validate(); err != nil {
		return err
	}
	b, err := nodeconfig.Encode(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := atomicfile.Write(path, b, 0o644); err != nil {
		return err
	}
	if pw := env.Props["PROXYPASSWORD"]; pw != "" {
		p, err := secret.ForStateDir(env.Paths.StateDir)
		if err != nil {
			return err
		}
		if err := netproxy.SavePassword(env.Paths.StateDir, p, pw); err != nil {
			return fmt.Errorf("seal the proxy password: %w", err)
		}
	}
	if v := env.Props["AUTOUPDATE"]; v != "" {
		on := v == "1"
		pf := filepath.Join(env.Paths.StateDir, updater.PolicyFileName)
		cp, _ := updater.LoadControlPolicy(pf)
		cp.AutoUpdate = &on
		if err := updater.WriteControlPolicy(pf, cp); err != nil {
			return err
		}
	}
	if withRA {
		if err := os.MkdirAll(env.Paths.StateDir, 0o700); err != nil {
			return err
		}
		raPath := filepath.Join(env.Paths.StateDir, nodeconfig.RemoteAccessFile)
		if _, err := os.Stat(raPath); errors.Is(err, os.ErrNotExist) {
			env.Journal.Set("config.remoteaccess", "1") // undo removes only a file this install made
		}
		if err := nodeconfig.SaveRemoteAccess(env.Paths.StateDir, ra); err != nil {
			return err
		}
		env.printf("config", "remote access on port %d", ra.Port)
	}
	env.printf("config", "wrote %s", path)
	return nil
}

func (s *configStep) Undo(_ context.Context, env *Env) error {
	if env.Journal.Get("config.remoteaccess") == "1" && !env.uninstalling {
		// A failed install takes back the setting it made; uninstall keeps
		// it with the rest of the state (--purge removes the state dir).
		_ = os.Remove(filepath.Join(env.Paths.StateDir, nodeconfig.RemoteAccessFile))
	}
	if env.Journal.Get("config.created") != "1" {
		return nil // the admin's file from before this install stays
	}
	if env.uninstalling && !env.purging {
		// Like a dpkg conffile: uninstall keeps the settings (and the admin's
		// edits) for a reinstall; --purge removes them. An MSI major upgrade
		// that runs the old product's uninstall relies on this.
		return fmt.Errorf("%w %s (settings for a reinstall; --purge removes it)", errKept, env.Paths.ConfigFile)
	}
	if err := os.Remove(env.Paths.ConfigFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// registerStep registers the node with AUTHKEY (a key, "-" for stdin or
// "@file"). Registering again on the same machine is idempotent. Undo keeps
// the identity: it is state, removed only by uninstall --purge.
type registerStep struct {
	Stdin io.Reader
}

var (
	_ Step    = (*registerStep)(nil)
	_ Skipper = (*registerStep)(nil)
	_ Planner = (*registerStep)(nil)
)

func (*registerStep) Name() string { return "register" }

func (*registerStep) Skip(env *Env) (bool, string) {
	if env.Props["AUTHKEY"] == "" {
		if registered(env) {
			return true, "no AUTHKEY: keeping the existing registration"
		}
		return true, "no AUTHKEY: register later with `dmgcmd -rn KEY [NODENAME]`"
	}
	return false, ""
}

func (*registerStep) Plan(env *Env) []string {
	return []string{"register with the control plane named in AUTHKEY (key not shown)"}
}

func registered(env *Env) bool {
	_, err := os.Stat(filepath.Join(env.Paths.StateDir, register.IdentityFile))
	return err == nil
}

func (s *registerStep) Apply(ctx context.Context, env *Env) error {
	key, err := register.ReadKey(env.Props["AUTHKEY"], s.Stdin)
	if err != nil {
		return fmt.Errorf("%w: AUTHKEY: %w", exitcode.ErrRegistration, err)
	}
	c := nodeConfig(nodeconfig.Config{}, env)
	proxy := netproxy.Config{Mode: c.Proxy.Mode, URL: c.Proxy.URL, User: c.Proxy.User, Password: env.Props["PROXYPASSWORD"]}
	id, err := register.Register(ctx, register.Options{Key: key, NodeName: env.Props["NODENAME"],
		StateDir: env.Paths.StateDir, Proxy: proxy, Version: buildinfo.Get().Version, Logger: env.Log})
	if errors.Is(err, register.ErrOtherRuntime) {
		return fmt.Errorf("%w; the kept state of a previous install names that runtime: to move the node, install without AUTHKEY and run `dmgcmd -k KEY`, or start over with `shir uninstall --purge`", err)
	}
	if err != nil {
		return err
	}
	env.printf("register", "registered as node %s of runtime %s", id.NodeName, id.RuntimeName)
	return nil
}
