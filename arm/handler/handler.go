package handler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shirhq/shir/internal/atomicfile"
	"github.com/shirhq/shir/internal/exitcode"
)

// Installer runs the install pipeline with installer properties (AUTHKEY,
// NODENAME, ...) and reports progress lines. Package provision provides the
// real one; tests use a fake.
type Installer interface {
	Install(ctx context.Context, props map[string]string, progress func(string)) error
}

// Uninstaller is implemented by installers that can remove the node.
type Uninstaller interface {
	Uninstall(ctx context.Context, progress func(string)) error
}

// InstallerFunc adapts a function to Installer.
type InstallerFunc func(ctx context.Context, props map[string]string, progress func(string)) error

func (f InstallerFunc) Install(ctx context.Context, props map[string]string, progress func(string)) error {
	return f(ctx, props, progress)
}

// Operations of the handler (the five commands of HandlerManifest.json).
const (
	OpInstall   = "install"
	OpEnable    = "enable"
	OpDisable   = "disable"
	OpUpdate    = "update"
	OpUninstall = "uninstall"
)

// Ops lists the operations in manifest order.
var Ops = []string{OpInstall, OpEnable, OpDisable, OpUpdate, OpUninstall}

// DefaultTimeouts are a little below the agent's limits (enable 300 s,
// install/update/disable 900 s, uninstall 300 s), so that the handler writes
// a terminal status before the agent kills it.
var DefaultTimeouts = map[string]time.Duration{
	OpInstall: 870 * time.Second, OpEnable: 285 * time.Second, OpDisable: 870 * time.Second,
	OpUpdate: 870 * time.Second, OpUninstall: 285 * time.Second,
}

// Options configure a Handler. Zero values get the documented defaults.
type Options struct {
	// Root is where HandlerEnvironment.json is looked for (and its parent);
	// default: the folder of the running executable.
	Root string
	// Getenv reads the agent's variables (ConfigSequenceNumber); default os.Getenv.
	Getenv    func(string) string
	Installer Installer
	// Decrypter opens protected settings; default CertDir{CertDir}.
	Decrypter Decrypter
	// CertDir holds <THUMBPRINT>.crt/.prv; default configFolder/../.. (the
	// agent's /var/lib/waagent).
	CertDir string
	// StateDir survives updates (the update marker); default: a folder next
	// to the handler root.
	StateDir          string
	Timeouts          map[string]time.Duration
	HeartbeatInterval time.Duration // default 60 s
	Logger            *slog.Logger
	Now               func() time.Time
}

// Handler runs one operation of the VM-extension contract.
type Handler struct {
	o    Options
	env  Environment
	root string
}

// ErrFailed is wrapped by Run when the operation failed and its status file
// says why.
var ErrFailed = errors.New("extension operation failed")

// New locates HandlerEnvironment.json and returns a Handler.
func New(o Options) (*Handler, error) {
	if o.Root == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("handler root: %w", err)
		}
		o.Root = filepath.Dir(exe)
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 60 * time.Second
	}
	env, root, err := FindEnvironment(o.Root)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", exitcode.ErrPrereq, err)
	}
	if o.CertDir == "" {
		o.CertDir = filepath.Clean(filepath.Join(env.ConfigFolder, "..", ".."))
	}
	if o.Decrypter == nil {
		o.Decrypter = CertDir{Dir: o.CertDir}
	}
	if o.StateDir == "" {
		o.StateDir = filepath.Join(filepath.Dir(root), "shir-handler-state")
	}
	return &Handler{o: o, env: env, root: root}, nil
}

// Environment returns the parsed HandlerEnvironment.json.
func (h *Handler) Environment() Environment { return h.env }

