package updater

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"
)

// The test binary doubles as the host process of the end-to-end tests: run
// with SHIR_UPDATER_TEST_HOST=1 it reads the trailer that the test appended
// to its own executable ("\nSHIRTESTHOST version=1.1.0 broken=0\n"), exits 3
// at once if broken, and otherwise writes the health file (the contract of
// health.go) and waits to be killed. That makes every "release" a real,
// runnable binary on Linux and, under Wine, on Windows.
func TestMain(m *testing.M) {
	if os.Getenv("SHIR_UPDATER_TEST_HOST") == "1" {
		os.Exit(testHostMain())
	}
	os.Exit(m.Run())
}

const trailerTag = "\nSHIRTESTHOST "

func testHostMain() int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "test host:", err)
		return 2
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		fmt.Fprintln(os.Stderr, "test host:", err)
		return 2
	}
	i := bytes.LastIndex(b, []byte(trailerTag))
	if i < 0 {
		fmt.Fprintln(os.Stderr, "test host: no trailer")
		return 2
	}
	var ver string
	var broken int
	fmt.Sscanf(string(b[i+len(trailerTag):]), "version=%s broken=%d", &ver, &broken)
	if broken != 0 {
		fmt.Fprintln(os.Stderr, "test host: broken build, exiting at start")
		return 3
	}
	if err := WriteHealth(os.Getenv("SHIR_TEST_HEALTH"), Health{Version: ver, PID: os.Getpid(), Time: time.Now().UTC()}); err != nil {
		fmt.Fprintln(os.Stderr, "test host:", err)
		return 2
	}
	time.Sleep(10 * time.Minute)
	return 0
}

// hostBinary returns this test executable with a trailer naming version.
// pad grows it to at least pad bytes (benchmarks use 20 MB).
func hostBinary(t testing.TB, version string, broken bool, pad int) []byte {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if n := pad - len(b); n > 0 {
		b = append(b, make([]byte, n)...)
	}
	br := 0
	if broken {
		br = 1
	}
	return append(b, fmt.Sprintf("%sversion=%s broken=%d\n", trailerTag, version, br)...)
}

// keys is a publisher's key set for tests.
type keys struct {
	rootPub    minisign.PublicKey
	root       minisign.PrivateKey
	signingPub minisign.PublicKey
	signing    minisign.PrivateKey
}

func newKeys(t testing.TB) keys {
	t.Helper()
	var k keys
	var err error
	if k.rootPub, k.root, err = GenerateKey(); err != nil {
		t.Fatal(err)
	}
	if k.signingPub, k.signing, err = GenerateKey(); err != nil {
		t.Fatal(err)
	}
	return k
}

func (k keys) trust() Trust { return Trust{Roots: []minisign.PublicKey{k.rootPub}} }

// feed is a release directory made with the publisher functions.
type feed struct {
	dir  string
	keys keys
	now  time.Time
}

func newFeed(t testing.TB, k keys, now time.Time) *feed {
	t.Helper()
	f := &feed{dir: t.TempDir(), keys: k, now: now}
	kl := KeyList{Schema: 1, Issued: now.Add(-time.Hour)}.Add(k.signingPub, "test signing key")
	if err := SignKeyList(f.dir, kl, k.root); err != nil {
		t.Fatal(err)
	}
	return f
}

// release publishes version with bin as the binary for this platform.
func (f *feed) release(t testing.TB, o PublishOptions, bin []byte) Manifest {
	t.Helper()
	art := t.TempDir()
	name := "shir_" + runtime.GOOS + "_" + runtime.GOARCH
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if err := os.WriteFile(filepath.Join(art, name), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	o.Artifacts, o.Out = art, f.dir
	if o.Channel == "" {
		o.Channel = "stable"
	}
	if o.Rollout == 0 {
		o.Rollout = 100
	}
	if o.Now.IsZero() {
		o.Now = f.now.Add(-time.Minute)
	}
	if o.Key.ID() == 0 {
		o.Key = f.keys.signing
	}
	m, err := SignRelease(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// nodeOutsideRollout returns a node ID whose bucket is at least pct.
func nodeOutsideRollout(pct int) string {
	for i := 0; ; i++ {
		id := "node-" + strconv.Itoa(i)
		if Bucket(id) >= pct {
			return id
		}
	}
}

func exeName(name string) string {
	if runtime.GOOS == "windows" && !strings.HasSuffix(name, ".exe") {
		return name + ".exe"
	}
	return name
}
