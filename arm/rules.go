package arm

import (
	"fmt"
	"regexp"
	"strings"
)

type rule struct {
	name      string // arm-ttk test name
	kind      FileKind
	onBadJSON bool // runs even when the file does not parse
	check     func(c *lintCtx) []Finding
}

// allRules are the arm-ttk tests of ../shared/reference/azure-extension.md
// §3.2 that have Pass/Fail fixtures, plus shir's own checks (prefixed Shir-).
var allRules = []rule{
	{name: "DeploymentTemplate-Schema-Is-Correct", kind: KindTemplate, onBadJSON: true, check: checkTemplateSchema},
	{name: "DeploymentTemplate-Must-Not-Contain-Hardcoded-Uri", kind: KindTemplate, check: checkHardcodedURI},
	{name: "Location-Should-Not-Be-Hardcoded", kind: KindTemplate, check: checkLocationHardcoded},
	{name: "Resources-Should-Have-Location", kind: KindTemplate, check: checkResourceLocation},
	{name: "Parameters-Must-Be-Referenced", kind: KindTemplate, check: checkParamsReferenced},
	{name: "Variables-Must-Be-Referenced", kind: KindTemplate, check: checkVarsReferenced},
	{name: "Password-params-must-be-secure", kind: KindTemplate, check: checkPasswordSecure},
	{name: "Secure-String-Parameters-Cannot-Have-Default", kind: KindTemplate, check: checkSecureDefault},
	{name: "Outputs-Must-Not-Contain-Secrets", kind: KindTemplate, check: checkOutputsSecrets},
	{name: "CommandToExecute-Must-Use-ProtectedSettings-For-Secrets", kind: KindTemplate, check: checkCommandToExecute},
	{name: "Secure-Params-In-Nested-Deployments", kind: KindTemplate, check: checkNestedSecure},
	{name: "ManagedIdentityExtension-must-not-be-used", kind: KindTemplate, check: checkManagedIdentityExt},
	{name: "Min-And-Max-Value-Are-Numbers", kind: KindTemplate, check: checkMinMax},
	{name: "Template-Should-Not-Contain-Blanks", kind: KindTemplate, check: checkBlanks},
	{name: "VM-Size-Should-Be-A-Parameter", kind: KindTemplate, check: checkVMSize},
	{name: "Virtual-Machines-Should-Not-Be-Preview", kind: KindTemplate, check: checkVMPreview},
	{name: "adminPassword-Should-Not-Be-A-Literal", kind: KindTemplate, check: checkAdminLiteral("AdminPassword", "adminPassword", "administratorLoginPassword")},
	{name: "adminUsername-Should-Not-Be-A-Literal", kind: KindTemplate, check: checkAdminLiteral("AdminUsername", "adminUsername", "administratorLogin")},
	{name: "apiVersions-Should-Be-Recent", kind: KindTemplate, check: checkAPIVersions},
	{name: "artifacts-parameter", kind: KindTemplate, check: checkArtifacts},
	{name: "Shir-No-Management-Ports-From-Internet", kind: KindTemplate, check: checkOpenManagementPorts},
	{name: "Shir-No-Hardcoded-Storage-Suffix", kind: KindTemplate, check: checkStorageSuffix},
	{name: "DeploymentParameters-Should-Have-Schema", kind: KindParameters, check: checkParamFileSchema},
	{name: "DeploymentParameters-Should-Have-ContentVersion", kind: KindParameters, check: checkParamFileContentVersion},
	{name: "DeploymentParameters-Should-Have-Parameters", kind: KindParameters, check: checkParamFileParameters},
	{name: "DeploymentParameters-Should-Have-Value", kind: KindParameters, check: checkParamFileValues},
}

// DeploymentTemplate-Schema-Is-Correct.

var validTemplateSchemas = []string{
	"https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#",
	"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
	"https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
	"https://schema.management.azure.com/schemas/2019-08-01/tenantDeploymentTemplate.json#",
	"https://schema.management.azure.com/schemas/2019-08-01/managementGroupDeploymentTemplate.json#",
}

func validTemplateSchema(s string) bool {
	for _, v := range validTemplateSchemas {
		if s == v {
			return true
		}
	}
	return false
}

