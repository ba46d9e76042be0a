package arm

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/shirhq/shir/internal/atomicfile"

	"github.com/shirhq/shir/internal/exitcode"
	"github.com/shirhq/shir/templates"
)

// TemplateOptions are the choices of `shir arm template`.
type TemplateOptions struct {
	Nodes         int    // 1 to 4
	OS            string // windows (default) or linux
	Handler       string // cse (default) or shir
	Zones         bool   // availability zones instead of an availability set
	ExistingVnet  string // resource ID of a virtual network, optionally /subnets/<name>
	AdminUsername string
	KeyVaultID    string // Key Vault holding shir-auth-key (and shir-admin-password)
}

// Output file names.
const (
	TemplateFile   = "azuredeploy.json"
	ParametersFile = "azuredeploy.parameters.json"
)

var (
	vnetIDRE = regexp.MustCompile(`(?i)^/subscriptions/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/resourceGroups/([^/]+)/providers/Microsoft\.Network/virtualNetworks/([^/]+)(?:/subnets/([^/]+))?/?$`)
)

// ParseVnetID splits a virtual network (or subnet) resource ID. Without a
// subnet, "default" is used.
func ParseVnetID(id string) (*templates.ARMVnet, error) {
	m := vnetIDRE.FindStringSubmatch(id)
	if m == nil {
		return nil, fmt.Errorf("%w: --existing-vnet %q is not a virtual network resource ID (/subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<name>[/subnets/<subnet>])", exitcode.ErrUsage, id)
	}
	v := &templates.ARMVnet{SubscriptionID: m[1], ResourceGroup: m[2], Name: m[3], Subnet: m[4]}
	if v.Subnet == "" {
		v.Subnet = "default"
	}
	return v, nil
}

// RenderTemplate renders both files and returns the warnings a user should
// see (one node means no high availability).
func RenderTemplate(o TemplateOptions) (tmpl, params []byte, warnings []string, err error) {
	if o.OS == "" {
		o.OS = "windows"
	}
	if o.Handler == "" {
		o.Handler = "cse"
	}
	a := templates.ARM{Nodes: o.Nodes, OS: o.OS, Handler: o.Handler, Zones: o.Zones, AdminUsername: o.AdminUsername}
	if o.ExistingVnet != "" {
		if a.ExistingVnet, err = ParseVnetID(o.ExistingVnet); err != nil {
			return nil, nil, nil, err
		}
	}
	if o.KeyVaultID != "" {
		if !keyVaultIDRE.MatchString(o.KeyVaultID) {
			return nil, nil, nil, fmt.Errorf("%w: --key-vault %q is not a Key Vault resource ID (/subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>)", exitcode.ErrUsage, o.KeyVaultID)
		}
		a.KeyVaultID = o.KeyVaultID
	}
	tmpl, params, err = templates.RenderARM(a)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
	}
	if o.Nodes == 1 {
		warnings = append(warnings, "1 node gives no high availability: a runtime needs 2 or more nodes (up to 4) to keep running when a VM is down")
	}
	if o.Handler == "shir" {
		warnings = append(warnings, "handler shir needs shir's VM extension published to your cloud (Azure Stack Hub or a private extension repository); on public Azure use --handler cse")
	}
	if o.KeyVaultID == "" {
		warnings = append(warnings, "the parameters file holds no secrets: pass authKey and the admin credential at deployment (or use --key-vault)")
	}
	return tmpl, params, warnings, nil
}

// WriteTemplate writes azuredeploy.json and azuredeploy.parameters.json into
// dir, each through a temporary file and a rename, so that a failure leaves
// no half-written file.
func WriteTemplate(dir string, tmpl, params []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{TemplateFile, tmpl}, {ParametersFile, params}} {
		if err := atomicfile.Write(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
