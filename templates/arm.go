package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"text/template"
)

//go:embed arm/*.tmpl
var armFS embed.FS

var armTemplates = template.Must(template.New("arm").Funcs(template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}).ParseFS(armFS, "arm/*.tmpl"))

// ARMVnet is an existing virtual network the node NICs join.
type ARMVnet struct {
	SubscriptionID, ResourceGroup, Name, Subnet string
}

// ARMAPIVersions are the apiVersions written into the template.
type ARMAPIVersions struct {
	Network, Compute string
}

// DefaultARMAPIVersions are the newest GA apiVersions of the types we emit.
var DefaultARMAPIVersions = ARMAPIVersions{Network: "2024-05-01", Compute: "2024-07-01"}

// ARM is the input of RenderARM.
type ARM struct {
	Nodes         int    // 1 to 4
	OS            string // windows or linux
	Handler       string // cse (Custom Script Extension) or shir (shir's own VM-extension handler)
	Zones         bool   // availability zones instead of an availability set
	ExistingVnet  *ARMVnet
	AdminUsername string
	// KeyVaultID, when set, makes the parameters file take the secrets from
	// this Key Vault (secrets shir-auth-key, shir-admin-password); otherwise
	// they are left out of the file and asked at deployment.
	KeyVaultID string
	// HandlerPublisher and HandlerType name shir's extension (handler shir).
	HandlerPublisher, HandlerType string
	APIVersions                   ARMAPIVersions
}

var (
	armNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._()-]{0,89}$`)
	armUserRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,19}$`)
)

// check validates a; errors name the field.
func (a *ARM) check() error {
	if a.Nodes < 1 || a.Nodes > 4 {
		return fmt.Errorf("nodes: %d is out of range (1 to 4: a runtime has at most 4 nodes)", a.Nodes)
	}
	if a.OS != "windows" && a.OS != "linux" {
		return fmt.Errorf("os: %q is not windows or linux", a.OS)
	}
	if a.Handler != "cse" && a.Handler != "shir" {
		return fmt.Errorf("handler: %q is not cse or shir", a.Handler)
	}
	if !armUserRE.MatchString(a.AdminUsername) {
		return fmt.Errorf("admin username: %q is not a valid VM user name (letters, digits, _ . -; at most 20)", a.AdminUsername)
	}
	if v := a.ExistingVnet; v != nil {
		for field, val := range map[string]string{"resource group": v.ResourceGroup, "name": v.Name, "subnet": v.Subnet} {
			if !armNameRE.MatchString(val) {
				return fmt.Errorf("existing vnet %s: %q is not a valid Azure name", field, val)
			}
		}
	}
	return nil
}

// RenderARM renders azuredeploy.json and azuredeploy.parameters.json (both
// indented with two spaces, ending in a newline). It is pure: same input,
// same bytes.
func RenderARM(a ARM) (template, parameters []byte, err error) {
	if a.HandlerPublisher == "" {
		a.HandlerPublisher = "Shir.Azure"
	}
	if a.HandlerType == "" {
		a.HandlerType = "ShirNode"
	}
	if a.APIVersions == (ARMAPIVersions{}) {
		a.APIVersions = DefaultARMAPIVersions
	}
	if a.AdminUsername == "" {
		a.AdminUsername = "shiradmin"
	}
	if err := a.check(); err != nil {
		return nil, nil, err
	}
	if template, err = renderJSON("azuredeploy.json.tmpl", a); err != nil {
		return nil, nil, err
	}
	if parameters, err = renderJSON("azuredeploy.parameters.json.tmpl", a); err != nil {
		return nil, nil, err
	}
	return template, parameters, nil
}

func renderJSON(name string, data any) ([]byte, error) {
	var raw bytes.Buffer
	if err := armTemplates.ExecuteTemplate(&raw, name, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("render %s: not valid JSON: %w", name, err)
	}
	out.WriteByte('\n')
	return []byte(strings.ReplaceAll(out.String(), "\r\n", "\n")), nil
}
