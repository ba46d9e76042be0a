// Package credstore keeps a node's linked-service credentials: named
// user/secret pairs, sealed at rest with internal/secret (DPAPI machine scope
// on Windows, AES-256-GCM with the machine key elsewhere) in one file,
// credentials.sealed in the state directory, rewritten atomically on every
// change.
//
// Secrets never appear in errors or logs; List returns names and users only.
// A damaged file is reported (secret.ErrCorrupt) and never overwritten: Put
// and Delete refuse to run over it, so a restore from backup stays possible.
// The agent and `shir agent credential` may run at once: each change is a
// read-modify-write under an in-process lock plus an exclusive lock file
// (credentials.lock) that stale holders lose after a minute.
//
// # Versions and sync
//
// Every entry carries its Updated time. Delete leaves a tombstone (Deleted,
// no secret) so that a deletion can travel to the other nodes of a runtime;
// Get and List hide tombstones, and tombstones older than TombstoneTTL are
// dropped when the file is next written. A change never moves an entry's
// Updated backwards: a Put over an entry stamped in the future (a peer with a
// fast clock) is stamped one microsecond after it, so the local change still
// wins.
//
// Merge is the pure sync rule: per name, the entry with the later Updated
// wins (last writer wins); on equal times a tombstone wins, then the greater
// (secret, user) pair, so every node picks the same winner whatever the order
// of merges. Snapshot and MergeFrom are the I/O around it that the agent uses
// over its mTLS remote-access channel (package agent); the file is rewritten
// only when a remote entry won.
package credstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/shirhq/shir/internal/secret"
)

// File is the store's file name in the state directory.
const File = "credentials.sealed"

// Limits.
const (
	MaxNameLen   = 128
	MaxSecretLen = 64 << 10
)

// Credential is one stored credential.
type Credential struct {
	Name    string    `json:"name"`
	User    string    `json:"user,omitempty"`
	Secret  string    `json:"secret"`
	Updated time.Time `json:"updated"`
	// Deleted marks a tombstone (no user, no secret).
	Deleted bool `json:"deleted,omitempty"`
}

// String never shows the secret.
func (c Credential) String() string {
	if c.Deleted {
		return fmt.Sprintf("%s (deleted)", c.Name)
	}
	return fmt.Sprintf("%s (user %q, secret <redacted>)", c.Name, c.User)
}

// GoString keeps %#v from printing the secret too.
func (c Credential) GoString() string { return c.String() }

// TombstoneTTL is how long a deletion is remembered (and so can reach a
// node that was offline). A node offline for longer may bring a deleted
// credential back; delete it again there.
const TombstoneTTL = 30 * 24 * time.Hour

// MaxFuture bounds how far in the future a peer's Updated may be (clock
// skew); entries beyond it are refused by MergeFrom.
const MaxFuture = 24 * time.Hour

// ErrNotFound is returned by Get and Delete for an unknown name.
var ErrNotFound = errors.New("credential not found")

// ErrInvalid is wrapped by validation errors.
var ErrInvalid = errors.New("invalid credential")

// Store is the credential store of one state directory.
type Store struct {
	path string
	p    secret.Protector
	mu   sync.Mutex
	now  func() time.Time
}

// Open returns the store in stateDir, sealed with p. It reads nothing yet.
func Open(stateDir string, p secret.Protector) *Store {
	return &Store{path: filepath.Join(stateDir, File), p: p, now: time.Now}
}

type fileV1 struct {
	Version     int                   `json:"version"`
	Credentials map[string]Credential `json:"credentials"`
}

// CheckName validates a credential name: 1-128 letters, digits, '-', '_', '.'.
func CheckName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("%w: name must be 1-%d characters", ErrInvalid, MaxNameLen)
	}
	for i, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("%w: name may contain only letters, digits, '-', '_' and '.' (bad character at position %d)", ErrInvalid, i+1)
		}
	}
	return nil
}

func (s *Store) load() (map[string]Credential, error) {
	b, err := secret.ReadFile(s.path, s.p)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]Credential{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("credential store: %w (restore it from a backup with dmgcmd -ibf, or move it aside to start empty)", err)
	}
	var f fileV1
	if err := json.Unmarshal(b, &f); err != nil || f.Version != 1 {
		return nil, fmt.Errorf("credential store %s: %w: unreadable content (restore it from a backup)", s.path, secret.ErrCorrupt)
	}
	if f.Credentials == nil {
		f.Credentials = map[string]Credential{}
	}
	return f.Credentials, nil
}

func (s *Store) save(m map[string]Credential) error {
	prune(m, s.now())
	b, err := json.Marshal(fileV1{Version: 1, Credentials: m})
	if err != nil {
		return err
	}
	if err := secret.WriteFile(s.path, s.p, b); err != nil {
		return fmt.Errorf("credential store: %w", err)
	}
	return nil
}

// update runs fn on the current content and saves the result.
func (s *Store) update(fn func(map[string]Credential) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := lockFile(s.path + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	m, err := s.load()
	if err != nil {
		return err
	}
	if err := fn(m); err != nil {
		return err
	}
	return s.save(m)
}

// Put stores or replaces a credential.
func (s *Store) Put(name, user, secretValue string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if secretValue == "" || len(secretValue) > MaxSecretLen {
		return fmt.Errorf("%w: %s: secret must be 1-%d bytes", ErrInvalid, name, MaxSecretLen)
	}
	if len(user) > 256 {
		return fmt.Errorf("%w: %s: user must be at most 256 bytes", ErrInvalid, name)
	}
	return s.update(func(m map[string]Credential) error {
		m[name] = Credential{Name: name, User: user, Secret: secretValue, Updated: s.stamp(m[name])}
		return nil
	})
}

// stamp is the Updated time of a change to old: now, or just after old's
// time when that is later (a peer's clock ran ahead).
func (s *Store) stamp(old Credential) time.Time {
	t := s.now().UTC().Truncate(time.Microsecond)
	if !old.Updated.IsZero() && !t.After(old.Updated) {
		t = old.Updated.Add(time.Microsecond).UTC()
	}
	return t
}

// Get returns a credential; ErrNotFound when there is none.
func (s *Store) Get(name string) (Credential, error) {
	if err := CheckName(name); err != nil {
		return Credential{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.load()
	if err != nil {
		return Credential{}, err
	}
	c, ok := m[name]
	if !ok || c.Deleted {
		return Credential{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return c, nil
}

// List returns the credentials sorted by name, with Secret empty.
func (s *Store) List() ([]Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.load()
	if err != nil {
		return nil, err
	}
	out := make([]Credential, 0, len(m))
	for _, c := range m {
		if c.Deleted {
			continue
		}
		c.Secret = ""
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Delete removes a credential; ErrNotFound when there is none.
func (s *Store) Delete(name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	return s.update(func(m map[string]Credential) error {
		old, ok := m[name]
		if !ok || old.Deleted {
			return fmt.Errorf("%w: %s", ErrNotFound, name)
		}
		m[name] = Credential{Name: name, Deleted: true, Updated: s.stamp(old)}
		return nil
	})
}

// lockFile takes an exclusive lock by creating path; a lock older than a
// minute is taken over (its holder died).
func lockFile(path string) (func(), error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("credential store lock: %w", err)
		}
		if st, err := os.Stat(path); err == nil && time.Since(st.ModTime()) > time.Minute {
			os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("credential store is locked by another process (%s)", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