func checkTemplateSchema(c *lintCtx) []Finding {
	if c.parseErr != nil {
		return []Finding{{ID: "Template.Missing.Schema", Message: "no readable $schema: the file is not valid JSON"}}
	}
	var out []Finding
	for _, s := range c.scopes() {
		v, ok := s.tmpl["$schema"]
		p := join(s.path, "$schema")
		switch {
		case !ok:
			out = append(out, Finding{ID: "Template.Missing.Schema", Path: p, Message: "the template has no $schema"})
		case !validTemplateSchema(fmt.Sprint(v)):
			out = append(out, Finding{ID: "Template.Bad.Schema", Path: p, Message: fmt.Sprintf("$schema %q is not a deployment template schema (use %s)", v, validTemplateSchemas[1])})
		}
	}
	return out
}

// DeploymentTemplate-Must-Not-Contain-Hardcoded-Uri.

// cloudHosts are the host names of every Azure cloud's endpoints, derived
// from arm-ttk's AllEnvironments cache (TestCloudHostsMatchReference keeps
// them in sync). Templates must get them from environment() instead.
var cloudHosts = []string{
	"api.loganalytics.azure.cn", "api.loganalytics.io", "api.loganalytics.us", "attest.azure.net",
	"batch.chinacloudapi.cn", "batch.core.usgovcloudapi.net", "batch.core.windows.net", "datalake.azure.net",
	"dev.azuresynapse.azure.cn", "dev.azuresynapse.net", "dev.azuresynapse.usgovcloudapi.net", "gallery.azure.com",
	"go.microsoft.com", "graph.chinacloudapi.cn", "graph.windows.net", "login.chinacloudapi.cn",
	"login.microsoftonline.com", "login.microsoftonline.us", "manage.windowsazure.us", "management.azure.com",
	"management.chinacloudapi.cn", "management.core.chinacloudapi.cn", "management.core.usgovcloudapi.net",
	"management.core.windows.net", "management.usgovcloudapi.net", "portal.azure.cn", "portal.azure.com",
	"portal.azure.us", "region.asazure.chinacloudapi.cn", "region.asazure.usgovcloudapi.net",
	"region.asazure.windows.net", "vault.azure.cn", "vault.azure.net", "vault.usgovcloudapi.net",
}

var cloudHostRE = func() *regexp.Regexp {
	q := make([]string, len(cloudHosts))
	for i, h := range cloudHosts {
		q[i] = regexp.QuoteMeta(h)
	}
	return regexp.MustCompile(`(?i)(` + strings.Join(q, "|") + `)`)
}()

func checkHardcodedURI(c *lintCtx) []Finding {
	var out []Finding
	walkValues(c.doc, "", func(key string, v any, p string) bool {
		if key == "$schema" || strings.EqualFold(key, "metadata") {
			return false
		}
		if s, ok := v.(string); ok {
			if m := cloudHostRE.FindString(s); m != "" {
				out = append(out, Finding{ID: "Hardcoded.Url.Reference", Path: p, Message: fmt.Sprintf("hard-coded cloud host %s: use environment() so the template works in every cloud", m)})
			}
		}
		return true
	})
	return out
}

// Location-Should-Not-Be-Hardcoded.

var locationFuncRE = regexp.MustCompile(`(?i)(resourceGroup|deployment)\(\)\.location`)

func checkLocationHardcoded(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		params := obj(s.tmpl, "parameters")
		if lp, ok := params["location"].(map[string]any); ok {
			pp := join(s.path, "parameters.location")
			if t := str(lp, "type"); !strings.EqualFold(t, "string") {
				out = append(out, Finding{ID: "Location.Parameter.TypeMisMatch", Path: pp, Message: fmt.Sprintf("the location parameter must be of type string, not %q", t)})
			}
			if dv, has := lp["defaultValue"]; has {
				d := strings.TrimSpace(fmt.Sprint(dv))
				if s.main {
					if d != "" && d != "[resourceGroup().location]" && d != "[deployment().location]" && d != "global" {
						out = append(out, Finding{ID: "Location.Parameter.Hardcoded", Path: pp + ".defaultValue", Message: fmt.Sprintf("the location default %q is a fixed region: use [resourceGroup().location], [deployment().location] or global", d)})
					}
				} else if !locationFuncRE.MatchString(d) {
					out = append(out, Finding{ID: "Location.Parameter.DefaultValuePresent", Path: pp + ".defaultValue", Message: fmt.Sprintf("the location parameter of a nested template must not have a default (it is %q)", d)})
				}
			}
		}
		// resourceGroup().location / deployment().location belong in the
		// location parameter's default only; deployments may use them.
		for _, k := range sortedKeys(s.tmpl) {
			if k == "parameters" || k == "resources" {
				continue
			}
			out = append(out, locationFuncUses(s.tmpl[k], join(s.path, k))...)
		}
		forEachResource(s.tmpl, s.path, func(r map[string]any, rp string) {
			if isDeployment(r) {
				return
			}
			for _, k := range sortedKeys(r) {
				if k == "resources" {
					continue
				}
				out = append(out, locationFuncUses(r[k], join(rp, k))...)
			}
			if l, ok := r["location"].(string); ok && !strings.EqualFold(l, "global") && !isExpr(l) {
				out = append(out, Finding{ID: "Location.Hardcoded", Path: rp + ".location", Message: fmt.Sprintf("resource location %q must be an expression (the location parameter) or global", l)})
			}
		})
	}
	return out
}

