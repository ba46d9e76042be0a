package updater

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"
)

var testNow = time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC) // a Sunday, 03:00

func newTestUpdater(t *testing.T, f *feed, p Policy) (*Updater, string) {
	t.Helper()
	dir := t.TempDir()
	target := filepath.Join(dir, exeName("shir"))
	if err := os.WriteFile(target, []byte("old binary 1.0.0"), 0o755); err != nil {
		t.Fatal(err)
	}
	if p.Channel == "" {
		p.Channel = "stable"
	}
	p.AutoUpdate = true
	u, err := New(Options{
		Source: &DirSource{Dir: f.dir}, Trust: f.keys.trust(), Policy: p,
		Current: "1.0.0", Target: target, StateDir: filepath.Join(dir, "state"),
		Logger: testLogger(t), Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return u, target
}

// TestRefusals: every way a release can be refused gives its own error,
// and the installed binary is untouched.
func TestRefusals(t *testing.T) {
	bin := []byte("new binary 1.1.0")
	cases := []struct {
		name   string
		policy Policy
		setup  func(t *testing.T, f *feed)
		want   error
	}{
		{"tampered artifact", Policy{}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "1.1.0"}, bin)
			art := filepath.Join(f.dir, "1.1.0", exeName("shir_"+goosArch()))
			if err := os.WriteFile(art, []byte("EVIL binary 1.1.0"[:len(bin)]), 0o755); err != nil {
				t.Fatal(err)
			}
		}, ErrHashMismatch},
		{"tampered artifact, longer", Policy{}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "1.1.0"}, bin)
			art := filepath.Join(f.dir, "1.1.0", exeName("shir_"+goosArch()))
			if err := os.WriteFile(art, append(bin, "+payload"...), 0o755); err != nil {
				t.Fatal(err)
			}
		}, ErrSizeMismatch},
		{"tampered manifest", Policy{}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "1.1.0", Rollout: 10}, bin)
			p := filepath.Join(f.dir, "1.1.0", "manifest.json")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(b), `"rollout": 10`, `"rollout": 100`, 1)), 0o644)
		}, ErrBadSignature},
		{"wrong key", Policy{}, func(t *testing.T, f *feed) {
			_, other, _ := GenerateKey()
			f.release(t, PublishOptions{Version: "1.1.0", Key: other}, bin)
		}, ErrUnknownKey},
		{"revoked signing key", Policy{}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "1.1.0"}, bin)
			kl, _ := ReadKeyList(f.dir)
			kl = kl.Revoke(f.keys.signingPub.ID())
			kl.Issued = f.now.Add(-time.Minute)
			if err := SignKeyList(f.dir, kl, f.keys.root); err != nil {
				t.Fatal(err)
			}
		}, ErrRevokedKey},
		{"key list signed by a non-root", Policy{}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "1.1.0"}, bin)
			kl, _ := ReadKeyList(f.dir)
			SignKeyList(f.dir, kl, f.keys.signing)
		}, ErrUnknownKey},
		{"expired manifest", Policy{}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "1.1.0", Now: testNow.Add(-48 * time.Hour), Expires: testNow.Add(-time.Hour)}, bin)
		}, ErrExpired},
		{"not yet valid", Policy{}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "1.1.0", NotBefore: testNow.Add(time.Hour)}, bin)
		}, ErrNotYetValid},
		{"downgrade", Policy{}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "0.9.0"}, bin)
		}, ErrDowngrade},
		{"same version", Policy{}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "1.0.0"}, bin)
		}, ErrUpToDate},
		{"outside window", Policy{Window: mustWindow(t, "Sat 02:00-04:00")}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "1.1.0"}, bin)
		}, ErrOutsideWindow},
		{"not in rollout bucket", Policy{NodeID: nodeOutsideRollout(30)}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "1.1.0", Rollout: 30}, bin)
		}, ErrNotInRollout},
		{"other channel", Policy{}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "1.1.0", Channel: "beta"}, bin)
		}, ErrChannel},
		{"constraint", Policy{Constraint: "~> 1.0.0"}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "1.1.0"}, bin)
		}, ErrConstraint},
		{"pinned by the control plane", Policy{Pinned: "1.0.5"}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "1.1.0"}, bin)
		}, ErrPinned},
		{"stale key list", Policy{}, func(t *testing.T, f *feed) {
			f.release(t, PublishOptions{Version: "1.1.0"}, bin)
			kl, _ := ReadKeyList(f.dir)
			kl.Issued = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
			SignKeyList(f.dir, kl, f.keys.root)
		}, ErrStaleKeyList},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFeed(t, newKeys(t), testNow)
			tc.setup(t, f)
			u, target := newTestUpdater(t, f, tc.policy)
			if tc.name == "stale key list" {
				st := State{KeyListIssued: testNow.Add(-time.Hour)}
				SaveState(u.statePath(), st)
			}
			_, err := u.Apply(context.Background(), Request{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if b, _ := os.ReadFile(target); string(b) != "old binary 1.0.0" {
				t.Fatalf("target changed to %q", b)
			}
		})
	}
}