// Run performs op. Its error (nil on success) decides the exit code; the
// status file carries the details for the agent.
func (h *Handler) Run(ctx context.Context, op string) error {
	timeout, ok := DefaultTimeouts[op]
	if !ok {
		return fmt.Errorf("%w: unknown handler operation %q (want one of %s)", exitcode.ErrUsage, op, strings.Join(Ops, ", "))
	}
	if t, ok := h.o.Timeouts[op]; ok && t > 0 {
		timeout = t
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	h.o.Logger.Info("handler operation", "op", op, "root", h.root, "name", h.env.Name)
	switch op {
	case OpInstall:
		return nil // nothing to do before enable; no status for install
	case OpEnable:
		return h.enable(ctx, timeout)
	case OpDisable:
		return h.simpleStatus(OpDisable, "Disable succeeded: the node keeps running; shir's services are managed by shir itself")
	case OpUpdate:
		if err := os.MkdirAll(h.o.StateDir, 0o700); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		if err := atomicfile.Write(h.updateMarker(), []byte(h.o.Getenv("VERSION")), 0o600); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		return h.simpleStatus(OpUpdate, "Update succeeded")
	case OpUninstall:
		return h.uninstall(ctx)
	}
	return nil
}

func (h *Handler) updateMarker() string { return filepath.Join(h.o.StateDir, "update-in-progress") }

// uninstall: after an update the old version's uninstall runs last and must
// keep the node; only a real removal tears it down.
func (h *Handler) uninstall(ctx context.Context) error {
	if _, err := os.Stat(h.updateMarker()); err == nil {
		h.o.Logger.Info("uninstall after an update: the node is kept")
		return os.Remove(h.updateMarker())
	}
	u, ok := h.o.Installer.(Uninstaller)
	if !ok {
		h.o.Logger.Info("uninstall: the installer cannot remove the node; nothing to do")
		return nil
	}
	if err := u.Uninstall(ctx, func(s string) { h.o.Logger.Info("uninstall", "progress", s) }); err != nil {
		return fmt.Errorf("%w: uninstall: %v", ErrFailed, err)
	}
	return nil
}

// currentSeq resolves the sequence number: ConfigSequenceNumber, else the
// highest <N>.settings.
func (h *Handler) currentSeq() (int, error) {
	if v := h.o.Getenv("ConfigSequenceNumber"); v != "" {
		n, err := ParseSeq(v)
		if err != nil {
			return 0, fmt.Errorf("ConfigSequenceNumber: %w", err)
		}
		return n, nil
	}
	return HighestSeq(h.env.ConfigFolder)
}

func (h *Handler) simpleStatus(op, msg string) error {
	seq, err := h.currentSeq()
	if err != nil {
		seq = 0
	}
	return WriteStatus(h.env.StatusFolder, seq, h.o.Now(), StatusBody{
		Operation: opName(op), Status: StatusSuccess, Code: CodeOK,
		FormattedMessage: FormattedMessage{Message: msg},
	})
}

func opName(op string) string {
	if op == "" {
		return ""
	}
	return strings.ToUpper(op[:1]) + op[1:]
}

// enable runs the install pipeline for the current settings.
func (h *Handler) enable(ctx context.Context, timeout time.Duration) error {
	seq, err := h.currentSeq()
	if err != nil {
		// No sequence number, no status file name: the exit code and stderr
		// are all the agent gets.
		return fmt.Errorf("%w: enable: %v", exitcode.ErrUsage, err)
	}
	st := &statusWriter{h: h, seq: seq}
	mr, err := ReadMRSeq(h.root)
	if err != nil {
		h.o.Logger.Warn("mrseq unreadable, treating as none", "err", err)
		mr = -1
	}
	if mr >= seq {
		// Replay of an applied (or older) sequence number: do not run again.
		h.o.Logger.Info("enable: sequence number already processed", "seq", seq, "mrseq", mr)
		if _, err := os.Stat(st.path()); err != nil {
			return st.write(StatusSuccess, CodeOK, fmt.Sprintf("Enable succeeded: settings %d were already applied", seq), nil)
		}
		return nil
	}
	if err := st.write(StatusTransitioning, CodeOK, "Enable in progress: reading settings", nil); err != nil {
		return err
	}
	cfg, code, err := h.loadConfig(seq)
	if err != nil {
		return st.fail(code, "Enable failed: "+err.Error(), cfg.Secrets)
	}
	stopHB := h.startHeartbeat(ctx)
	defer stopHB()

	var mu sync.Mutex
	var lines []string
	progress := func(s string) {
		s = redact(s, cfg.Secrets)
		mu.Lock()
		lines = append(lines, s)
		if len(lines) > 50 {
			lines = lines[len(lines)-50:]
		}
		msg := "Enable in progress: " + s
		sub := progressSubstatus(lines)
		mu.Unlock()
		if err := st.write(StatusTransitioning, CodeOK, msg, sub); err != nil {
			h.o.Logger.Warn("status write failed", "err", err)
		}
	}
	err = h.o.Installer.Install(ctx, map[string]string(cfg.Props), progress)
	mu.Lock()
	sub := progressSubstatus(lines)
	mu.Unlock()
	switch {
	case err == nil:
		if werr := st.write(StatusSuccess, CodeOK, fmt.Sprintf("Enable succeeded: node %s installed and registered", nodeNameOf(cfg)), sub); werr != nil {
			return werr
		}
		if werr := WriteMRSeq(h.root, seq); werr != nil {
			return werr
		}
		h.scrubOldSettings(seq)
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return st.failSub(CodeTimeout, fmt.Sprintf("Enable failed: timed out after %s (the agent's limit for enable is 300 s); run enable again with new settings to resume", timeout), sub, cfg.Secrets)
	default:
		return st.failSub(CodeInstallFailed, "Enable failed: install: "+err.Error(), sub, cfg.Secrets)
	}
}

func nodeNameOf(cfg Config) string {
	if cfg.NodeName != "" {
		return strconv.Quote(cfg.NodeName)
	}
	return "(host name)"
}

func progressSubstatus(lines []string) []SubStatus {
	if len(lines) == 0 {
		return nil
	}
	return []SubStatus{{Name: "progress", Status: StatusSuccess, FormattedMessage: &FormattedMessage{Lang: "en-US", Message: strings.Join(lines, "\n")}}}
}

// loadConfig reads, decrypts and validates the settings of seq. The code is
// the status code for an error.
func (h *Handler) loadConfig(seq int) (Config, int, error) {
	p := filepath.Join(h.env.ConfigFolder, strconv.Itoa(seq)+".settings")
	data, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Config{}, CodeInvalidSetting, fmt.Errorf("settings file %s for sequence number %d does not exist", p, seq)
		}
		return Config{}, CodeOther, fmt.Errorf("read settings: %w", err)
	}
	hs, err := ParseSettings(data)
	if errors.Is(err, ErrNoSettings) {
		return Config{}, CodeInvalidSetting, fmt.Errorf("settings file %s is empty: the extension needs protectedSettings.authKey", filepath.Base(p))
	}
	if err != nil {
		return Config{}, CodeInvalidSetting, fmt.Errorf("%s: %w", filepath.Base(p), err)
	}
	var plain []byte
	if hs.Protected != "" {
		der, err := DecodeProtected(hs.Protected)
		if err != nil {
			return Config{}, CodeInvalidSetting, err
		}
		if plain, err = h.o.Decrypter.Decrypt(hs.Thumbprint, der); err != nil {
			return Config{}, CodeInvalidSetting, fmt.Errorf("protectedSettings: %w", err)
		}
	}
	cfg, err := DecodeConfig(hs.Public, plain)
	if err != nil {
		return cfg, CodeInvalidSetting, err // cfg.Secrets are set for scrubbing
	}
	return cfg, 0, nil
}

