package register

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v3/host"
	"github.com/shirou/gopsutil/v3/mem"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/internal/netproxy"
	sec "github.com/shirhq/shir/internal/secret"
)

// IdentityFile is the sealed node identity in the state directory.
const IdentityFile = "identity.sealed"

// Identity is what a registered node keeps: who it is, where its control
// plane is, how to trust it, and its bearer token (a secret: String and the
// JSON of errors never show it).
type Identity struct {
	NodeID      string `json:"nodeId"`
	NodeName    string `json:"nodeName"`
	RuntimeID   string `json:"runtimeId"`
	RuntimeName string `json:"runtimeName"`
	Endpoint    string `json:"endpoint"`           // https URL of the control plane
	CASHA256    string `json:"caSha256,omitempty"` // hex pin of the server certificate
	Token       string `json:"token"`
	MachineID   string `json:"machineId"`
	// RegisteredAt is when this identity was stored.
	RegisteredAt time.Time `json:"registeredAt"`
	// HeartbeatIntervalSeconds and Concurrency are the server's first word.
	HeartbeatIntervalSeconds int `json:"heartbeatIntervalSeconds,omitempty"`
	Concurrency              int `json:"concurrency,omitempty"`
}

// String is safe to log.
func (id Identity) String() string {
	return fmt.Sprintf("node %s (%s) of runtime %s (%s) at %s", id.NodeName, id.NodeID, id.RuntimeName, id.RuntimeID, id.Endpoint)
}

// Pin returns the certificate pin (nil: verify with system roots).
func (id Identity) Pin() []byte {
	if id.CASHA256 == "" {
		return nil
	}
	b, err := hex.DecodeString(id.CASHA256)
	if err != nil {
		return nil
	}
	return b
}

// TLSConfig trusts exactly the pinned certificate, or system roots.
func (id Identity) TLSConfig() *tls.Config { return api.PinnedTLSConfig(id.Pin()) }

// ErrNotRegistered is returned by Load when the state dir has no identity.
var ErrNotRegistered = errors.New("this node is not registered")

// ErrOtherRuntime is returned by Register when the node is registered with
// another runtime than the key's and Force is not set. The caller says how
// to move it (dmgcmd -k).
var ErrOtherRuntime = errors.New("registered with another runtime")

// Load reads the node identity from stateDir. A missing identity wraps
// ErrNotRegistered; a damaged one wraps secret.ErrCorrupt with a recovery
// hint, and is left untouched.
func Load(stateDir string, p sec.Protector) (Identity, error) {
	path := filepath.Join(stateDir, IdentityFile)
	b, err := sec.ReadFile(path, p)
	if errors.Is(err, os.ErrNotExist) {
		return Identity{}, fmt.Errorf("%w (no %s): register it with shir dmgcmd -rn KEY or shir install AUTHKEY=...", ErrNotRegistered, path)
	}
	if err != nil {
		return Identity{}, fmt.Errorf("node identity: %w; it was not changed: restore the state directory from a backup (shir dmgcmd -ibf FILE PASSWORD) or move %s aside and register again", err, path)
	}
	var id Identity
	if err := json.Unmarshal(b, &id); err != nil || id.NodeID == "" || id.Token == "" || id.Endpoint == "" {
		return Identity{}, fmt.Errorf("node identity %s: %w: incomplete content; restore it from a backup or move it aside and register again", path, sec.ErrCorrupt)
	}
	return id, nil
}

