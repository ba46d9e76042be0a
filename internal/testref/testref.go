// Package testref finds the shared reference folder (facts and fixtures that
// tests read but never copy or edit). CI keeps it next to the checkout, at
// ../shared/reference relative to the module root; SHIR_REFERENCE_DIR
// overrides that. Only tests use this package.
package testref

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Env is the variable that overrides the location of the reference folder.
const Env = "SHIR_REFERENCE_DIR"

// RequireEnv=1 turns a missing reference folder from a skip into a failure;
// .ci/run sets it whenever ../shared/reference is there.
const RequireEnv = "SHIR_REQUIRE_REFERENCE"

// Dir returns the reference folder, or fails the test with a message that
// says where it was looked for.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(Env); d != "" {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			t.Fatalf("%s=%s is not a directory: %v", Env, d, err)
		}
		return d
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("reference fixtures: %v", err)
	}
	d := filepath.Join(filepath.Dir(root), "shared", "reference")
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		msg := fmt.Sprintf("reference fixtures not found at %s (expected ../shared/reference next to the checkout; or set %s)", d, Env)
		if os.Getenv(RequireEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg + ": the tests on the Azure and arm-ttk fixtures were not run")
	}
	return d
}

// Path joins elem to the reference folder and fails the test if it is missing.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{Dir(t)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("reference fixture missing: %v", err)
	}
	return p
}

func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", os.ErrNotExist
		}
		d = parent
	}
}
