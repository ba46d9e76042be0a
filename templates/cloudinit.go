package templates

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"text/template"
)

//go:embed cloudinit/*.tmpl
var cloudInitFS embed.FS

var cloudInitTemplates = template.Must(template.New("cloudinit").Option("missingkey=error").Funcs(template.FuncMap{
	"yamlq": func(s string) string { b, _ := json.Marshal(s); return string(b) }, // a JSON string is a YAML double-quoted scalar
	"shq":   func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" },
	"psq":   func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" },
}).ParseFS(cloudInitFS, "cloudinit/*.tmpl"))

// CloudInit is what the first-boot templates need.
type CloudInit struct {
	BinaryURL string   // https URL of the shir binary for the VM's OS/arch
	SHA256    string   // its SHA-256, 64 hex digits
	AuthKey   string   // secret: written only to the root-only key file
	Args      []string // installer arguments after AUTHKEY=@file, e.g. NODENAME=web1 NOFIREWALL=1
}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (c CloudInit) validate() error {
	if u, err := url.Parse(c.BinaryURL); err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("render cloud-init: binary URL %q must be an https URL", c.BinaryURL)
	}
	if !sha256RE.MatchString(c.SHA256) {
		return fmt.Errorf("render cloud-init: sha256 must be 64 lower-case hex digits")
	}
	if c.AuthKey == "" || strings.ContainsFunc(c.AuthKey, badRune) {
		return fmt.Errorf("render cloud-init: the authentication key is empty or has control characters")
	}
	for _, a := range c.Args {
		if strings.ContainsFunc(a, badRune) || strings.HasPrefix(strings.ToUpper(a), "AUTHKEY") {
			return fmt.Errorf("render cloud-init: installer argument %q is not allowed (control character, or AUTHKEY)", a)
		}
	}
	return nil
}

func badRune(r rune) bool { return r < 0x20 || r == 0x7f }

// RenderCloudInit renders cloud-init user data (#cloud-config) for a Linux VM.
func RenderCloudInit(c CloudInit) ([]byte, error) {
	return renderCloudInit("user-data.yaml.tmpl", c)
}

// RenderWindowsInit renders the PowerShell equivalent for a Windows VM.
func RenderWindowsInit(c CloudInit) ([]byte, error) {
	b, err := renderCloudInit("install.ps1.tmpl", c)
	if err != nil {
		return nil, err
	}
	return []byte(strings.ReplaceAll(string(b), "\n", "\r\n")), nil
}

func renderCloudInit(name string, c CloudInit) ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	var b strings.Builder
	if err := cloudInitTemplates.ExecuteTemplate(&b, name, c); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return []byte(b.String()), nil
}