// Save seals id into stateDir atomically.
func Save(stateDir string, p sec.Protector, id Identity) error {
	b, err := json.Marshal(id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	return sec.WriteFile(filepath.Join(stateDir, IdentityFile), p, b)
}

// Options of Register.
type Options struct {
	Key      Key
	NodeName string // "" : the host name
	StateDir string
	// Protector seals the identity; nil: secret.ForStateDir(StateDir).
	Protector sec.Protector
	Proxy     netproxy.Config
	Version   string
	// Machine overrides the collected facts (MachineID "" : computed).
	Machine api.MachineFacts
	// Force replaces an identity of another runtime.
	Force bool
	// Transport overrides the HTTP transport (tests); its TLS config must
	// do the pinning itself.
	Transport http.RoundTripper
	Logger    *slog.Logger
}

// Register registers this node with the control plane of opts.Key and stores
// the identity in opts.StateDir. Registering again (same machine and state
// dir) is idempotent: same node ID, new token.
//
// Errors: refusals by the control plane (unknown runtime, wrong or
// regenerated key, runtime full, node name taken) and a server certificate
// that does not match the key's pin wrap exitcode.ErrRegistration; an
// unreachable server names the URL and the proxy. No error contains the key
// secret or the token.
func Register(ctx context.Context, opts Options) (Identity, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Key.Endpoint == nil {
		return Identity{}, fmt.Errorf("%w: no authentication key", exitcode.ErrUsage)
	}
	if opts.StateDir == "" {
		return Identity{}, fmt.Errorf("%w: no state directory", exitcode.ErrUsage)
	}
	p := opts.Protector
	if p == nil {
		if err := os.MkdirAll(opts.StateDir, 0o700); err != nil {
			return Identity{}, fmt.Errorf("state dir: %w", err)
		}
		var err error
		if p, err = sec.ForStateDir(opts.StateDir); err != nil {
			return Identity{}, err
		}
	}
	// Never overwrite a damaged identity, nor another runtime's without Force.
	old, err := Load(opts.StateDir, p)
	switch {
	case err == nil:
		if old.RuntimeID != opts.Key.RuntimeID && !opts.Force {
			return Identity{}, fmt.Errorf("%w: %w: this node is registered with runtime %s (%s), the key is for runtime %s (%s)", exitcode.ErrUsage, ErrOtherRuntime, old.RuntimeName, old.RuntimeID, opts.Key.RuntimeName, opts.Key.RuntimeID)
		}
	case errors.Is(err, ErrNotRegistered):
	default:
		return Identity{}, err
	}

	machine := opts.Machine
	if machine.MachineID == "" {
		machine = CollectMachineFacts(ctx, opts.StateDir)
	}
	name := opts.NodeName
	if name == "" {
		name = shortHostname(machine.Hostname)
	}
	if err := api.CheckName(name); err != nil {
		return Identity{}, fmt.Errorf("%w: node name: %v", exitcode.ErrUsage, err)
	}

	rt := opts.Transport
	if rt == nil {
		tr, err := opts.Proxy.Transport(api.PinnedTLSConfig(opts.Key.CASHA256))
		if err != nil {
			return Identity{}, fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
		}
		defer tr.CloseIdleConnections()
		rt = tr
	}
	client := &http.Client{Transport: rt, Timeout: 60 * time.Second}
	reqBody, _ := json.Marshal(api.RegisterRequest{
		RuntimeID: opts.Key.RuntimeID, KeySecret: opts.Key.Secret, NodeName: name,
		Machine: machine, Version: opts.Version,
	})
	u := opts.Key.Endpoint.JoinPath(api.PathRegister).String()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(reqBody))
	if err != nil {
		return Identity{}, fmt.Errorf("register: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	log.Info("registering", "endpoint", opts.Key.Endpoint.String(), "runtime", opts.Key.RuntimeID, "node", name, "proxy", opts.Proxy.String())
	resp, err := client.Do(req)
	if err != nil {
		return Identity{}, TransportError(opts.Key.Endpoint.String(), opts.Proxy, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Identity{}, registrationError(resp)
	}
	var rr api.RegisterResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, api.MaxBodyBytes)).Decode(&rr); err != nil {
		return Identity{}, fmt.Errorf("register: bad response from %s: %w", opts.Key.Endpoint, err)
	}
	if rr.NodeID == "" || rr.NodeToken == "" {
		return Identity{}, fmt.Errorf("register: response from %s has no node id or token", opts.Key.Endpoint)
	}
	id := Identity{
		NodeID: rr.NodeID, NodeName: rr.NodeName, RuntimeID: rr.RuntimeID, RuntimeName: rr.RuntimeName,
		Endpoint: opts.Key.Endpoint.String(), Token: rr.NodeToken, MachineID: machine.MachineID,
		RegisteredAt: time.Now().UTC(), HeartbeatIntervalSeconds: rr.HeartbeatIntervalSeconds, Concurrency: rr.Concurrency,
	}
	if id.NodeName == "" {
		id.NodeName = name
	}
	if id.RuntimeID == "" {
		id.RuntimeID = opts.Key.RuntimeID
	}
	if id.RuntimeName == "" {
		id.RuntimeName = opts.Key.RuntimeName
	}
	if opts.Key.CASHA256 != nil {
		id.CASHA256 = hex.EncodeToString(opts.Key.CASHA256)
	}
	if err := Save(opts.StateDir, p, id); err != nil {
		return Identity{}, fmt.Errorf("store node identity: %w", err)
	}
	log.Info("registered", "node", id.NodeName, "nodeId", id.NodeID, "reregistered", rr.Reregistered)
	return id, nil
}

// TransportError explains a failed request to the control plane: the URL,
// the proxy in use, and a pin mismatch as a registration refusal.
func TransportError(endpoint string, proxy netproxy.Config, err error) error {
	if strings.Contains(err.Error(), "does not match the pinned") {
		return fmt.Errorf("%w: the server at %s is not the one the key names: %v", exitcode.ErrRegistration, endpoint, err)
	}
	return fmt.Errorf("control plane %s unreachable (proxy: %s): %w", endpoint, proxy.String(), err)
}

func registrationError(resp *http.Response) error {
	p := api.ReadProblem(resp)
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w: the control plane does not accept this key (unknown runtime, or the key was regenerated): %v", exitcode.ErrRegistration, p)
	case http.StatusConflict:
		return fmt.Errorf("%w: %v", exitcode.ErrRegistration, p)
	case http.StatusBadRequest:
		if p.Field != "" {
			return fmt.Errorf("%w: field %s: %v", exitcode.ErrRegistration, p.Field, p)
		}
		return fmt.Errorf("%w: %v", exitcode.ErrRegistration, p)
	case http.StatusTooManyRequests:
		return fmt.Errorf("register: rate limited, retry after %s s: %v", resp.Header.Get("Retry-After"), p)
	default:
		return fmt.Errorf("register: %v", p)
	}
}