func locationFuncUses(v any, p string) []Finding {
	var out []Finding
	walkValues(v, p, func(_ string, v any, vp string) bool {
		if s, ok := v.(string); ok && locationFuncRE.MatchString(s) {
			out = append(out, Finding{ID: "Location.Parameter.Should.Be.Used", Path: vp, Message: "use the location parameter, not resourceGroup().location or deployment().location (allowed only as its default in the main template)"})
		}
		return true
	})
	return out
}

// Resources-Should-Have-Location.

func checkResourceLocation(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		forEachResource(s.tmpl, s.path, func(r map[string]any, rp string) {
			if l, ok := r["location"].(string); ok && !strings.EqualFold(l, "global") && !isExpr(l) {
				out = append(out, Finding{ID: "Resource.Location.Must.Be.Expression.Or.Global", Path: rp + ".location", Message: fmt.Sprintf("location %q must be an expression or global", l)})
			}
		})
	}
	return out
}

// Parameters-Must-Be-Referenced and Variables-Must-Be-Referenced.

func referencedNames(s scope, re func(string) []string) map[string]bool {
	used := map[string]bool{}
	walkScope(s.tmpl, s.path, func(_ string, v any, _ string) bool {
		if str, ok := v.(string); ok && isExpr(str) {
			for _, n := range re(str) {
				used[strings.ToLower(n)] = true
			}
		}
		return true
	})
	return used
}

func checkParamsReferenced(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		if s.outer {
			continue // an outer-scope template declares no parameters of its own
		}
		used := referencedNames(s, paramRefs)
		for _, name := range sortedKeys(obj(s.tmpl, "parameters")) {
			if strings.HasPrefix(name, "__") || used[strings.ToLower(name)] {
				continue
			}
			out = append(out, Finding{ID: "Parameters.Must.Be.Referenced", Path: join(s.path, "parameters."+name), Message: fmt.Sprintf("parameter %q is declared but never used", name)})
		}
	}
	return out
}

func checkVarsReferenced(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		if s.outer {
			continue
		}
		used := referencedNames(s, varRefs)
		vars := obj(s.tmpl, "variables")
		var declared []string
		for _, name := range sortedKeys(vars) {
			if name == "copy" {
				// variables.copy declares one variable per element.
				if arr, ok := vars[name].([]any); ok {
					for _, e := range arr {
						if m, ok := e.(map[string]any); ok {
							if n, ok := m["name"].(string); ok {
								declared = append(declared, n)
							}
						}
					}
				}
				continue
			}
			declared = append(declared, name)
		}
		for _, name := range declared {
			if used[strings.ToLower(name)] {
				continue
			}
			out = append(out, Finding{ID: "Variables.Must.Be.Referenced", Path: join(s.path, "variables."+name), Message: fmt.Sprintf("variable %q is declared but never used", name)})
		}
	}
	return out
}

// Password-params-must-be-secure.

func checkPasswordSecure(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		params := obj(s.tmpl, "parameters")
		for _, name := range sortedKeys(params) {
			if strings.HasPrefix(name, "__") || !strings.Contains(strings.ToLower(name), "password") {
				continue
			}
			p, _ := params[name].(map[string]any)
			if t := str(p, "type"); !isSecureType(t) {
				out = append(out, Finding{ID: "Password.Param.Not.Secure", Path: join(s.path, "parameters."+name), Message: fmt.Sprintf("parameter %q looks like a password but has type %q: use securestring or secureObject", name, t)})
			}
		}
	}
	return out
}

