package credstore

import (
	"fmt"
	"sort"
	"time"
)

// Merge merges remote into local, both keyed by name, and returns the
// result and the names where the remote entry won (sorted). It is pure: the
// inputs are not changed. Merge is commutative and idempotent on the entries
// it keeps (see wins), so nodes that exchange their sets converge.
func Merge(local, remote map[string]Credential) (merged map[string]Credential, changed []string) {
	merged = make(map[string]Credential, len(local)+len(remote))
	for k, v := range local {
		merged[k] = v
	}
	for k, r := range remote {
		l, ok := merged[k]
		if !ok || wins(r, l) {
			merged[k] = r
			changed = append(changed, k)
		}
	}
	sort.Strings(changed)
	return merged, changed
}

// wins reports whether a replaces b: a later Updated; on a tie a tombstone,
// then the greater secret, then the greater user. Equal entries never win,
// so merging a set into itself changes nothing.
func wins(a, b Credential) bool {
	if !a.Updated.Equal(b.Updated) {
		return a.Updated.After(b.Updated)
	}
	if a.Deleted != b.Deleted {
		return a.Deleted
	}
	if a.Secret != b.Secret {
		return a.Secret > b.Secret
	}
	return a.User > b.User
}

// prune drops tombstones older than TombstoneTTL.
func prune(m map[string]Credential, now time.Time) {
	for k, c := range m {
		if c.Deleted && now.Sub(c.Updated) > TombstoneTTL {
			delete(m, k)
		}
	}
}

// CheckEntry validates one entry received from a peer (or read from a
// backup) at time now. Errors name the credential, never its secret.
func CheckEntry(c Credential, now time.Time) error {
	if err := CheckName(c.Name); err != nil {
		return err
	}
	switch {
	case c.Updated.IsZero():
		return fmt.Errorf("%w: %s: updated time is missing", ErrInvalid, c.Name)
	case c.Updated.After(now.Add(MaxFuture)):
		return fmt.Errorf("%w: %s: updated time %s is more than %s in the future", ErrInvalid, c.Name, c.Updated.UTC().Format(time.RFC3339), MaxFuture)
	case c.Deleted && (c.Secret != "" || c.User != ""):
		return fmt.Errorf("%w: %s: a deleted entry has no user or secret", ErrInvalid, c.Name)
	case !c.Deleted && (c.Secret == "" || len(c.Secret) > MaxSecretLen):
		return fmt.Errorf("%w: %s: secret must be 1-%d bytes", ErrInvalid, c.Name, MaxSecretLen)
	case len(c.User) > 256:
		return fmt.Errorf("%w: %s: user must be at most 256 bytes", ErrInvalid, c.Name)
	}
	return nil
}

// Snapshot returns every entry, tombstones and secrets included, sorted by
// name: what a node sends to its peers over the mTLS channel. Never log it.
func (s *Store) Snapshot() ([]Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.load()
	if err != nil {
		return nil, err
	}
	prune(m, s.now())
	out := make([]Credential, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// MergeFrom merges a peer's entries into the store (see Merge) and returns
// the names that changed here. Every entry is checked first (CheckEntry);
// one bad entry refuses the whole set and changes nothing. Tombstones past
// TombstoneTTL are ignored. The file is written only when something changed.
func (s *Store) MergeFrom(remote []Credential) ([]string, error) {
	now := s.now()
	rm := make(map[string]Credential, len(remote))
	for _, c := range remote {
		if err := CheckEntry(c, now); err != nil {
			return nil, err
		}
		if _, dup := rm[c.Name]; dup {
			return nil, fmt.Errorf("%w: %s: listed twice", ErrInvalid, c.Name)
		}
		c.Updated = c.Updated.UTC()
		rm[c.Name] = c
	}
	prune(rm, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := lockFile(s.path + ".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	m, err := s.load()
	if err != nil {
		return nil, err
	}
	merged, changed := Merge(m, rm)
	if len(changed) == 0 {
		return nil, nil
	}
	return changed, s.save(merged)
}

// ToMap keys a list of entries by name (the last one of a name wins).
func ToMap(l []Credential) map[string]Credential {
	m := make(map[string]Credential, len(l))
	for _, c := range l {
		m[c.Name] = c
	}
	return m
}