func goosArch() string { return testPolicy().GOOS + "_" + testPolicy().GOARCH }

func testPolicy() Policy {
	u, _ := New(Options{Source: &DirSource{}, Trust: Trust{Roots: []minisign.PublicKey{{}}}, Current: "1.0.0", Target: "x", StateDir: "x"})
	return u.o.Policy
}

func mustWindow(t *testing.T, s string) *Window {
	w, err := ParseWindow(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestApplyNoRestart installs a good release over a plain file and keeps
// the old one; a second check then says up to date.
func TestApplyNoRestart(t *testing.T) {
	f := newFeed(t, newKeys(t), testNow)
	f.release(t, PublishOptions{Version: "1.1.0"}, []byte("new binary 1.1.0"))
	f.release(t, PublishOptions{Version: "1.0.5"}, []byte("new binary 1.0.5"))
	u, target := newTestUpdater(t, f, Policy{Window: mustWindow(t, "Sun 02:00-04:00")})
	// dmgcmd.exe is a hard link of the binary (as the installer makes it
	// on Windows): it must follow the update.
	link := filepath.Join(filepath.Dir(target), "dmgcmd.exe")
	if err := os.Link(target, link); err != nil {
		t.Fatal(err)
	}
	u.o.Links = []string{link, filepath.Join(filepath.Dir(target), "missing")}
	c, err := u.Check(context.Background(), Request{})
	if err != nil || c.Version() != "1.1.0" {
		t.Fatalf("check: %v %v", c.Version(), err)
	}
	res, err := u.Apply(context.Background(), Request{})
	if err != nil || res.Outcome != OutcomeUpdated {
		t.Fatalf("apply: %+v %v", res, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new binary 1.1.0" {
		t.Fatalf("target = %q", b)
	}
	if b, _ := os.ReadFile(link); string(b) != "new binary 1.1.0" {
		t.Fatalf("the dmgcmd link still holds %q after the update", b)
	}
	if b, _ := os.ReadFile(OldBinaryPath(target)); string(b) != "old binary 1.0.0" {
		t.Fatalf("old binary kept = %q", b)
	}
	u.o.Current = "1.1.0"
	if _, err := u.Check(context.Background(), Request{}); !errors.Is(err, ErrUpToDate) {
		t.Fatalf("second check: %v", err)
	}
	// An explicit older version is a downgrade, not "missing".
	if _, err := u.Check(context.Background(), Request{Version: "1.0.5", Manual: true}); !errors.Is(err, ErrFrozen) && !errors.Is(err, ErrDowngrade) {
		t.Fatalf("check --version 1.0.5: %v", err)
	}
	if _, err := u.Check(context.Background(), Request{Version: "9.9.9", Manual: true}); !errors.Is(err, ErrVersionMissing) {
		t.Fatalf("check --version 9.9.9: %v", err)
	}
}

// TestRelink: a hard link or copy is replaced by a link to the target; a
// symbolic link and a missing name are left alone.
func TestRelink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "shir.exe")
	os.WriteFile(target, []byte("new"), 0o755)
	stale := filepath.Join(dir, "dmgcmd.exe")
	os.WriteFile(stale, []byte("old"), 0o755)
	if err := Relink(target, stale); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(stale); string(b) != "new" {
		t.Fatalf("after relink: %q", b)
	}
	if err := Relink(target, filepath.Join(dir, "none")); err != nil {
		t.Fatalf("missing link: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "none")); !os.IsNotExist(err) {
		t.Fatal("relink created a link that did not exist")
	}
	if runtime.GOOS != "windows" {
		sym := filepath.Join(dir, "dmgcmd")
		os.Symlink("shir.exe", sym)
		if err := Relink(target, sym); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Lstat(sym); fi.Mode()&os.ModeSymlink == 0 {
			t.Fatal("a symlink was replaced")
		}
	}
	if _, err := os.Stat(stale + ".new"); !os.IsNotExist(err) {
		t.Fatal("temp file left behind")
	}
}

// TestSignedRollback: a newer-published manifest with rollback:true may
// install an older version; the bad release is then frozen out.
func TestSignedRollback(t *testing.T) {
	f := newFeed(t, newKeys(t), testNow)
	f.release(t, PublishOptions{Version: "1.1.0", Now: testNow.Add(-2 * time.Hour)}, []byte("1.1.0"))
	f.release(t, PublishOptions{Version: "1.0.1", Rollback: true, Now: testNow.Add(-time.Hour)}, []byte("1.0.1"))
	u, _ := newTestUpdater(t, f, Policy{})
	u.o.Current = "1.1.0"
	c, err := u.Check(context.Background(), Request{})
	if err != nil || c.Version() != "1.0.1" {
		t.Fatalf("got %q %v, want the signed rollback 1.0.1", c.Version(), err)
	}
}

// TestFreeze: once a newer manifest was seen, serving only an older one
// (still signed and unexpired) is refused.
func TestFreeze(t *testing.T) {
	f := newFeed(t, newKeys(t), testNow)
	f.release(t, PublishOptions{Version: "1.1.0"}, []byte("1.1.0"))
	u, _ := newTestUpdater(t, f, Policy{Window: mustWindow(t, "Sat 02:00-04:00")})
	if _, err := u.Check(context.Background(), Request{}); !errors.Is(err, ErrOutsideWindow) {
		t.Fatal(err)
	}
	old := newFeed(t, f.keys, testNow)
	old.release(t, PublishOptions{Version: "1.0.9", Now: testNow.Add(-24 * time.Hour)}, []byte("1.0.9"))
	u.o.Source = &DirSource{Dir: old.dir}
	u.o.Policy.Window = nil
	if _, err := u.Check(context.Background(), Request{}); !errors.Is(err, ErrFrozen) {
		t.Fatalf("got %v, want ErrFrozen", err)
	}
}

func TestAutoUpdateOffAndManual(t *testing.T) {
	f := newFeed(t, newKeys(t), testNow)
	f.release(t, PublishOptions{Version: "1.1.0", Rollout: 1}, []byte("1.1.0"))
	u, _ := newTestUpdater(t, f, Policy{NodeID: nodeOutsideRollout(1)})
	off := false
	u.o.Policy = ControlPolicy{AutoUpdate: &off}.Apply(u.o.Policy)
	if _, err := u.Check(context.Background(), Request{}); !errors.Is(err, ErrAutoUpdateOff) {
		t.Fatalf("got %v", err)
	}
	// An admin's update apply ignores auto-update off and the rollout bucket.
	if c, err := u.Check(context.Background(), Request{Manual: true}); err != nil || c.Version() != "1.1.0" {
		t.Fatalf("manual: %v", err)
	}
}

func TestMarkedBadNotRetried(t *testing.T) {
	f := newFeed(t, newKeys(t), testNow)
	f.release(t, PublishOptions{Version: "1.1.0"}, []byte("1.1.0"))
	u, _ := newTestUpdater(t, f, Policy{})
	SaveState(u.statePath(), State{Bad: []string{"1.1.0"}})
	if _, err := u.Check(context.Background(), Request{}); !errors.Is(err, ErrMarkedBad) {
		t.Fatalf("got %v", err)
	}
}

func TestControlPolicyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), PolicyFileName)
	if cp, err := LoadControlPolicy(p); err != nil || cp.AutoUpdate != nil {
		t.Fatalf("missing file: %+v %v", cp, err)
	}
	off := false
	if err := WriteControlPolicy(p, ControlPolicy{AutoUpdate: &off, PinnedVersion: "1.4.2"}); err != nil {
		t.Fatal(err)
	}
	cp, err := LoadControlPolicy(p)
	if err != nil {
		t.Fatal(err)
	}
	got := cp.Apply(Policy{AutoUpdate: true})
	if got.AutoUpdate || got.Pinned != "1.4.2" {
		t.Fatalf("policy = %+v", got)
	}
	os.WriteFile(p, []byte(`{"pinnedVersion":"latest"}`), 0o644)
	if _, err := LoadControlPolicy(p); err == nil || !strings.Contains(err.Error(), "pinnedVersion") {
		t.Fatalf("bad pin: %v", err)
	}
}