// Secure-String-Parameters-Cannot-Have-Default.

func checkSecureDefault(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		params := obj(s.tmpl, "parameters")
		for _, name := range sortedKeys(params) {
			p, _ := params[name].(map[string]any)
			if !strings.EqualFold(str(p, "type"), "securestring") {
				continue
			}
			dv, has := lookupFold(p, "defaultValue")
			if !has {
				continue
			}
			d, isStr := dv.(string)
			if isStr && (strings.TrimSpace(d) == "" || newGuidRE.MatchString(d)) {
				continue
			}
			out = append(out, Finding{ID: "SecureString.Must.Not.Have.Default", Path: join(s.path, "parameters."+name+".defaultValue"), Message: fmt.Sprintf("secure parameter %q has a default value (only \"\" or newGuid() are allowed)", name)})
		}
	}
	return out
}

// Outputs-Must-Not-Contain-Secrets.

func checkOutputsSecrets(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		secure := secureParams(s.tmpl)
		outputs := obj(s.tmpl, "outputs")
		for _, name := range sortedKeys(outputs) {
			op := join(s.path, "outputs."+name)
			if strings.Contains(strings.ToLower(name), "password") {
				out = append(out, Finding{ID: "Output.Contains.Secret.Name", Path: op, Message: fmt.Sprintf("output %q is named like a password", name)})
			}
			walkValues(outputs[name], op, func(_ string, v any, p string) bool {
				str, ok := v.(string)
				if !ok || !isExpr(str) {
					return true
				}
				if usesList(str) {
					out = append(out, Finding{ID: "Output.Contains.Secret", Path: p, Message: fmt.Sprintf("output %q returns the result of a list*() function (a key or secret)", name)})
				}
				if pn, ok := usesSecureParam(str, secure); ok {
					out = append(out, Finding{ID: "Output.Contains.SecureParameter", Path: p, Message: fmt.Sprintf("output %q returns secure parameter %q", name, pn)})
				}
				return true
			})
		}
	}
	return out
}

// CommandToExecute-Must-Use-ProtectedSettings-For-Secrets.

var customScriptTypeRE = regexp.MustCompile(`(?i)(^|/)(CustomScript|CustomScriptExtension|CustomScriptForLinux)$`)

func isCustomScript(r map[string]any) bool {
	if customScriptTypeRE.MatchString(str(r, "type")) {
		return true
	}
	return customScriptTypeRE.MatchString(str(obj(r, "properties"), "type"))
}

func checkCommandToExecute(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		secure := secureParams(s.tmpl)
		forEachResource(s.tmpl, s.path, func(r map[string]any, rp string) {
			if !isCustomScript(r) {
				return
			}
			for _, loc := range []struct {
				settings map[string]any
				path     string
			}{{obj(r, "settings"), rp + ".settings"}, {obj(obj(r, "properties"), "settings"), rp + ".properties.settings"}} {
				cmd, ok := lookupFold(loc.settings, "commandToExecute")
				if !ok {
					continue
				}
				cs, _ := cmd.(string)
				p := loc.path + ".commandToExecute"
				if isExpr(cs) && usesList(cs) {
					out = append(out, Finding{ID: "CommandToExecute.Unprotected.List", Path: p, Message: "commandToExecute uses a list*() function (a key) in public settings: move it to protectedSettings"})
				}
				if pn, ok := usesSecureParam(cs, secure); ok {
					out = append(out, Finding{ID: "CommandToExecute.Unprotected.Parameter", Path: p, Message: fmt.Sprintf("commandToExecute uses secure parameter %q in public settings: move it to protectedSettings", pn)})
				}
			}
		})
	}
	return out
}

// Secure-Params-In-Nested-Deployments.

func checkNestedSecure(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		if s.outer {
			continue // its parent reports it
		}
		secure := secureParams(s.tmpl)
		forEachResource(s.tmpl, s.path, func(r map[string]any, rp string) {
			if !isDeployment(r) {
				return
			}
			props := obj(r, "properties")
			inner, ok := props["template"].(map[string]any)
			if !ok || isInnerScope(props) {
				return
			}
			walkValues(inner, rp+".properties.template", func(_ string, v any, p string) bool {
				str, ok := v.(string)
				if !ok || !isExpr(str) {
					return true
				}
				if usesList(str) {
					out = append(out, Finding{ID: "NestedDeployment.Contains.ListFunction", Path: p, Message: "a nested template in outer scope uses a list*() function: its result is visible in the deployment history; set expressionEvaluationOptions.scope to inner"})
				}
				if pn, ok := usesSecureParam(str, secure); ok {
					out = append(out, Finding{ID: "NestedDeployment.Contains.SecureParameter", Path: p, Message: fmt.Sprintf("a nested template in outer scope uses secure parameter %q; set expressionEvaluationOptions.scope to inner", pn)})
				}
				return true
			})
		})
	}
	return out
}

