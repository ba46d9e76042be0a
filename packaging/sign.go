package packaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/shirhq/shir/internal/exitcode"
)

// ErrNotSigned is returned by Verify for a file without a valid Authenticode
// signature (unsigned, tampered, or not trusted by the given CA).
var ErrNotSigned = errors.New("no valid Authenticode signature")

// SignOptions describe one Authenticode signature.
type SignOptions struct {
	In, Out   string // file to sign (.exe or .msi); Out may equal In
	Cert, Key string // PEM certificate (chain) and private key
	PassFile  string // optional: file holding the key's password
	Name      string // description shown by Windows; default "shir"
	URL       string // optional: publisher URL
	Timestamp string // optional: RFC 3161 timestamp server URL
	Tool      string // osslsigncode program; default from PATH
	Log       *slog.Logger
}

// Sign signs In with SHA-256 and writes Out (through a temporary file: Out
// is never half-written).
func Sign(ctx context.Context, o SignOptions) error {
	log := orDiscard(o.Log)
	for name, v := range map[string]string{"input": o.In, "certificate": o.Cert, "key": o.Key} {
		if v == "" {
			return fmt.Errorf("%w: sign: the %s file is required", exitcode.ErrUsage, name)
		}
		if _, err := os.Stat(v); err != nil {
			return fmt.Errorf("%w: sign: %s: %w", exitcode.ErrUsage, name, err)
		}
	}
	if o.Out == "" {
		o.Out = o.In
	}
	if o.Name == "" {
		o.Name = "shir"
	}
	prog, err := tool("osslsigncode", o.Tool, "osslsigncode")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.Out), "."+filepath.Base(o.Out)+".sign*")
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	tmp.Close()
	os.Remove(tmp.Name()) // osslsigncode refuses to overwrite
	defer os.Remove(tmp.Name())
	args := []string{"sign", "-certs", o.Cert, "-key", o.Key, "-h", "sha256", "-n", o.Name}
	if o.PassFile != "" {
		args = append(args, "-readpass", o.PassFile)
	}
	if o.URL != "" {
		args = append(args, "-i", o.URL)
	}
	if o.Timestamp != "" {
		args = append(args, "-ts", o.Timestamp)
	}
	args = append(args, "-in", o.In, "-out", tmp.Name())
	if _, err := run(ctx, log, "", prog, args...); err != nil {
		return fmt.Errorf("sign %s: %w", o.In, err)
	}
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if err := os.Rename(tmp.Name(), o.Out); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	log.Info("signed", "file", o.Out)
	return nil
}

// Verify checks the Authenticode signature of file against the CA
// certificates in caFile (PEM). It returns an error wrapping ErrNotSigned
// when the file is unsigned or the signature does not verify.
func Verify(ctx context.Context, file, caFile, toolOverride string) error {
	prog, err := tool("osslsigncode", toolOverride, "osslsigncode")
	if err != nil {
		return err
	}
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("%w: verify: %w", exitcode.ErrUsage, err)
	}
	args := []string{"verify"}
	if caFile != "" {
		args = append(args, "-CAfile", caFile)
	}
	args = append(args, "-in", file)
	if _, err := run(ctx, slog.New(slog.DiscardHandler), "", prog, args...); err != nil {
		return fmt.Errorf("verify %s: %w: %w", file, ErrNotSigned, err)
	}
	return nil
}