// CollectMachineFacts gathers the facts sent at registration. MachineID is
// SHA-256 of the OS machine identity (/etc/machine-id, the Windows
// MachineGuid) and the absolute state directory, so that two sandbox nodes on
// one machine (quickstart, tests) are two nodes while a re-registration of
// the same installation stays idempotent.
func CollectMachineFacts(ctx context.Context, stateDir string) api.MachineFacts {
	m := api.MachineFacts{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU()}
	osID := ""
	if b, err := os.ReadFile("/etc/machine-id"); err == nil {
		osID = strings.TrimSpace(string(b))
	}
	if info, err := host.InfoWithContext(ctx); err == nil {
		m.Hostname = info.Hostname
		m.OSVersion = strings.TrimSpace(info.Platform + " " + info.PlatformVersion)
		if osID == "" {
			osID = info.HostID
		}
	}
	if m.Hostname == "" {
		m.Hostname, _ = os.Hostname()
	}
	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		m.MemoryBytes = vm.Total
	}
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		abs = stateDir
	}
	sum := sha256.Sum256([]byte(osID + "|" + m.Hostname + "|" + abs))
	m.MachineID = hex.EncodeToString(sum[:16])
	return m
}

// shortHostname turns a host name into a valid node name.
func shortHostname(h string) string {
	h, _, _ = strings.Cut(h, ".")
	var b strings.Builder
	for _, r := range h {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" || s[0] == '-' || s[0] == '_' {
		s = "node" + s
	}
	return s
}
