package updater

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"
)

// needMinisign returns the path of the real minisign tool (Debian package
// minisign, installed by .ci/run), or skips saying what did not run.
func needMinisign(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("minisign cross-check not run: the minisign tool is a Linux package here")
	}
	p, err := exec.LookPath("minisign")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("minisign not installed (apt-get install minisign; .ci/run does)")
		}
		t.Skip("minisign cross-check not run: minisign is not installed (apt-get install minisign)")
	}
	return p
}

// TestMinisignVerifiesShir: a manifest and an artifact signed by shir's
// publisher code, with a key shir generated and encrypted, verify with
// `minisign -V`; and minisign itself can sign with that encrypted key.
func TestMinisignVerifiesShir(t *testing.T) {
	mini := needMinisign(t)
	f := newFeed(t, newKeys(t), time.Now())
	f.release(t, PublishOptions{Version: "2.0.0"}, []byte("a binary"))
	dir := t.TempDir()
	pubFile := filepath.Join(dir, "signing.pub")
	os.WriteFile(pubFile, PublicKeyFile(f.keys.signingPub), 0o644)
	manifest := filepath.Join(f.dir, "2.0.0", "manifest.json")
	out, err := exec.Command(mini, "-V", "-p", pubFile, "-m", manifest).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Signature and comment signature verified") ||
		!strings.Contains(string(out), "shir manifest 2.0.0 stable") {
		t.Fatalf("minisign -V: %v\n%s", err, out)
	}
	// The key list verifies with the root key.
	rootFile := filepath.Join(dir, "root.pub")
	os.WriteFile(rootFile, PublicKeyFile(f.keys.rootPub), 0o644)
	if out, err := exec.Command(mini, "-V", "-p", rootFile, "-m", filepath.Join(f.dir, "keys.json")).CombinedOutput(); err != nil {
		t.Fatalf("minisign -V keys.json: %v\n%s", err, out)
	}
	// A tampered manifest does not.
	b, _ := os.ReadFile(manifest)
	os.WriteFile(manifest, bytes.Replace(b, []byte("2.0.0"), []byte("2.0.1"), 1), 0o644)
	if out, err := exec.Command(mini, "-V", "-p", pubFile, "-m", manifest).CombinedOutput(); err == nil {
		t.Fatalf("minisign accepted a tampered manifest:\n%s", out)
	}
	// minisign decrypts a key that shir encrypted (password on stdin).
	keyFile := filepath.Join(dir, "signing.key")
	enc, err := EncryptPrivateKey("correct horse", f.keys.signing, CostInteractive)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(keyFile, enc, 0o600)
	msg := filepath.Join(dir, "msg")
	os.WriteFile(msg, []byte("hello"), 0o644)
	cmd := exec.Command(mini, "-S", "-s", keyFile, "-m", msg)
	cmd.Stdin = strings.NewReader("correct horse\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("minisign -S with a shir key: %v\n%s", err, out)
	}
	sig, _ := os.ReadFile(msg + ".minisig")
	if _, err := VerifyWith([]minisign.PublicKey{f.keys.signingPub}, []byte("hello"), sig); err != nil {
		t.Fatalf("shir does not verify what minisign signed with the shir key: %v", err)
	}
}