// ManagedIdentityExtension-must-not-be-used.

func checkManagedIdentityExt(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		forEachResource(s.tmpl, s.path, func(r map[string]any, rp string) {
			props := obj(r, "properties")
			if strings.Contains(strings.ToLower(str(r, "type")), "managedidentityextension") ||
				strings.HasPrefix(strings.ToLower(str(props, "type")), "managedidentityextension") ||
				strings.EqualFold(str(props, "publisher"), "Microsoft.ManagedIdentity") {
				out = append(out, Finding{ID: "ManagedIdentityExtension.Was.Used", Path: rp, Message: "the ManagedIdentity VM extension is deprecated: use the instance metadata service"})
			}
		})
	}
	return out
}

// Min-And-Max-Value-Are-Numbers.

func checkMinMax(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		params := obj(s.tmpl, "parameters")
		for _, name := range sortedKeys(params) {
			p, _ := params[name].(map[string]any)
			minV, hasMin := lookupFold(p, "minValue")
			maxV, hasMax := lookupFold(p, "maxValue")
			if !hasMin && !hasMax {
				continue
			}
			pp := join(s.path, "parameters."+name)
			switch {
			case !hasMin:
				out = append(out, Finding{ID: "Min.And.Max.Missing.Min", Path: pp, Message: fmt.Sprintf("parameter %q has maxValue but no minValue", name)})
			case !hasMax:
				out = append(out, Finding{ID: "Min.And.Max.Missing.Max", Path: pp, Message: fmt.Sprintf("parameter %q has minValue but no maxValue", name)})
			}
			if hasMin && !isInt(minV) {
				out = append(out, Finding{ID: "Min.Is.Not.Int", Path: pp + ".minValue", Message: fmt.Sprintf("minValue of %q is not an integer", name)})
			}
			if hasMax && !isInt(maxV) {
				out = append(out, Finding{ID: "Max.Is.Not.Int", Path: pp + ".maxValue", Message: fmt.Sprintf("maxValue of %q is not an integer", name)})
			}
		}
	}
	return out
}

// Template-Should-Not-Contain-Blanks.

var blankAllowed = map[string]bool{
	"resources": true, "outputs": true, "variables": true, "parameters": true, "functions": true,
	"properties": true, "defaultValue": true, "accessPolicies": true, "value": true,
	"promotionCode": true, "inputs": true, "notEquals": true, "clientId": true,
	"allowedCallerIpAddresses": true, "requiredDataConnectors": true,
}

func isBlank(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

var appSettingsTypeRE = regexp.MustCompile(`(?i)/config$`)

func checkBlanks(c *lintCtx) []Finding {
	var out []Finding
	// App settings (Microsoft.Web/sites/config) may hold empty values on purpose.
	settings := map[string]bool{}
	walkValues(c.doc, "", func(_ string, v any, p string) bool {
		if m, ok := v.(map[string]any); ok && appSettingsTypeRE.MatchString(str(m, "type")) {
			settings[join(p, "properties")] = true
		}
		return true
	})
	walkValues(c.doc, "", func(key string, v any, p string) bool {
		m, ok := v.(map[string]any)
		if !ok || settings[p] {
			return true
		}
		for _, k := range sortedKeys(m) {
			if !isBlank(m[k]) || blankAllowed[k] {
				continue
			}
			tk := strings.TrimSpace(k)
			if strings.HasPrefix(tk, "[") || strings.HasPrefix(tk, "/subscriptions/") {
				continue // userAssignedIdentities keys
			}
			out = append(out, Finding{ID: "Template.Contains.Blank", Path: join(p, k), Message: fmt.Sprintf("property %q is empty (empty string, array, object or null): leave it out instead", k)})
		}
		return true
	})
	return out
}

// VM-Size-Should-Be-A-Parameter.

func checkVMSize(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		forEachResource(s.tmpl, s.path, func(r map[string]any, rp string) {
			walkValues(r, rp, func(key string, v any, p string) bool {
				if key == "template" || key == "resources" {
					return p == rp // nested templates and children are visited on their own
				}
				if !strings.EqualFold(key, "vmSize") {
					return true
				}
				val := v
				if m, ok := v.(map[string]any); ok {
					if vv, has := m["value"]; has {
						val = vv
					} else {
						return false // a parameter declaration
					}
				}
				sv, isStr := val.(string)
				if !isStr || !isExpr(sv) || !paramRefRE.MatchString(sv) {
					out = append(out, Finding{ID: "VM.Size.Should.Be.A.Parameter", Path: p, Message: fmt.Sprintf("vmSize %v is fixed: take it from a parameter", val)})
				}
				return false
			})
		})
	}
	return out
}

