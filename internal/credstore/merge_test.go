package credstore

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func cred(name, user, sec string, at time.Duration, deleted bool) Credential {
	return Credential{Name: name, User: user, Secret: sec, Updated: t0.Add(at), Deleted: deleted}
}

func TestMergeLastWriterWins(t *testing.T) {
	local := ToMap([]Credential{
		cred("a", "u", "old-a", 0, false),
		cred("b", "u", "new-b", 2*time.Second, false),
		cred("c", "u", "c", 0, false),
	})
	remote := ToMap([]Credential{
		cred("a", "u", "new-a", time.Second, false), // newer: wins
		cred("b", "u", "old-b", time.Second, false), // older: loses
		cred("c", "", "", time.Second, true),        // newer tombstone: deletes
		cred("d", "u", "d", 0, false),               // new name
	})
	got, changed := Merge(local, remote)
	if want := []string{"a", "c", "d"}; !reflect.DeepEqual(changed, want) {
		t.Errorf("changed %v, want %v", changed, want)
	}
	if got["a"].Secret != "new-a" || got["b"].Secret != "new-b" || !got["c"].Deleted || got["d"].Secret != "d" {
		t.Errorf("merged %v", got)
	}
	if local["a"].Secret != "old-a" {
		t.Error("Merge changed its input")
	}
	// Merging again changes nothing.
	if _, ch := Merge(got, remote); len(ch) != 0 {
		t.Errorf("second merge changed %v", ch)
	}
}

func TestMergeTieBreak(t *testing.T) {
	x := cred("a", "u", "x", 0, false)
	y := cred("a", "u", "y", 0, false)
	tomb := cred("a", "", "", 0, true)
	for _, c := range []struct{ a, b, want Credential }{{x, y, y}, {y, x, y}, {x, tomb, tomb}, {tomb, y, tomb}} {
		got, _ := Merge(ToMap([]Credential{c.a}), ToMap([]Credential{c.b}))
		if got["a"] != c.want {
			t.Errorf("merge(%v, %v) = %v, want %v", c.a, c.b, got["a"], c.want)
		}
	}
}

