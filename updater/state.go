package updater

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/shirhq/shir/internal/atomicfile"
)

// State is what the updater remembers between runs (updater.json in the
// state directory, written atomically).
type State struct {
	// Newest published time of a verified manifest, per channel, and of the
	// key list: older ones are refused (freeze and replay protection).
	Newest        map[string]time.Time `json:"newest,omitempty"`
	KeyListIssued time.Time            `json:"keyListIssued,omitzero"`
	// Versions that failed their health check and were rolled back.
	Bad []string `json:"bad,omitempty"`
	// The last attempt, for `shir update check` and the control plane.
	LastCheck  time.Time `json:"lastCheck,omitzero"`
	LastResult string    `json:"lastResult,omitempty"`
}

// NewestPublished returns the newest published time seen on channel.
func (s State) NewestPublished(channel string) time.Time {
	return s.Newest[channel]
}

// Seen records a verified manifest.
func (s *State) Seen(m Manifest) {
	if s.Newest == nil {
		s.Newest = map[string]time.Time{}
	}
	if m.Published.After(s.Newest[m.Channel]) {
		s.Newest[m.Channel] = m.Published.UTC()
	}
}

// IsBad reports whether v was marked bad.
func (s State) IsBad(v string) bool { return slices.Contains(s.Bad, v) }

// MarkBad records v as bad.
func (s *State) MarkBad(v string) {
	if !s.IsBad(v) {
		s.Bad = append(s.Bad, v)
	}
}

// LoadState reads the state file; a missing file is an empty state.
func LoadState(path string) (State, error) {
	var s State
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read update state: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("update state %s: %w", path, err)
	}
	return s, nil
}

// SaveState writes the state file atomically (temp file, sync, rename).
func SaveState(path string, s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'), 0o600)
}

// writeFileAtomic creates the directory if needed and writes path atomically
// (internal/atomicfile: private files get a private DACL on Windows).
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.Write(path, data, mode)
}
