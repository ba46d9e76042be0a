package credstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/shirhq/shir/internal/secret"
)

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	p, err := secret.ForStateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return Open(dir, p), dir
}

func TestPutGetListDelete(t *testing.T) {
	s, dir := newStore(t)
	if l, err := s.List(); err != nil || len(l) != 0 {
		t.Fatalf("empty store: %v %v", l, err)
	}
	if err := s.Put("sftp-prod", "alice", "correct-horse-battery"); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("api.key", "", "k-123456789"); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("sftp-prod", "alice", "rotated-secret-value"); err != nil {
		t.Fatal(err)
	}
	c, err := s.Get("sftp-prod")
	if err != nil || c.User != "alice" || c.Secret != "rotated-secret-value" {
		t.Fatalf("Get = %+v %v", c, err)
	}
	if strings.Contains(c.String(), "rotated") || strings.Contains(fmt.Sprint(c), "rotated") {
		t.Fatal("Credential.String shows the secret")
	}
	l, err := s.List()
	if err != nil || len(l) != 2 || l[0].Name != "api.key" || l[1].Name != "sftp-prod" || l[0].Secret != "" || l[1].Secret != "" {
		t.Fatalf("List = %+v %v", l, err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, File))
	for _, s := range []string{"rotated-secret-value", "correct-horse", "alice", "sftp-prod"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("store file holds %q in plain text", s)
		}
	}
	if runtime.GOOS != "windows" {
		st, _ := os.Stat(filepath.Join(dir, File))
		if st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %#o", st.Mode().Perm())
		}
	}
	if err := s.Delete("sftp-prod"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("sftp-prod"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after delete: %v", err)
	}
	if err := s.Delete("sftp-prod"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// A second Store on the same dir (another process) sees the content.
	p2, _ := secret.ForStateDir(dir)
	if c, err := Open(dir, p2).Get("api.key"); err != nil || c.Secret != "k-123456789" {
		t.Fatalf("reopened: %+v %v", c, err)
	}
}

func TestBadInput(t *testing.T) {
	s, _ := newStore(t)
	for _, tc := range []struct{ name, user, secret, want string }{
		{"", "", "x", "name"},
		{"a b", "", "x", "position 2"},
		{strings.Repeat("a", 129), "", "x", "name"},
		{"ok", "", "", "secret must be"},
		{"ok", strings.Repeat("u", 300), "x", "user"},
	} {
		err := s.Put(tc.name, tc.user, tc.secret)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Put(%q): %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestCorruptStoreIsNeverOverwritten(t *testing.T) {
	s, dir := newStore(t)
	if err := s.Put("a", "", "secret-one"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, File)
	raw, _ := os.ReadFile(path)
	raw[len(raw)-1] ^= 1
	os.WriteFile(path, raw, 0o600)
	if _, err := s.Get("a"); !errors.Is(err, secret.ErrCorrupt) || !strings.Contains(err.Error(), "backup") {
		t.Fatalf("Get on corrupt store: %v", err)
	}
	if err := s.Put("b", "", "secret-two"); !errors.Is(err, secret.ErrCorrupt) {
		t.Fatalf("Put on corrupt store: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(after, raw) {
		t.Fatal("corrupt store was overwritten")
	}
}

func TestConcurrentPuts(t *testing.T) {
	s, dir := newStore(t)
	p2, _ := secret.ForStateDir(dir)
	s2 := Open(dir, p2) // as if another process
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := s
			if i%2 == 1 {
				st = s2
			}
			if err := st.Put(fmt.Sprintf("c%d", i), "", "v"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if l, _ := s.List(); len(l) != 20 {
		t.Fatalf("%d credentials after 20 concurrent puts", len(l))
	}
}

func FuzzCheckName(f *testing.F) {
	f.Add("sftp-prod")
	f.Add("a b")
	f.Fuzz(func(t *testing.T, s string) {
		if CheckName(s) == nil && (s == "" || strings.ContainsAny(s, " /\\@:\x00")) {
			t.Fatalf("accepted %q", s)
		}
	})
}
