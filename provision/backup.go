package provision

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"filippo.io/age"
)

// Backup is what dmgcmd -gbf writes and -ibf restores: the node identity and
// the linked-service credentials, so that a node can move to a new machine.
// The file is age-encrypted with a scrypt recipient (the password); inside is
// JSON. The secrets inside are plaintext only within the encrypted file and
// are sealed again with the new machine's key on import.
type Backup struct {
	Format      int               `json:"format"`
	Created     time.Time         `json:"created"`
	Hostname    string            `json:"hostname"`
	Version     string            `json:"shirVersion"`
	Identity    json.RawMessage   `json:"identity"`
	Credentials map[string][]byte `json:"credentials,omitempty"`
	Config      []byte            `json:"config,omitempty"`
}

const backupFormat = 1

// maxBackupBytes bounds what ReadBackup decrypts (credentials are small).
const maxBackupBytes = 16 << 20

// ErrBackupPassword is returned for a wrong password (or a file that is not
// a shir backup at all).
var ErrBackupPassword = errors.New("wrong backup password, or not a shir backup file")

// backupWorkFactor is scrypt's log2(N): 18 is age's default (about a second
// on a small machine). Tests lower it.
var backupWorkFactor = 18

// minPasswordLen is the shortest backup password accepted.
const minPasswordLen = 8

// WriteBackup encrypts b with password and writes it to w.
func WriteBackup(w io.Writer, b Backup, password string) error {
	if len(password) < minPasswordLen {
		return fmt.Errorf("backup password: must be at least %d characters", minPasswordLen)
	}
	if len(b.Identity) == 0 {
		return errors.New("backup: no node identity to back up (is this node registered?)")
	}
	b.Format = backupFormat
	r, err := age.NewScryptRecipient(password)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	r.SetWorkFactor(backupWorkFactor)
	plain, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	enc, err := age.Encrypt(w, r)
	if err != nil {
		return fmt.Errorf("backup: encrypt: %w", err)
	}
	if _, err := enc.Write(plain); err != nil {
		return fmt.Errorf("backup: encrypt: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("backup: encrypt: %w", err)
	}
	return nil
}

// ReadBackup decrypts and validates a backup. A wrong password gives
// ErrBackupPassword; a truncated or tampered file gives an error that says so.
func ReadBackup(r io.Reader, password string) (Backup, error) {
	id, err := age.NewScryptIdentity(password)
	if err != nil {
		return Backup{}, fmt.Errorf("backup password: %w", err)
	}
	id.SetMaxWorkFactor(22)
	dec, err := age.Decrypt(r, id)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return Backup{}, ErrBackupPassword
		}
		return Backup{}, fmt.Errorf("backup file is not readable (truncated, tampered or not a shir backup): %w", err)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(dec, maxBackupBytes+1))
	if err != nil {
		return Backup{}, fmt.Errorf("backup file is damaged (truncated or tampered): %w", err)
	}
	if n > maxBackupBytes {
		return Backup{}, fmt.Errorf("backup file is larger than %d bytes", maxBackupBytes)
	}
	var b Backup
	d := json.NewDecoder(&buf)
	d.DisallowUnknownFields()
	if err := d.Decode(&b); err != nil {
		return Backup{}, fmt.Errorf("backup content is not valid: %w", err)
	}
	if b.Format != backupFormat {
		return Backup{}, fmt.Errorf("backup format %d is not supported (want %d)", b.Format, backupFormat)
	}
	if len(b.Identity) == 0 || !json.Valid(b.Identity) {
		return Backup{}, errors.New("backup holds no valid node identity")
	}
	return b, nil
}
