package templates

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var testCloudInit = CloudInit{
	BinaryURL: "https://downloads.example.com/shir/1.4.0/shir_linux_amd64/shir",
	SHA256:    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	AuthKey:   "SHIR@rt1@prod@ServiceEndpoint=https://cp.example:8443@s3cr3t-secret",
	Args:      []string{"NODENAME=web1", "NOFIREWALL=1", "PROXY=http://proxy.corp:3128"},
}

func TestRenderCloudInitGolden(t *testing.T) {
	b, err := RenderCloudInit(testCloudInit)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "cloud-init-linux.yaml.golden", b)

	// It is cloud-config YAML with the key only in the 0600 file.
	var doc struct {
		WriteFiles []struct {
			Path, Owner, Permissions, Content string
		} `yaml:"write_files"`
		RunCmd [][]string `yaml:"runcmd"`
	}
	if !bytes.HasPrefix(b, []byte("#cloud-config\n")) {
		t.Error("no #cloud-config header")
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.WriteFiles) != 2 || doc.WriteFiles[0].Content != testCloudInit.AuthKey || doc.WriteFiles[0].Permissions != "0600" || doc.WriteFiles[0].Owner != "root:root" {
		t.Fatalf("key file: %+v", doc.WriteFiles)
	}
	script := doc.WriteFiles[1].Content
	if strings.Contains(script, "s3cr3t") || strings.Count(string(b), "s3cr3t") != 1 {
		t.Error("the key appears outside its file")
	}
	if !strings.Contains(script, `AUTHKEY=@"$dir/authkey" 'NODENAME=web1'`) || !strings.Contains(script, "trap 'rm -rf \"$dir\"' EXIT") {
		t.Errorf("script:\n%s", script)
	}
	// The install script is valid sh (the real shell parses it).
	if runtime.GOOS != "windows" {
		f := filepath.Join(t.TempDir(), "install.sh")
		os.WriteFile(f, []byte(script), 0o600)
		if out, err := exec.Command("sh", "-n", f).CombinedOutput(); err != nil {
			t.Errorf("sh -n: %v\n%s", err, out)
		}
	}
}

func TestRenderWindowsInitGolden(t *testing.T) {
	b, err := RenderWindowsInit(testCloudInit)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("\r\n")) || bytes.Count(b, []byte("\n")) != bytes.Count(b, []byte("\r\n")) {
		t.Error("the script must use CRLF line ends")
	}
	golden(t, "cloud-init-windows.ps1.golden", bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")))
	s := string(b)
	for _, want := range []string{"'*S-1-5-18:(OI)(CI)F'", "/inheritance:r", `"AUTHKEY=@$key" 'NODENAME=web1'`, "} finally {", "Get-FileHash"} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q", want)
		}
	}
}

func TestRenderCloudInitBadInput(t *testing.T) {
	for name, mut := range map[string]func(*CloudInit){
		"http url":       func(c *CloudInit) { c.BinaryURL = "http://x/shir" },
		"short sha":      func(c *CloudInit) { c.SHA256 = "abc" },
		"newline in key": func(c *CloudInit) { c.AuthKey = "SHIR@a\nruncmd: [evil]" },
		"empty key":      func(c *CloudInit) { c.AuthKey = "" },
		"newline arg":    func(c *CloudInit) { c.Args = []string{"NODENAME=a\nb"} },
		"authkey arg":    func(c *CloudInit) { c.Args = []string{"AUTHKEY=SHIR@x"} },
	} {
		c := testCloudInit
		c.Args = append([]string(nil), c.Args...)
		mut(&c)
		if _, err := RenderCloudInit(c); err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: error shows the key: %v", name, err)
		}
		if _, err := RenderWindowsInit(c); err == nil {
			t.Errorf("%s (windows): no error", name)
		}
	}
}