// Virtual-Machines-Should-Not-Be-Preview.

func checkVMPreview(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		vars := obj(s.tmpl, "variables")
		forEachResource(s.tmpl, s.path, func(r map[string]any, rp string) {
			if !strings.EqualFold(str(r, "type"), "Microsoft.Compute/virtualMachines") {
				return
			}
			sp, _ := lookupFold(obj(r, "properties"), "storageProfile")
			spPath := rp + ".properties.storageProfile"
			if sv, ok := sp.(string); ok && isExpr(sv) {
				if names := varRefs(sv); len(names) == 1 {
					sp, _ = lookupFold(vars, names[0])
					spPath = join(s.path, "variables."+names[0])
				}
			}
			spm, _ := sp.(map[string]any)
			img, _ := lookupFold(spm, "imageReference")
			preview := func(v string) bool { return strings.HasSuffix(strings.ToLower(strings.TrimSpace(v)), "preview") }
			switch x := img.(type) {
			case string:
				if preview(x) {
					out = append(out, Finding{ID: "VM.Using.Preview.Image", Path: spPath + ".imageReference", Message: fmt.Sprintf("image %q is a preview", x)})
				}
			case map[string]any:
				for _, k := range []string{"offer", "sku", "version"} {
					if v := str(x, k); preview(v) {
						out = append(out, Finding{ID: "VM.Using.Preview.Image", Path: spPath + ".imageReference." + k, Message: fmt.Sprintf("image %s %q is a preview", k, v)})
					}
				}
			}
		})
	}
	return out
}

// adminPassword / adminUsername should not be literals.

func checkAdminLiteral(idPrefix string, keys ...string) func(c *lintCtx) []Finding {
	match := func(k string) bool {
		for _, want := range keys {
			if strings.EqualFold(k, want) {
				return true
			}
		}
		return false
	}
	return func(c *lintCtx) []Finding {
		var out []Finding
		for _, s := range c.scopes() {
			vars := obj(s.tmpl, "variables")
			forEachResource(s.tmpl, s.path, func(r map[string]any, rp string) {
				walkValues(r, rp, func(key string, v any, p string) bool {
					if key == "template" || key == "resources" {
						return p == rp
					}
					if !match(key) {
						return true
					}
					val := v
					if m, ok := v.(map[string]any); ok {
						vv, has := m["value"]
						if !has {
							return false // a parameter declaration
						}
						val = vv
					}
					sv, _ := val.(string)
					if !isExpr(sv) {
						out = append(out, Finding{ID: idPrefix + ".Is.Literal", Path: p, Message: fmt.Sprintf("%s is a literal: take it from a parameter", key)})
						return false
					}
					// [variables('x')] where x is itself a literal string.
					t := strings.TrimSpace(sv)
					if names := varRefs(t); len(names) == 1 && varRefRE.FindString(t) == strings.TrimSpace(t[1:len(t)-1]) {
						if vv, ok := lookupFold(vars, names[0]); ok {
							if vs, ok := vv.(string); ok && !isExpr(vs) {
								out = append(out, Finding{ID: idPrefix + ".Is.Variable.Literal", Path: p, Message: fmt.Sprintf("%s comes from variable %q, which is a literal: take it from a parameter", key, names[0])})
							}
						}
					}
					return false
				})
			})
		}
		return out
	}
}

// artifacts-parameter.

