package prereq

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./prereq -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(bytes.ReplaceAll(want, []byte("\r\n"), []byte("\n")), got) {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func sampleResults(t *testing.T, ignore ...string) Results {
	res, _ := Run(context.Background(), sampleChecks(), ignore)
	res.OS, res.Arch = "linux", "amd64" // stable across GOOS
	return res
}

func TestWriteTable(t *testing.T) {
	for _, tc := range []struct {
		file   string
		ignore []string
	}{{"table.golden", nil}, {"table-ignored.golden", []string{"dotnet-472"}}} {
		var b bytes.Buffer
		if err := sampleResults(t, tc.ignore...).WriteTable(&b); err != nil {
			t.Fatal(err)
		}
		golden(t, tc.file, b.Bytes())
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	res := sampleResults(t, "systemd")
	if err := res.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "results.json.golden", b.Bytes())
	var back Results
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Schema != 1 || len(back.Checks) != len(res.Checks) || back.Summary != res.Summary {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	// An empty list is [] in JSON, never null.
	b.Reset()
	if err := (Results{Schema: 1}).WriteJSON(&b); err != nil || !bytes.Contains(b.Bytes(), []byte(`"checks": []`)) {
		t.Fatalf("empty: %s %v", b.Bytes(), err)
	}
}
