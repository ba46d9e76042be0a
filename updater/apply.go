package updater

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"aead.dev/minisign"
	"github.com/minio/selfupdate"
)

// DefaultSizeLimit bounds an artifact download (512 MiB, as tailscale's distsign).
const DefaultSizeLimit = 1 << 29

// Download fetches a's bytes into part, resuming from what part already
// holds, and checks size and SHA-256. progress (optional) sees bytes done
// and the total. A hash mismatch removes part so the next try starts over.
func Download(ctx context.Context, src Source, rel Release, a Artifact, part string, limit int64, progress func(done, total int64)) error {
	if limit <= 0 {
		limit = DefaultSizeLimit
	}
	if a.Size > limit {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, a.Size, limit)
	}
	if err := os.MkdirAll(filepath.Dir(part), 0o700); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		done, err := downloadOnce(ctx, src, rel, a, part, progress)
		if err == nil {
			break
		}
		if errors.Is(err, ErrSizeMismatch) || errors.Is(err, context.Canceled) || done < 0 {
			return err
		}
		lastErr = err
		if attempt == 3 {
			return fmt.Errorf("download %s: %w", a.URL, lastErr)
		}
	}
	sum, err := fileSHA256(part)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if hex.EncodeToString(sum) != a.SHA256 {
		os.Remove(part)
		return fmt.Errorf("%w: got %x, manifest says %s", ErrHashMismatch, sum, a.SHA256)
	}
	return nil
}

// downloadOnce appends to part from its current size; done < 0 means do not retry.
func downloadOnce(ctx context.Context, src Source, rel Release, a Artifact, part string, progress func(done, total int64)) (int64, error) {
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return -1, fmt.Errorf("download: %w", err)
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return -1, err
	}
	if have > a.Size {
		have = 0
	}
	if have == a.Size {
		return have, nil
	}
	rc, start, err := src.Open(ctx, rel, a, have)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	if err := f.Truncate(start); err != nil {
		return -1, err
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return -1, err
	}
	w := &progressWriter{w: f, done: start, total: a.Size, fn: progress}
	if progress != nil {
		progress(start, a.Size)
	}
	n, err := io.Copy(w, io.LimitReader(rc, a.Size-start+1))
	if err != nil {
		return start + n, fmt.Errorf("download: %w", err)
	}
	if got := start + n; got != a.Size {
		if got > a.Size {
			os.Remove(part)
			return -1, fmt.Errorf("%w: more than the %d bytes of the manifest", ErrSizeMismatch, a.Size)
		}
		return got, fmt.Errorf("download: %w after %d of %d bytes", io.ErrUnexpectedEOF, got, a.Size)
	}
	return a.Size, f.Sync()
}

type progressWriter struct {
	w           io.Writer
	done, total int64
	fn          func(done, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	if p.fn != nil {
		p.fn(p.done, p.total)
	}
	return n, err
}

func fileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// VerifyArtifact checks bin against the manifest: size, SHA-256 and the
// artifact's minisign signature by the manifest's signing key.
func VerifyArtifact(bin []byte, a Artifact, signer minisign.PublicKey) error {
	if int64(len(bin)) != a.Size {
		return fmt.Errorf("%w: %d bytes, manifest says %d", ErrSizeMismatch, len(bin), a.Size)
	}
	sum := sha256.Sum256(bin)
	if hex.EncodeToString(sum[:]) != a.SHA256 {
		return fmt.Errorf("%w: got %x, manifest says %s", ErrHashMismatch, sum, a.SHA256)
	}
	if _, err := VerifyWith([]minisign.PublicKey{signer}, bin, []byte(a.Minisig)); err != nil {
		return fmt.Errorf("%w: %v", ErrArtifactSigBad, err)
	}
	return nil
}

// ReplaceBinary installs bin at target with minio/selfupdate, which checks
// the SHA-256 and the minisign signature again, stages the new file next to
// target and renames: target moves to oldSave (kept for rollback), the new
// file to target. On Windows the running exe is renamed aside, which
// Windows allows (replace_test.go runs this under Wine).
func ReplaceBinary(target, oldSave string, bin []byte, a Artifact, signer minisign.PublicKey) error {
	sum, err := hex.DecodeString(a.SHA256)
	if err != nil {
		return fmt.Errorf("%w: sha256", ErrManifest)
	}
	sigFile, err := os.CreateTemp(filepath.Dir(oldSave), ".shir-artifact-*.minisig")
	if err != nil {
		return fmt.Errorf("replace binary: %w", err)
	}
	defer os.Remove(sigFile.Name())
	_, err = sigFile.WriteString(a.Minisig)
	if cerr := sigFile.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("replace binary: %w", err)
	}
	v := selfupdate.NewVerifier()
	if err := v.LoadFromFile(sigFile.Name(), signer.String()); err != nil {
		return fmt.Errorf("replace binary: load signature: %w", err)
	}
	err = selfupdate.Apply(bytes.NewReader(bin), selfupdate.Options{
		TargetPath:  target,
		OldSavePath: oldSave,
		Checksum:    sum,
		Verifier:    v,
	})
	if err != nil {
		if rerr := selfupdate.RollbackError(err); rerr != nil {
			return fmt.Errorf("replace binary: %w (and restoring the old binary failed: %v)", err, rerr)
		}
		return fmt.Errorf("replace binary: %w", err)
	}
	return nil
}

// Relink makes link the same file as target (a hard link, or a copy where
// links are not possible) through a temp name and a rename. A missing link
// or a symbolic link is left alone.
func Relink(target, link string) error {
	fi, err := os.Lstat(link)
	if errors.Is(err, os.ErrNotExist) || err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil
	}
	if err != nil {
		return err
	}
	if ti, err := os.Stat(target); err == nil && os.SameFile(fi, ti) {
		return nil
	}
	tmp := link + ".new"
	_ = os.Remove(tmp)
	if err := os.Link(target, tmp); err != nil {
		if err := copyExecutable(target, tmp); err != nil {
			return fmt.Errorf("relink %s: %w", link, err)
		}
	}
	if err := os.Rename(tmp, link); err != nil {
		// On Windows a name of a running image (the old binary still runs
		// as the host or the updater) cannot be replaced, but it can be
		// renamed: move it aside, put the new link in place, and delete the
		// old name when it is no longer in use (now, or at a later relink).
		aside := filepath.Join(filepath.Dir(link), "."+filepath.Base(link)+".old")
		_ = os.Remove(aside)
		if aerr := os.Rename(link, aside); aerr != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("relink %s: %w", link, err)
		}
		if err := os.Rename(tmp, link); err != nil {
			_ = os.Rename(aside, link)
			_ = os.Remove(tmp)
			return fmt.Errorf("relink %s: %w", link, err)
		}
		_ = os.Remove(aside)
	}
	return nil
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(dst)
		return err
	}
	return nil
}

// RestoreBinary puts oldSave back at target; the failed binary is kept as
// target+".bad" for diagnosis. It works while target runs (on Windows too:
// a running exe can be renamed).
func RestoreBinary(target, oldSave string) error {
	if _, err := os.Stat(oldSave); err != nil {
		return fmt.Errorf("restore old binary: %w", err)
	}
	bad := target + ".bad"
	_ = os.Remove(bad)
	if err := os.Rename(target, bad); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("restore old binary: move failed binary aside: %w", err)
	}
	if err := os.Rename(oldSave, target); err != nil {
		_ = os.Rename(bad, target)
		return fmt.Errorf("restore old binary: %w", err)
	}
	return nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