func checkArtifacts(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		params := obj(s.tmpl, "parameters")
		loc, hasLoc := params["_artifactsLocation"].(map[string]any)
		sas, hasSas := params["_artifactsLocationSasToken"].(map[string]any)
		if !hasLoc && !hasSas {
			continue
		}
		pp := join(s.path, "parameters")
		if hasLoc {
			if t := str(loc, "type"); !strings.EqualFold(t, "string") && !strings.EqualFold(t, "securestring") {
				out = append(out, Finding{ID: "ArtifactsLocation.Wrong.Type", Path: pp + "._artifactsLocation", Message: fmt.Sprintf("_artifactsLocation must be a string, not %q", t)})
			}
			if !hasSas {
				out = append(out, Finding{ID: "ArtifactsLocation.Missing.SasToken", Path: pp, Message: "_artifactsLocation needs a _artifactsLocationSasToken parameter"})
			}
		}
		if hasSas {
			if t := str(sas, "type"); !strings.EqualFold(t, "securestring") {
				out = append(out, Finding{ID: "ArtifactsLocationSasToken.Wrong.Type", Path: pp + "._artifactsLocationSasToken", Message: fmt.Sprintf("_artifactsLocationSasToken must be a securestring, not %q", t)})
			}
		}
		if s.main {
			if hasLoc {
				d, has := loc["defaultValue"].(string)
				if !has || strings.TrimSpace(d) != "[deployment().properties.templateLink.uri]" {
					out = append(out, Finding{ID: "ArtifactsLocation.Wrong.Default", Path: pp + "._artifactsLocation", Message: "in the main template _artifactsLocation must default to [deployment().properties.templateLink.uri]"})
				}
			}
			if hasSas {
				d, has := sas["defaultValue"]
				if ds, ok := d.(string); !has || !ok || ds != "" {
					out = append(out, Finding{ID: "ArtifactsLocationSasToken.Wrong.Default", Path: pp + "._artifactsLocationSasToken", Message: "in the main template _artifactsLocationSasToken must default to \"\""})
				}
			}
		} else {
			for name, p := range map[string]map[string]any{"_artifactsLocation": loc, "_artifactsLocationSasToken": sas} {
				if _, has := p["defaultValue"]; has {
					out = append(out, Finding{ID: "ArtifactsLocation.Nested.Default", Path: pp + "." + name, Message: fmt.Sprintf("%s of a nested template must not have a default", name)})
				}
			}
		}
	}
	return out
}

// Shir-No-Management-Ports-From-Internet: the original quickstart opens RDP
// to the whole Internet on every node.

func checkOpenManagementPorts(c *lintCtx) []Finding {
	var out []Finding
	internet := func(s string) bool {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "*", "internet", "0.0.0.0/0", "any":
			return true
		}
		return false
	}
	mgmt := func(port string) bool {
		port = strings.TrimSpace(port)
		if port == "*" || port == "22" || port == "3389" || port == "5985" || port == "5986" {
			return true
		}
		if lo, hi, ok := strings.Cut(port, "-"); ok {
			var l, h int
			if _, err := fmt.Sscan(lo, &l); err == nil {
				if _, err := fmt.Sscan(hi, &h); err == nil {
					return (l <= 22 && 22 <= h) || (l <= 3389 && 3389 <= h)
				}
			}
		}
		return false
	}
	for _, s := range c.scopes() {
		forEachResource(s.tmpl, s.path, func(r map[string]any, rp string) {
			if !strings.EqualFold(str(r, "type"), "Microsoft.Network/networkSecurityGroups") {
				return
			}
			rules, _ := lookupFold(obj(r, "properties"), "securityRules")
			arr, _ := rules.([]any)
			for i, e := range arr {
				rule, _ := e.(map[string]any)
				p := obj(rule, "properties")
				if !strings.EqualFold(str(p, "direction"), "Inbound") || !strings.EqualFold(str(p, "access"), "Allow") || !internet(str(p, "sourceAddressPrefix")) {
					continue
				}
				if mgmt(str(p, "destinationPortRange")) {
					out = append(out, Finding{ID: "Shir.Management.Port.Open", Path: fmt.Sprintf("%s.properties.securityRules[%d]", rp, i), Message: fmt.Sprintf("rule %q allows %s from the Internet: nodes need only outbound 443; use Bastion or a restricted source", str(rule, "name"), str(p, "destinationPortRange"))})
				}
			}
		})
	}
	return out
}

// Parameter-file rules.

var paramFileSchemaRE = regexp.MustCompile(`^https://schema\.management\.azure\.com/schemas/\d{4}-\d{2}-\d{2}/deploymentParameters\.json#?$`)