func TestTombstonesAndMergeFrom(t *testing.T) {
	s, _ := newStore(t)
	now := t0
	s.now = func() time.Time { return now }
	if err := s.Put("db", "sa", "first-secret"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("db"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("db"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after delete: %v", err)
	}
	if l, _ := s.List(); len(l) != 0 {
		t.Errorf("List shows a tombstone: %v", l)
	}
	if err := s.Delete("db"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	snap, err := s.Snapshot()
	if err != nil || len(snap) != 1 || !snap[0].Deleted || snap[0].Secret != "" {
		t.Fatalf("snapshot %v %v", snap, err)
	}
	// An older remote put does not resurrect the credential.
	if ch, err := s.MergeFrom([]Credential{cred("db", "sa", "stale", -time.Hour, false)}); err != nil || len(ch) != 0 {
		t.Errorf("stale merge: %v %v", ch, err)
	}
	// A newer one does.
	if ch, err := s.MergeFrom([]Credential{cred("db", "sa", "newer-secret", time.Hour, false)}); err != nil || len(ch) != 1 {
		t.Errorf("newer merge: %v %v", ch, err)
	}
	if c, err := s.Get("db"); err != nil || c.Secret != "newer-secret" {
		t.Errorf("Get: %v %v", c, err)
	}
	// A local change over a future stamp is still the newest.
	if err := s.Put("db", "sa", "local-after"); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Get("db"); !c.Updated.After(t0.Add(time.Hour)) || c.Secret != "local-after" {
		t.Errorf("local put after a future stamp: %v at %v", c, c.Updated)
	}
	// Tombstones expire.
	if err := s.Delete("db"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(TombstoneTTL + 2*time.Hour)
	if err := s.Put("other", "", "x-secret"); err != nil {
		t.Fatal(err)
	}
	if snap, _ := s.Snapshot(); len(snap) != 1 || snap[0].Name != "other" {
		t.Errorf("tombstone not expired: %v", snap)
	}
}

func TestMergeFromRefusesBadSets(t *testing.T) {
	s, _ := newStore(t)
	s.now = func() time.Time { return t0 }
	if err := s.Put("keep", "", "keep-secret"); err != nil {
		t.Fatal(err)
	}
	for name, set := range map[string][]Credential{
		"bad name":     {cred("a b", "", "s", 0, false)},
		"no secret":    {cred("a", "", "", 0, false)},
		"tomb secret":  {cred("a", "", "leak", 0, true)},
		"no time":      {{Name: "a", Secret: "s"}},
		"future":       {cred("a", "", "s", 48*time.Hour, false)},
		"duplicate":    {cred("a", "", "s", 0, false), cred("a", "", "t", 0, false)},
		"one bad of 2": {cred("good", "", "s", time.Hour, false), cred("keep", "", "", time.Hour, false)},
	} {
		ch, err := s.MergeFrom(set)
		if !errors.Is(err, ErrInvalid) || ch != nil {
			t.Errorf("%s: %v %v", name, ch, err)
		}
		if err != nil {
			for _, c := range set {
				if c.Secret != "" && len(c.Secret) > 1 && strings.Contains(err.Error(), c.Secret) {
					t.Errorf("%s: error shows the secret: %v", name, err)
				}
			}
		}
	}
	if snap, _ := s.Snapshot(); len(snap) != 1 || snap[0].Secret != "keep-secret" {
		t.Errorf("store changed by a refused set: %v", snap)
	}
}

// FuzzMerge checks the sync rule on arbitrary sets: merging is commutative,
// idempotent, and every merged entry is one of the inputs' and not older
// than either side's.
func FuzzMerge(f *testing.F) {
	f.Add([]byte(`[{"name":"a","secret":"x","updated":"2026-01-01T00:00:00Z"}]`), []byte(`[{"name":"a","deleted":true,"updated":"2026-01-01T00:00:00Z"}]`))
	f.Add([]byte(`[{"name":"a","secret":"x","updated":"2026-01-01T00:00:01Z"},{"name":"b","user":"u","secret":"y","updated":"2026-01-01T00:00:00Z"}]`), []byte(`[{"name":"b","secret":"z","updated":"2026-01-01T00:00:00Z"}]`))
	f.Fuzz(func(t *testing.T, ja, jb []byte) {
		var la, lb []Credential
		if json.Unmarshal(ja, &la) != nil || json.Unmarshal(jb, &lb) != nil {
			return
		}
		a, b := ToMap(la), ToMap(lb)
		ab, _ := Merge(a, b)
		ba, _ := Merge(b, a)
		if !sameSet(ab, ba) {
			t.Fatalf("not commutative:\n%v\n%v", ab, ba)
		}
		if again, ch := Merge(ab, b); len(ch) != 0 || !sameSet(again, ab) {
			t.Fatalf("not idempotent: changed %v", ch)
		}
		for k, c := range ab {
			x, inA := a[k]
			y, inB := b[k]
			if !(inA && sameCred(c, x)) && !(inB && sameCred(c, y)) {
				t.Fatalf("%s: merged entry from nowhere", k)
			}
			if inA && x.Updated.After(c.Updated) || inB && y.Updated.After(c.Updated) {
				t.Fatalf("%s: merged entry older than an input", k)
			}
		}
	})
}

func sameCred(a, b Credential) bool {
	return a.Name == b.Name && a.User == b.User && a.Secret == b.Secret && a.Deleted == b.Deleted && a.Updated.Equal(b.Updated)
}

func sameSet(a, b map[string]Credential) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !sameCred(v, w) {
			return false
		}
	}
	return true
}

// FuzzMergeFrom feeds arbitrary peer sets to a store: it either refuses the
// set and changes nothing, or every stored entry passes CheckEntry.
func FuzzMergeFrom(f *testing.F) {
	f.Add([]byte(`[{"name":"a","secret":"x","updated":"2026-11-25T12:00:00Z"}]`))
	f.Add([]byte(`[{"name":"a","deleted":true,"secret":"x","updated":"2026-11-25T12:00:00Z"}]`))
	f.Fuzz(func(t *testing.T, j []byte) {
		var l []Credential
		if json.Unmarshal(j, &l) != nil || len(l) > 50 {
			return
		}
		s, _ := newStore(t)
		s.now = func() time.Time { return t0 }
		before, _ := s.Snapshot()
		_, err := s.MergeFrom(l)
		after, serr := s.Snapshot()
		if serr != nil {
			t.Fatal(serr)
		}
		if err != nil && len(after) != len(before) {
			t.Fatalf("refused set changed the store: %v", err)
		}
		for _, c := range after {
			if cerr := CheckEntry(c, t0); cerr != nil {
				t.Fatalf("stored an invalid entry: %v", cerr)
			}
		}
	})
}

// BenchmarkMerge: merging two sets of 1000 credentials, half of them newer
// on the remote side.
func BenchmarkMerge(b *testing.B) {
	local, remote := map[string]Credential{}, map[string]Credential{}
	for i := range 1000 {
		n := "cred-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "-" + time.Duration(i).String()
		local[n] = cred(n, "u", "l", 0, false)
		remote[n] = cred(n, "u", "r", time.Duration(i%2)*time.Second, false)
	}
	b.ResetTimer()
	for range b.N {
		Merge(local, remote)
	}
}
