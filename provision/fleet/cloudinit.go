package fleet

import (
	"context"
	"fmt"
	"strings"

	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/templates"
)

// CloudInitOptions choose what CloudInit renders.
type CloudInitOptions struct {
	Config *Config
	// Host takes node name, OS and properties from this host; empty uses
	// the defaults, and the node is named after the VM's host name.
	Host      string
	OS        string // linux or windows; default the host's OS, else linux
	BinaryURL string
	SHA256    string
	// ControlPlane fetches the key for auth_key.control_plane.
	ControlPlane ControlPlane
	Getenv       func(string) string
}

// CloudInit renders first-boot user data (Linux: #cloud-config; Windows: a
// PowerShell script) that installs and registers a node.
func CloudInit(ctx context.Context, o CloudInitOptions) ([]byte, error) {
	c := o.Config
	var h Host
	if o.Host != "" {
		var ok bool
		if h, ok = c.Host(o.Host); !ok {
			return nil, fmt.Errorf("%w: --host: no host named %q in the fleet file", exitcode.ErrUsage, o.Host)
		}
	} else {
		d, errs := resolveHost(c.Defaults, HostSpec{Address: "cloud-init", User: "-", Agent: new(true)})
		if len(errs) > 0 {
			return nil, fmt.Errorf("%w: defaults: %v", exitcode.ErrUsage, errs[0])
		}
		h = d
		h.NodeName = "" // the installer's default: the VM's host name
	}
	goos := or(o.OS, h.OS, "linux")
	if goos != "linux" && goos != "windows" {
		return nil, fmt.Errorf("%w: --os %q must be linux or windows", exitcode.ErrUsage, goos)
	}
	if h.Root != "" {
		return nil, fmt.Errorf("%w: host %s has root: a sandbox host cannot be a cloud VM", exitcode.ErrUsage, h.Name)
	}
	if o.ControlPlane == nil && c.AuthKey.ControlPlane != "" {
		return nil, fmt.Errorf("%w: auth_key.control_plane needs the control plane", exitcode.ErrUsage)
	}
	r := newRunner(Options{Config: c, Hosts: []Host{}, ControlPlane: o.ControlPlane, Getenv: o.Getenv})
	key, err := r.authKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", exitcode.ErrUsage, err)
	}
	var args []string
	if h.NodeName != "" {
		args = append(args, "NODENAME="+h.NodeName)
	}
	for _, k := range sortedKeys(h.Properties) {
		args = append(args, k+"="+h.Properties[k])
	}
	ci := templates.CloudInit{BinaryURL: o.BinaryURL, SHA256: strings.ToLower(o.SHA256), AuthKey: key, Args: args}
	var b []byte
	if goos == "windows" {
		b, err = templates.RenderWindowsInit(ci)
	} else {
		b, err = templates.RenderCloudInit(ci)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s", exitcode.ErrUsage, strings.TrimPrefix(err.Error(), "render cloud-init: "))
	}
	return b, nil
}
