package fleet

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ErrHostKey is wrapped by errors about unknown or changed host keys.
var ErrHostKey = errors.New("host key not trusted")

// HostKeys verifies host keys against a known_hosts file, like OpenSSH's
// StrictHostKeyChecking=yes, or =accept-new when AcceptNew is set: unknown
// hosts are added to the file, changed keys are always refused. Nothing is
// ever trusted silently.
type HostKeys struct {
	File      string // known_hosts path
	AcceptNew bool

	mu sync.Mutex
}

func (k *HostKeys) load() (ssh.HostKeyCallback, error) {
	if _, err := os.Stat(k.File); errors.Is(err, os.ErrNotExist) {
		if !k.AcceptNew {
			return nil, fmt.Errorf("%w: known_hosts file %s does not exist (create it with ssh-keyscan, or use --accept-new)", ErrHostKey, k.File)
		}
		if err := os.MkdirAll(filepath.Dir(k.File), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(k.File, nil, 0o600); err != nil {
			return nil, fmt.Errorf("create %s: %w", k.File, err)
		}
	}
	cb, err := knownhosts.New(k.File)
	if err != nil {
		return nil, fmt.Errorf("read known_hosts %s: %w", k.File, err)
	}
	return cb, nil
}

// algorithms returns the host key algorithms known_hosts has for addr, so
// that the server is asked for a key type we can verify (a host known by its
// ed25519 key must not look "changed" because it offered RSA first).
func (k *HostKeys) algorithms(addr string) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	cb, err := k.load()
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if err := cb(addr, fakeAddr(addr), probeKey); !errors.As(err, &ke) {
		return nil
	}
	var algs []string
	seen := map[string]bool{}
	for _, w := range ke.Want {
		t := w.Key.Type()
		cands := []string{t}
		if t == ssh.KeyAlgoRSA {
			cands = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
		for _, a := range cands {
			if !seen[a] {
				seen[a] = true
				algs = append(algs, a)
			}
		}
	}
	return algs
}

// Callback is the ssh.HostKeyCallback.
func (k *HostKeys) Callback(hostname string, remote net.Addr, key ssh.PublicKey) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	cb, err := k.load()
	if err != nil {
		return err
	}
	err = cb(hostname, remote, key)
	var ke *knownhosts.KeyError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ke) && len(ke.Want) > 0:
		return fmt.Errorf("%w: the host key of %s CHANGED: it offered %s %s, %s:%d has another key (if the host was rebuilt, remove the old line with ssh-keygen -R)",
			ErrHostKey, hostname, key.Type(), ssh.FingerprintSHA256(key), ke.Want[0].Filename, ke.Want[0].Line)
	case errors.As(err, &ke):
		if !k.AcceptNew {
			return fmt.Errorf("%w: %s is not in %s (it offered %s %s; add it after checking the fingerprint, or use --accept-new)",
				ErrHostKey, hostname, k.File, key.Type(), ssh.FingerprintSHA256(key))
		}
		line := knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key)
		f, err := os.OpenFile(k.File, os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("add %s to %s: %w", hostname, k.File, err)
		}
		_, werr := fmt.Fprintln(f, line)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("add %s to %s: %w", hostname, k.File, werr)
		}
		return nil
	default:
		return fmt.Errorf("%w: %s: %w", ErrHostKey, hostname, err)
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

// probeKey is a key no host has: checking it reveals the known keys.
var probeKey = func() ssh.PublicKey {
	k, _ := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	return k
}()

// Dialer opens SSH connections to hosts.
type Dialer struct {
	HostKeys *HostKeys
	Timeout  time.Duration // connect + handshake; default 15 s
	// Path resolves identity file paths (relative to the fleet file).
	Path func(string) string
}

// Conn is an SSH connection to one host.
type Conn struct {
	c *ssh.Client
}