// TestShirVerifiesMinisign: a signing key made by `minisign -G`, listed in a
// shir key list, signs an artifact and a manifest with `minisign -S`; shir
// verifies the whole chain.
func TestShirVerifiesMinisign(t *testing.T) {
	mini := needMinisign(t)
	dir := t.TempDir()
	pubFile, keyFile := filepath.Join(dir, "m.pub"), filepath.Join(dir, "m.key")
	// -W: no password, as minisign's default KDF costs 1 GiB and seconds per
	// use; TestDecryptMinisignKey covers minisign's encrypted keys.
	if out, err := exec.Command(mini, "-G", "-W", "-p", pubFile, "-s", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("minisign -G: %v\n%s", err, out)
	}
	pubText, _ := os.ReadFile(pubFile)
	pub, err := ParsePublicKey(string(pubText))
	if err != nil {
		t.Fatal(err)
	}
	if priv, err := DecryptPrivateKey("", mustRead(t, keyFile)); err != nil || priv.ID() != pub.ID() {
		t.Fatalf("read minisign's unencrypted key: %v", err)
	}

	k := newKeys(t)
	f := newFeed(t, k, time.Now())
	kl := KeyList{Schema: 1, Issued: time.Now().Add(-time.Minute)}.Add(pub, "made by minisign -G")
	if err := SignKeyList(f.dir, kl, k.root); err != nil {
		t.Fatal(err)
	}
	// Publish with shir's code using a throwaway key, then re-sign the
	// artifact and manifest with minisign.
	bin := []byte("binary signed by minisign")
	f.release(t, PublishOptions{Version: "3.0.0"}, bin)
	relDir := filepath.Join(f.dir, "3.0.0")
	artName := exeName("shir_" + runtime.GOOS + "_" + runtime.GOARCH)
	sign := func(file string) []byte {
		c := exec.Command(mini, "-S", "-s", keyFile, "-m", file, "-t", "signed by minisign")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("minisign -S %s: %v\n%s", file, err, out)
		}
		s, _ := os.ReadFile(file + ".minisig")
		return s
	}
	artSig := sign(filepath.Join(relDir, artName))
	m, _ := ParseManifest(mustRead(t, filepath.Join(relDir, "manifest.json")))
	a := m.Artifacts[runtime.GOOS+"/"+runtime.GOARCH]
	a.Minisig = string(artSig)
	m.Artifacts[runtime.GOOS+"/"+runtime.GOARCH] = a
	os.WriteFile(filepath.Join(relDir, "manifest.json"), m.Marshal(), 0o644)
	sign(filepath.Join(relDir, "manifest.json"))

	v, err := k.trust().VerifyRelease(
		Signed{mustRead(t, filepath.Join(f.dir, "keys.json")), mustRead(t, filepath.Join(f.dir, "keys.json.minisig"))},
		Signed{mustRead(t, filepath.Join(relDir, "manifest.json")), mustRead(t, filepath.Join(relDir, "manifest.json.minisig"))},
		time.Now(), time.Time{})
	if err != nil {
		t.Fatalf("shir rejects a minisign-signed release: %v", err)
	}
	if v.SignedBy != pub.ID() {
		t.Fatalf("signed by %s", KeyID(v.SignedBy))
	}
	if err := VerifyArtifact(bin, v.Manifest.Artifacts[runtime.GOOS+"/"+runtime.GOARCH], v.SigningKey()); err != nil {
		t.Fatalf("artifact: %v", err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecryptMinisignKey: shir decrypts a key that `minisign -G` encrypted
// with its default (sensitive, 1 GiB) scrypt cost, and refuses a wrong
// password without echoing it. Slow (about 30 s here): skipped with -short.
func TestDecryptMinisignKey(t *testing.T) {
	mini := needMinisign(t)
	if testing.Short() || raceEnabled {
		// About 30 s without and 95 s with -race (scrypt's core under the race
		// detector). Run it with: go test -run DecryptMinisignKey ./updater/
		t.Skip("decrypting a minisign-encrypted (1 GiB scrypt) key not run with -short or -race")
	}
	dir := t.TempDir()
	pubFile, keyFile := filepath.Join(dir, "m.pub"), filepath.Join(dir, "m.key")
	gen := exec.Command(mini, "-G", "-p", pubFile, "-s", keyFile)
	gen.Stdin = strings.NewReader("pw-for-test\npw-for-test\n")
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("minisign -G: %v\n%s", err, out)
	}
	pub, err := ParsePublicKey(string(mustRead(t, pubFile)))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := DecryptPrivateKey("pw-for-test", mustRead(t, keyFile))
	if err != nil || priv.ID() != pub.ID() {
		t.Fatalf("decrypt minisign's key: %v", err)
	}
	fast, _ := EncryptPrivateKey("pw-for-test", priv, CostInteractive)
	if _, err := DecryptPrivateKey("wrong-pw", fast); err == nil || strings.Contains(err.Error(), "wrong-pw") {
		t.Fatalf("wrong password: %v", err)
	}
}