// scrubOldSettings empties older settings files after a successful enable,
// so that encrypted secrets do not pile up (as CSE does).
func (h *Handler) scrubOldSettings(seq int) {
	ents, err := os.ReadDir(h.env.ConfigFolder)
	if err != nil {
		return
	}
	for _, e := range ents {
		m := settingsNameRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		if n, err := ParseSeq(m[1]); err == nil && n < seq {
			_ = os.Truncate(filepath.Join(h.env.ConfigFolder, e.Name()), 0)
		}
	}
}

// startHeartbeat writes the heartbeat file now and every interval until the
// returned stop is called (then it writes a final Ready).
func (h *Handler) startHeartbeat(ctx context.Context) (stop func()) {
	if h.env.HeartbeatFile == "" {
		return func() {}
	}
	beat := func(status, msg string) {
		if err := WriteHeartbeat(h.env.HeartbeatFile, status, msg); err != nil {
			h.o.Logger.Warn("heartbeat write failed", "err", err)
		}
	}
	beat(HeartbeatNotReady, "shir is installing")
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(h.o.HeartbeatInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				beat(HeartbeatNotReady, "shir is installing")
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		beat(HeartbeatReady, "shir extension enable finished")
	}
}

// statusWriter writes the status of one sequence number.
type statusWriter struct {
	h   *Handler
	seq int
}

func (s *statusWriter) path() string {
	return filepath.Join(s.h.env.StatusFolder, strconv.Itoa(s.seq)+".status")
}

func (s *statusWriter) write(status string, code int, msg string, sub []SubStatus) error {
	return WriteStatus(s.h.env.StatusFolder, s.seq, s.h.o.Now(), StatusBody{
		Name: "shir", Operation: "Enable", Status: status, Code: code,
		FormattedMessage: FormattedMessage{Lang: "en-US", Message: msg}, Substatus: sub,
	})
}

func (s *statusWriter) fail(code int, msg string, secrets []string) error {
	return s.failSub(code, msg, nil, secrets)
}

// failSub writes an error status (message scrubbed of secrets) with an
// ErrorClarification substatus, stores mrseq (a failed sequence number is
// not retried until the settings change) and returns ErrFailed.
func (s *statusWriter) failSub(code int, msg string, sub []SubStatus, secrets []string) error {
	msg = redact(msg, secrets)
	sub = append(sub, SubStatus{Name: "ErrorClarification", Status: StatusError, Code: code, FormattedMessage: &FormattedMessage{Lang: "en-US", Message: msg}})
	if err := s.write(StatusError, code, msg, sub); err != nil {
		return errors.Join(fmt.Errorf("%w: %s", ErrFailed, msg), err)
	}
	if err := WriteMRSeq(s.h.root, s.seq); err != nil {
		s.h.o.Logger.Warn("mrseq write failed", "err", err)
	}
	return fmt.Errorf("%w: %s", ErrFailed, msg)
}