// Dial connects to h and authenticates with its identity file or the agent.
func (d *Dialer) Dial(ctx context.Context, h Host) (*Conn, error) {
	var auths []ssh.AuthMethod
	if h.IdentityFile != "" {
		p := h.IdentityFile
		if d.Path != nil {
			p = d.Path(p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("identity_file: %w", err)
		}
		signer, err := ssh.ParsePrivateKey(b)
		if err != nil {
			var pp *ssh.PassphraseMissingError
			if errors.As(err, &pp) {
				return nil, fmt.Errorf("identity_file %s is encrypted: load it into ssh-agent and set agent: true", p)
			}
			return nil, fmt.Errorf("identity_file %s: %w", p, err)
		}
		auths = append(auths, ssh.PublicKeys(signer))
	}
	if h.Agent {
		sock := os.Getenv("SSH_AUTH_SOCK")
		if sock == "" {
			if len(auths) == 0 {
				return nil, errors.New("agent: SSH_AUTH_SOCK is not set (start ssh-agent, or set identity_file)")
			}
		} else {
			ac, err := net.Dial("unix", sock)
			if err != nil {
				return nil, fmt.Errorf("agent: %w", err)
			}
			defer ac.Close() // signing happens during the handshake only
			auths = append(auths, ssh.PublicKeysCallback(agent.NewClient(ac).Signers))
		}
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	cfg := &ssh.ClientConfig{
		User:              h.User,
		Auth:              auths,
		HostKeyCallback:   d.HostKeys.Callback,
		HostKeyAlgorithms: d.HostKeys.algorithms(h.Addr()),
		Timeout:           timeout,
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := (&net.Dialer{}).DialContext(dctx, "tcp", h.Addr())
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", h.Addr(), err)
	}
	_ = nc.SetDeadline(time.Now().Add(timeout))
	cc, chans, reqs, err := ssh.NewClientConn(nc, h.Addr(), cfg)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("ssh %s@%s: %w", h.User, h.Addr(), err)
	}
	_ = nc.SetDeadline(time.Time{})
	return &Conn{c: ssh.NewClient(cc, chans, reqs)}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

// RunResult is the outcome of one remote command.
type RunResult struct {
	Stdout, Stderr []byte
	ExitCode       int // -1 when the command did not report one
}

// Run runs cmd (a command line for the remote shell) with stdin and returns
// its output and exit code. A non-zero exit is not an error; a broken
// connection or a cancelled ctx is.
func (c *Conn) Run(ctx context.Context, cmd string, stdin io.Reader) (RunResult, error) {
	s, err := c.c.NewSession()
	if err != nil {
		return RunResult{ExitCode: -1}, fmt.Errorf("open session: %w", err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout = &limitedBuffer{b: &out, max: 8 << 20}
	s.Stderr = &limitedBuffer{b: &errb, max: 1 << 20}
	if stdin != nil {
		s.Stdin = stdin
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = s.Signal(ssh.SIGTERM)
		_ = s.Close()
		return RunResult{Stdout: out.Bytes(), Stderr: errb.Bytes(), ExitCode: -1}, ctx.Err()
	}
	res := RunResult{Stdout: out.Bytes(), Stderr: errb.Bytes()}
	var ee *ssh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitStatus()
	default:
		res.ExitCode = -1
		return res, fmt.Errorf("run remote command: %w", err)
	}
	return res, nil
}

type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// Upload copies the local file src to the remote path dst over SFTP with
// mode 0700 and returns the SHA-256 of what was sent.
func (c *Conn) Upload(ctx context.Context, src, dst string) (string, error) {
	sc, err := sftp.NewClient(c.c, sftp.UseConcurrentWrites(true))
	if err != nil {
		return "", fmt.Errorf("sftp: %w", err)
	}
	defer sc.Close()
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return "", err
	}
	out, err := sc.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return "", fmt.Errorf("sftp create %s: %w", dst, err)
	}
	h := sha256.New()
	stop := context.AfterFunc(ctx, func() { sc.Close() })
	defer stop()
	// A reader of known length lets sftp keep many writes in flight; a plain
	// io.Reader makes it wait for every 32 KiB packet's reply (31 MB took
	// seconds on loopback). A file that grows meanwhile is caught by the
	// caller, which compares the returned SHA-256 with the expected one.
	_, err = out.ReadFrom(&io.LimitedReader{R: io.TeeReader(in, h), N: fi.Size()})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("sftp write %s: %w", dst, err)
	}
	if err := sc.Chmod(dst, 0o700); err != nil {
		return "", fmt.Errorf("sftp chmod %s: %w", dst, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FileSHA256 hashes a local file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// trimOut is a command's output as one trimmed string.
func trimOut(b []byte) string { return strings.TrimSpace(string(b)) }
