package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/shirhq/shir/agent/register"
	"github.com/shirhq/shir/internal/atomicfile"
	"github.com/shirhq/shir/internal/buildinfo"
	"github.com/shirhq/shir/internal/credstore"
	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/internal/nodecert"
	"github.com/shirhq/shir/internal/nodeconfig"
	"github.com/shirhq/shir/internal/secret"
	"github.com/shirhq/shir/updater"
)

// RemoteAccessFile records the remote-access setting (-era, -erac, -dra);
// the running agent watches it (see internal/nodeconfig).
const RemoteAccessFile = nodeconfig.RemoteAccessFile

// RemoteAccess is the content of RemoteAccessFile.
type RemoteAccess = nodeconfig.RemoteAccess

// Dmgcmd carries out one dmgcmd action on this installation.
func (in *Installation) Dmgcmd(ctx context.Context, dc DmgCommand) error {
	env := in.Env
	switch dc.Action.Short {
	case "rn", "k":
		return in.dmgRegister(ctx, dc)
	case "era", "erac":
		return in.dmgRemoteAccess(ctx, dc, true)
	case "dra":
		return in.dmgRemoteAccess(ctx, dc, false)
	case "gbf":
		return in.dmgBackup(dc.Args[0], dc.Args[1])
	case "ibf":
		return in.dmgRestore(ctx, dc.Args[0], dc.Args[1])
	case "r":
		if err := in.hostStop(); err != nil {
			return err
		}
		return in.hostStart(ctx)
	case "s":
		return in.hostStart(ctx)
	case "t":
		return in.hostStop()
	case "sus", "tus":
		if env.NoService {
			return fmt.Errorf("%w: -%s: this is a --no-service installation: it has no upgrade service; run `shir updater run --root %s` yourself", exitcode.ErrUsage, dc.Action.Long, env.Root)
		}
		_, upd := serviceNames(in.goos)
		if dc.Action.Short == "sus" {
			if err := in.sm.Start(upd); err != nil {
				return fmt.Errorf("start the upgrade service %s: %w", upd, err)
			}
			fmt.Fprintf(env.Out, "upgrade service %s started\n", upd)
			return nil
		}
		if err := in.sm.Stop(upd); err != nil {
			return fmt.Errorf("stop the upgrade service %s: %w", upd, err)
		}
		fmt.Fprintf(env.Out, "upgrade service %s stopped\n", upd)
		return nil
	case "tonau", "toffau":
		on := dc.Action.Short == "tonau"
		pf := filepath.Join(env.Paths.StateDir, updater.PolicyFileName)
		cp, err := updater.LoadControlPolicy(pf)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		cp.AutoUpdate = &on
		if err := updater.WriteControlPolicy(pf, cp); err != nil {
			return err
		}
		fmt.Fprintf(env.Out, "auto-update is %s\n", map[bool]string{true: "on", false: "off"}[on])
		return nil
	case "ssa":
		return in.dmgSwitchAccount(ctx, dc)
	case "ll":
		return in.dmgLogLevel(dc.Args[0])
	}
	return fmt.Errorf("%w: action -%s is not known", exitcode.ErrUsage, dc.Action.Long)
}

func (in *Installation) protector() (secret.Protector, error) {
	return secret.ForStateDir(in.Env.Paths.StateDir)
}