func paramFile(c *lintCtx) map[string]any {
	m, _ := c.doc.(map[string]any)
	return m
}

func checkParamFileSchema(c *lintCtx) []Finding {
	m := paramFile(c)
	v, has := m["$schema"]
	if !has {
		return nil // not recognisable as a parameters file; the JSON schema check still wants $schema
	}
	s, _ := v.(string)
	if !paramFileSchemaRE.MatchString(s) {
		return []Finding{{ID: "Parameters.Bad.Schema", Path: "$schema", Message: fmt.Sprintf("$schema %q is not the deploymentParameters schema", s)}}
	}
	return nil
}

func hasSchema(m map[string]any) bool { _, ok := m["$schema"]; return ok }

func checkParamFileContentVersion(c *lintCtx) []Finding {
	m := paramFile(c)
	if !hasSchema(m) {
		return nil // not recognisable as a parameters file
	}
	v, ok := m["contentVersion"]
	if !ok {
		return []Finding{{ID: "Parameters.Missing.ContentVersion", Path: "contentVersion", Message: "the parameters file has no contentVersion"}}
	}
	if _, isStr := v.(string); !isStr {
		return []Finding{{ID: "Parameters.ContentVersion.Not.String", Path: "contentVersion", Message: "contentVersion must be a string such as \"1.0.0.0\""}}
	}
	return nil
}

func checkParamFileParameters(c *lintCtx) []Finding {
	m := paramFile(c)
	if !hasSchema(m) {
		return nil
	}
	if _, ok := m["parameters"].(map[string]any); !ok {
		return []Finding{{ID: "Parameters.Missing.Parameters", Path: "parameters", Message: "the parameters file has no parameters object"}}
	}
	return nil
}

var (
	keyVaultIDRE = regexp.MustCompile(`(?i)^/subscriptions/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/resourceGroups/[^/]+/providers/Microsoft\.KeyVault/vaults/[^/]+$`)
	secretNameRE = regexp.MustCompile(`^[0-9A-Za-z-]{1,127}$`)
)

func checkParamFileValues(c *lintCtx) []Finding {
	m := paramFile(c)
	if !hasSchema(m) {
		return nil
	}
	var out []Finding
	params, _ := m["parameters"].(map[string]any)
	for _, name := range sortedKeys(params) {
		p, _ := params[name].(map[string]any)
		pp := "parameters." + name
		if _, ok := p["value"]; ok {
			continue
		}
		ref, ok := p["reference"].(map[string]any)
		if !ok {
			out = append(out, Finding{ID: "Parameters.Missing.Value", Path: pp, Message: fmt.Sprintf("parameter %q has neither value nor a Key Vault reference", name)})
			continue
		}
		id := str(obj(ref, "keyVault"), "id")
		if !keyVaultIDRE.MatchString(id) {
			out = append(out, Finding{ID: "Parameters.Bad.KeyVault.Id", Path: pp + ".reference.keyVault.id", Message: fmt.Sprintf("parameter %q: keyVault.id must be /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>", name)})
		}
		if sn, ok := ref["secretName"].(string); !ok || !secretNameRE.MatchString(sn) {
			out = append(out, Finding{ID: "Parameters.Bad.SecretName", Path: pp + ".reference.secretName", Message: fmt.Sprintf("parameter %q: secretName is missing or has characters other than letters, digits and -", name)})
		}
	}
	return out
}

// Shir-No-Hardcoded-Storage-Suffix: arm-ttk's host list has no storage
// suffix, so "https://<account>.blob.core.windows.net/" built with concat
// (the linked quickstart's boot diagnostics) passes it, yet breaks in every
// other cloud. Use environment().suffixes.storage.

var storageSuffixRE = regexp.MustCompile(`(?i)\.core\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net|cloudapi\.de)`)

func checkStorageSuffix(c *lintCtx) []Finding {
	var out []Finding
	walkValues(c.doc, "", func(key string, v any, p string) bool {
		if key == "$schema" || strings.EqualFold(key, "metadata") {
			return false
		}
		if s, ok := v.(string); ok && isExpr(s) && storageSuffixRE.MatchString(s) {
			out = append(out, Finding{ID: "Hardcoded.Storage.Suffix", Path: p, Message: "an expression builds a storage endpoint with a fixed cloud suffix: use environment().suffixes.storage"})
		}
		return true
	})
	return out
}
