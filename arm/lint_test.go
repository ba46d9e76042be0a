package arm

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shirhq/shir/internal/testref"
)

// fixedNow is the date apiVersion ages are measured against in tests.
var fixedNow = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// TestArmTTKFixtures runs each rule on arm-ttk's own unit-test fixtures: every
// Pass file must give no finding of that rule, every Fail file at least one.
func TestArmTTKFixtures(t *testing.T) {
	root := testref.Path(t, "azure", "arm-ttk", "unit-tests")
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, n := range RuleNames() {
		known[strings.ToLower(n)] = true
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		ruleName := d.Name()
		if !known[strings.ToLower(ruleName)] {
			t.Errorf("arm-ttk fixture folder %s has no rule", ruleName)
			continue
		}
		for _, verdict := range []string{"Pass", "Fail"} {
			base := filepath.Join(root, ruleName, verdict)
			_ = filepath.WalkDir(base, func(p string, e fs.DirEntry, err error) error {
				if err != nil || e.IsDir() || !strings.HasSuffix(p, ".json") {
					return err
				}
				rel, _ := filepath.Rel(root, p)
				t.Run(filepath.ToSlash(rel), func(t *testing.T) {
					data, err := os.ReadFile(p)
					if err != nil {
						t.Fatal(err)
					}
					fs, err := Lint(filepath.Base(p), data, LintOptions{Now: fixedNow, Rules: []string{ruleName}, SkipSchema: true})
					if err != nil {
						t.Fatal(err)
					}
					var mine []Finding
					for _, f := range fs {
						if strings.EqualFold(f.Rule, ruleName) {
							mine = append(mine, f)
						}
					}
					if verdict == "Pass" && len(mine) > 0 {
						t.Errorf("Pass fixture has findings:\n%s", findingsText(mine))
					}
					if verdict == "Fail" && len(mine) == 0 {
						t.Errorf("Fail fixture has no %s finding (all findings: %v)", ruleName, fs)
					}
				})
				return nil
			})
		}
	}
}

func findingsText(fs []Finding) string {
	var lines []string
	for _, f := range fs {
		lines = append(lines, "  "+f.String())
	}
	return strings.Join(lines, "\n")
}

// TestEmbeddedSchemasMatchReference keeps the embedded schema copies equal to
// the reference folder's.
func TestEmbeddedSchemasMatchReference(t *testing.T) {
	ref := testref.Path(t, "azure", "arm-schema", "schemas")
	for _, rel := range []string{"2019-04-01/deploymentTemplate.json", "2019-04-01/deploymentParameters.json", "common/definitions.json"} {
		want, err := os.ReadFile(filepath.Join(ref, rel))
		if err != nil {
			t.Fatal(err)
		}
		got, err := embeddedSchemas.ReadFile("schemas/" + rel)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("embedded schemas/%s differs from %s", rel, filepath.Join(ref, rel))
		}
	}
}

// TestCloudHostsMatchReference derives the disallowed hosts from arm-ttk's
// AllEnvironments cache, as arm-ttk does, and compares with cloudHosts.
func TestCloudHostsMatchReference(t *testing.T) {
	data, err := os.ReadFile(testref.Path(t, "azure", "arm-ttk", "cache", "AllEnvironments.cache.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := hostsFromEnvironments(t, data)
	want := append([]string(nil), cloudHosts...)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("hosts from the cache:\n%v\ncloudHosts:\n%v", got, want)
	}
}