func (in *Installation) dmgRegister(ctx context.Context, dc DmgCommand) error {
	env := in.Env
	key, err := register.ReadKey(dc.Args[0], in.stdin)
	if err != nil {
		return fmt.Errorf("%w: AuthenticationKey: %w", exitcode.ErrUsage, err)
	}
	p, err := in.protector()
	if err != nil {
		return err
	}
	old, oldErr := register.Load(env.Paths.StateDir, p)
	name := ""
	if len(dc.Args) > 1 {
		name = dc.Args[1]
	} else if oldErr == nil {
		name = old.NodeName
	}
	force := false
	if dc.Action.Short == "k" && oldErr == nil && old.RuntimeID != key.RuntimeID {
		fmt.Fprintf(env.Out, "warning: the key belongs to runtime %s, this node is in runtime %s: the node leaves %s and may go offline until it registers there\n",
			key.RuntimeName, old.RuntimeName, old.RuntimeName)
		force = true
	}
	cfg, _ := nodeconfig.Load(env.Paths.ConfigFile, true)
	id, err := register.Register(ctx, register.Options{Key: key, NodeName: name, StateDir: env.Paths.StateDir,
		Protector: p, Proxy: cfg.ProxyConfig(""), Version: buildinfo.Get().Version, Force: force, Logger: env.Log})
	if errors.Is(err, register.ErrOtherRuntime) {
		return fmt.Errorf("%w; to move it, use -k (-Key) with the new key", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Out, "registered as node %s (%s) of runtime %s\n", id.NodeName, id.NodeID, id.RuntimeName)
	if in.hostInstalled() {
		_ = in.hostStop()
		return in.hostStart(ctx)
	}
	return nil
}

// dmgRemoteAccess is -era/-erac (enable) and -dra. The certificate is
// checked before anything changes; the firewall rule follows the port; the
// running host service picks the new setting up by itself (it watches
// remote-access.json), so no restart is needed.
func (in *Installation) dmgRemoteAccess(ctx context.Context, dc DmgCommand, enable bool) error {
	env := in.Env
	old, _ := nodeconfig.LoadRemoteAccess(env.Paths.StateDir) // an unreadable old setting is replaced
	fw := &firewallStep{}
	ra := RemoteAccess{}
	var cert nodecert.Cert
	if enable {
		port, _ := strconv.Atoi(dc.Args[0])
		ra = RemoteAccess{Enabled: true, Port: port, InContainer: dc.Action.Short == "erac"}
		if len(dc.Args) > 1 {
			if nodeconfig.IsThumbprint(dc.Args[1]) {
				ra.Thumbprint = nodeconfig.NormalizeThumbprint(dc.Args[1])
			} else {
				ra.CertFile = filepath.Clean(dc.Args[1])
			}
		}
		if err := ra.Validate(); err != nil {
			return fmt.Errorf("-%s: %w", dc.Action.Long, err)
		}
		if ra.CertFile != "" || ra.Thumbprint != "" {
			c, err := nodecert.Load(ra, env.Paths.StateDir, "", time.Now())
			if err != nil {
				return fmt.Errorf("%w: -%s: %v", exitcode.ErrUsage, dc.Action.Long, err)
			}
			cert = c
		}
	}
	if old.Enabled && !old.InContainer && !env.NoService && (!enable || old.Port != ra.Port || ra.InContainer) {
		env.Props = PropertySet{"PORT": strconv.Itoa(old.Port)}
		env.Journal.Set("firewall.port", strconv.Itoa(old.Port))
		if err := fw.Undo(ctx, env); err != nil && !enable {
			return err
		}
	}
	if enable {
		env.Props = PropertySet{"PORT": strconv.Itoa(ra.Port)}
		if ra.InContainer {
			fmt.Fprintf(env.Out, "remote access on port %d in a container: the firewall is not touched; publish the port in the container runtime\n", ra.Port)
		} else if skip, why := fw.Skip(env); skip {
			fmt.Fprintln(env.Out, why)
		} else if err := fw.Apply(ctx, env); err != nil {
			return err
		}
		if cert.Fingerprint == "" {
			if err := os.MkdirAll(env.Paths.StateDir, 0o700); err != nil {
				return err
			}
			c, err := nodecert.SelfSigned(env.Paths.StateDir, in.nodeName(), time.Now())
			if err != nil {
				return err
			}
			cert = c
		}
	}
	if err := nodeconfig.SaveRemoteAccess(env.Paths.StateDir, ra); err != nil {
		return err
	}
	if enable {
		fmt.Fprintf(env.Out, "remote access enabled on port %d (certificate: %s, %s)\n", ra.Port, cert.Source, cert.Fingerprint)
	} else {
		fmt.Fprintln(env.Out, "remote access disabled")
	}
	return env.Journal.save()
}

// nodeName is the registered node name, or the host name.
func (in *Installation) nodeName() string {
	if p, err := in.protector(); err == nil {
		if id, err := register.Load(in.Env.Paths.StateDir, p); err == nil {
			return id.NodeName
		}
	}
	h, _ := os.Hostname()
	return h
}

func (in *Installation) dmgBackup(file, password string) error {
	env := in.Env
	p, err := in.protector()
	if err != nil {
		return err
	}
	id, err := register.Load(env.Paths.StateDir, p)
	if err != nil {
		return fmt.Errorf("back up: %w", err)
	}
	idJSON, err := json.Marshal(id)
	if err != nil {
		return err
	}
	cs := credstore.Open(env.Paths.StateDir, p)
	creds, err := cs.List() // names only: List never returns secrets
	if err != nil {
		return fmt.Errorf("back up credentials: %w", err)
	}
	b := Backup{Created: time.Now().UTC(), Version: buildinfo.Get().Version, Identity: idJSON, Credentials: map[string][]byte{}}
	b.Hostname, _ = os.Hostname()
	for _, c := range creds {
		if c, err = cs.Get(c.Name); err != nil {
			return fmt.Errorf("back up credential %s: %w", c.Name, err)
		}
		cj, _ := json.Marshal(c)
		b.Credentials[c.Name] = cj
	}
	if cfg, err := os.ReadFile(env.Paths.ConfigFile); err == nil {
		b.Config = cfg
	}
	var buf bytes.Buffer
	if err := WriteBackup(&buf, b, password); err != nil {
		return err
	}
	if err := atomicfile.Write(file, buf.Bytes(), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(env.Out, "backup of node %s (%d credentials) written to %s\n", id.NodeName, len(creds), file)
	return nil
}

func (in *Installation) dmgRestore(ctx context.Context, file, password string) error {
	env := in.Env
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("%w: backup file: %w", exitcode.ErrUsage, err)
	}
	defer f.Close()
	b, err := ReadBackup(f, password)
	if err != nil {
		return err // nothing was changed
	}
	var id register.Identity
	if err := json.Unmarshal(b.Identity, &id); err != nil {
		return fmt.Errorf("backup: node identity: %w", err)
	}
	var creds []credstore.Credential
	for name, cj := range b.Credentials {
		var c credstore.Credential
		if err := json.Unmarshal(cj, &c); err != nil || c.Name != name {
			return fmt.Errorf("backup: credential %q is not valid", name)
		}
		if c.Updated.IsZero() {
			c.Updated = time.Now().UTC()
		}
		if err := credstore.CheckEntry(c, time.Now()); err != nil {
			return fmt.Errorf("backup: %w", err) // before anything is written
		}
		creds = append(creds, c)
	}
	if err := os.MkdirAll(env.Paths.StateDir, 0o700); err != nil {
		return err
	}
	p, err := in.protector()
	if err != nil {
		return err
	}
	if err := register.Save(env.Paths.StateDir, p, id); err != nil {
		return err
	}
	// The backup's own Updated times are kept (a merge, not a fresh Put), so
	// a restored old backup does not win over newer changes that the
	// runtime's other nodes sync back to this node.
	cs := credstore.Open(env.Paths.StateDir, p)
	if _, err := cs.MergeFrom(creds); err != nil {
		return fmt.Errorf("restore credentials: %w", err)
	}
	if _, err := os.Stat(env.Paths.ConfigFile); errors.Is(err, os.ErrNotExist) && len(b.Config) > 0 {
		if err := os.MkdirAll(filepath.Dir(env.Paths.ConfigFile), 0o755); err == nil {
			_ = atomicfile.Write(env.Paths.ConfigFile, b.Config, 0o644)
		}
	}
	fmt.Fprintf(env.Out, "restored node %s of runtime %s and %d credentials\n", id.NodeName, id.RuntimeName, len(creds))
	if in.hostInstalled() {
		_ = in.hostStop()
		return in.hostStart(ctx)
	}
	return nil
}

func (in *Installation) dmgSwitchAccount(ctx context.Context, dc DmgCommand) error {
	env := in.Env
	if env.NoService {
		return fmt.Errorf("%w: -SwitchServiceAccount: this is a --no-service installation: there is no service", exitcode.ErrUsage)
	}
	env.Props = PropertySet{"SERVICEACCOUNT": dc.Args[0]}
	if len(dc.Args) > 1 && dc.Args[1] != "" {
		env.Props["SERVICEPASSWORD"] = dc.Args[1]
	}
	s := &servicesStep{GOOS: in.goos, SM: in.sm, Run: execRunner{}}
	_ = in.hostStop()
	if err := s.Apply(ctx, env); err != nil {
		return err
	}
	fmt.Fprintf(env.Out, "host service now runs as %s\n", dc.Args[0])
	return in.hostStart(ctx)
}

// dmgLogLevels maps dmgcmd's levels to shir.toml's.
var dmgLogLevels = map[string]string{"Off": "error", "Error": "error", "Warning": "warn", "Info": "info", "Verbose": "debug"}

func (in *Installation) dmgLogLevel(level string) error {
	path := in.Env.Paths.ConfigFile
	c, err := nodeconfig.Load(path, true)
	if err != nil {
		return err
	}
	c.LogLevel = dmgLogLevels[level]
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
	note := ""
	if level == "Off" {
		note = " (Off keeps errors: shir always logs them)"
	}
	fmt.Fprintf(in.Env.Out, "log level set to %s%s; restart the host service (-r) to apply it\n", c.LogLevel, note)
	return nil
}

// hostInstalled reports whether there is a host to restart.
func (in *Installation) hostInstalled() bool {
	if in.Env.NoService {
		_, err := os.Stat(filepath.Join(in.Env.Paths.StateDir, PIDFile))
		return err == nil
	}
	return in.Env.Journal.done("services")
}

func (in *Installation) hostStart(ctx context.Context) error {
	s := &startStep{GOOS: in.goos, SM: in.sm}
	if !in.Env.NoService {
		h, _ := serviceNames(in.goos)
		if err := in.sm.Start(h); err != nil {
			return fmt.Errorf("start the host service %s: %w", h, err)
		}
		fmt.Fprintf(in.Env.Out, "host service %s started\n", h)
		return nil
	}
	if err := s.Apply(ctx, in.Env); err != nil {
		return err
	}
	fmt.Fprintln(in.Env.Out, "host process started")
	return nil
}

func (in *Installation) hostStop() error {
	if !in.Env.NoService {
		h, _ := serviceNames(in.goos)
		if err := in.sm.Stop(h); err != nil {
			return fmt.Errorf("stop the host service %s: %w", h, err)
		}
		fmt.Fprintf(in.Env.Out, "host service %s stopped\n", h)
		return nil
	}
	stopAgent(in.Env)
	fmt.Fprintln(in.Env.Out, "host process stopped")
	return nil
}
