package templates

import (
	"bytes"
	"crypto/sha1"
	"embed"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

//go:embed msi/*.tmpl
var msiFS embed.FS

// MSIUpgradeCode is the UpgradeCode of every shir MSI. It never changes:
// Windows Installer finds older versions by it and removes them in a major
// upgrade.
const MSIUpgradeCode = "{6D0C2A53-5E7B-4F0C-9B1E-3A8F2C7D4E61}"

// MSI is the input of RenderWXS.
type MSI struct {
	Version      string   // release version, e.g. 1.4.2 or 1.4.2-rc.1 (MSI keeps 1.4.2)
	Exe          string   // shir.exe (windows/amd64), relative to the directory wixl runs in
	Manufacturer string   // default "shir"
	Properties   []string // installer property names passed to shir install (upper case)
	Secret       []string // the secret ones among them: hidden from the MSI log
}

var (
	msiPropRE    = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,71}$`)
	msiVersionRE = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]*)?$`)
)

// MSIVersion turns a release version into the three-part ProductVersion
// Windows Installer compares (major and minor at most 255, build at most
// 65535). Pre-release and build suffixes are dropped: 1.4.2-rc.1 is 1.4.2.
func MSIVersion(v string) (string, error) {
	m := msiVersionRE.FindStringSubmatch(v)
	if m == nil {
		return "", fmt.Errorf("version %q: want MAJOR.MINOR.PATCH with an optional -suffix", v)
	}
	limits := []int{255, 255, 65535}
	for i, lim := range limits {
		n, err := strconv.Atoi(m[i+1])
		if err != nil || n > lim {
			return "", fmt.Errorf("version %q: part %d is %s, Windows Installer allows at most %d", v, i+1, m[i+1], lim)
		}
	}
	return m[1] + "." + m[2] + "." + m[3], nil
}

// guid derives a stable GUID from its inputs (name-based, SHA-1), so that
// the same version renders the same ProductCode: builds are reproducible
// and a rebuilt MSI of one version is the same product.
func guid(parts ...string) string {
	h := sha1.Sum([]byte(strings.Join(append([]string{MSIUpgradeCode}, parts...), "\x00")))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("{%x-%x-%x-%x-%x}", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16]))
}

// RenderWXS renders the WiX source of the shir MSI (built with
// `wixl -a x64`). Properties must include INSTALLDIR and IGNOREPREREQ; each property reaches
// `shir install /q NAME="VALUE"` only when it is set.
func RenderWXS(m MSI) ([]byte, error) {
	ver, err := MSIVersion(m.Version)
	if err != nil {
		return nil, fmt.Errorf("render wxs: %w", err)
	}
	if m.Exe == "" || strings.ContainsAny(m.Exe, "<>&\"") || strings.HasPrefix(m.Exe, "/") || strings.Contains(m.Exe, ":") {
		return nil, fmt.Errorf("render wxs: Exe %q must be a relative path (wixl wants one) without <, >, & or \"", m.Exe)
	}
	if m.Manufacturer == "" {
		m.Manufacturer = "shir"
	}
	if strings.ContainsAny(m.Manufacturer, "<>&\"") {
		return nil, fmt.Errorf("render wxs: Manufacturer %q must not contain <, >, & or \"", m.Manufacturer)
	}
	for _, must := range []string{"INSTALLDIR", "IGNOREPREREQ"} {
		if !slices.Contains(m.Properties, must) {
			return nil, fmt.Errorf("render wxs: Properties must include %s", must)
		}
	}
	if len(m.Properties) > 1000 {
		return nil, fmt.Errorf("render wxs: %d properties: at most 1000 fit between InstallFiles and RegisterUser", len(m.Properties))
	}
	for _, p := range m.Properties {
		if !msiPropRE.MatchString(p) || p == "PURGE" {
			return nil, fmt.Errorf("render wxs: property %q: want an upper-case public property name other than PURGE", p)
		}
	}
	for _, s := range m.Secret {
		if !slices.Contains(m.Properties, s) {
			return nil, fmt.Errorf("render wxs: secret property %q is not in Properties", s)
		}
	}
	t, err := template.New("shir.wxs.tmpl").Funcs(template.FuncMap{
		"seq": func(i int) int { return 4004 + i },
		"inc": func(i int) int { return i + 1 },
	}).Option("missingkey=error").ParseFS(msiFS, "msi/shir.wxs.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse wxs template: %w", err)
	}
	data := struct {
		MSI
		MSIVersion, UpgradeCode, ProductCode, PackageCode, ComponentGUID, DataGUID, Hidden string
		Args                                                                               []string // properties other than INSTALLDIR (always passed)
	}{
		MSI:           m,
		MSIVersion:    ver,
		UpgradeCode:   MSIUpgradeCode,
		ProductCode:   guid("product", m.Version),
		PackageCode:   guid("package", m.Version),
		ComponentGUID: guid("component", "shir.exe"),
		DataGUID:      guid("component", "ProgramData/shir"),
		Hidden:        strings.Join(m.Secret, ";"),
		Args:          slices.DeleteFunc(slices.Clone(m.Properties), func(p string) bool { return p == "INSTALLDIR" }),
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render wxs: %w", err)
	}
	return b.Bytes(), nil
}
