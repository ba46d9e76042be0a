package arm

import (
	"fmt"
	"strings"
	"time"
)

// apiVersionsSnapshot is the date latestGA was taken. arm-ttk reads the
// newest apiVersions from its live AllAzureResources cache, which is not
// available offline; this pinned index (the newest GA apiVersion of each
// resource type, from the azure-resource-manager-schemas folder layout, see
// ../shared/reference/azure-extension.md §3.3) is refreshed on purpose, never
// fetched. Types not in it get only the format checks.
const apiVersionsSnapshot = "2026-11-25"

var latestGA = map[string]string{
	"microsoft.resources/deployments":                           "2025-04-01",
	"microsoft.network/virtualnetworks":                         "2024-05-01",
	"microsoft.network/virtualnetworks/subnets":                 "2024-05-01",
	"microsoft.network/networksecuritygroups":                   "2024-05-01",
	"microsoft.network/networkinterfaces":                       "2024-05-01",
	"microsoft.network/publicipaddresses":                       "2024-05-01",
	"microsoft.network/privatednszones":                         "2024-06-01",
	"microsoft.network/dnszones":                                "2018-05-01",
	"microsoft.compute/virtualmachines":                         "2024-07-01",
	"microsoft.compute/virtualmachines/extensions":              "2024-07-01",
	"microsoft.compute/availabilitysets":                        "2024-07-01",
	"microsoft.storage/storageaccounts":                         "2025-06-01",
	"microsoft.storage/storageaccounts/blobservices/containers": "2025-06-01",
	"microsoft.datafactory/factories":                           "2018-06-01",
	"microsoft.datafactory/factories/integrationruntimes":       "2018-06-01",
	"microsoft.datafactory/datafactories":                       "2015-10-01",
	"microsoft.keyvault/vaults":                                 "2024-11-01",
	"microsoft.authorization/roleassignments":                   "2022-04-01",
	"microsoft.servicebus/namespaces":                           "2024-01-01",
	"microsoft.dbformysql/servers":                              "2020-01-01",
	"microsoft.devtestlab/schedules":                            "2018-09-15",
	"microsoft.web/connections":                                 "2016-06-01",
}

// maxAPIAge is arm-ttk's limit: an apiVersion that is not the newest must be
// younger than two years.
const maxAPIAge = 730 * 24 * time.Hour

func checkAPIVersions(c *lintCtx) []Finding {
	var out []Finding
	for _, s := range c.scopes() {
		bicep := strings.EqualFold(str(obj(obj(s.tmpl, "metadata"), "_generator"), "name"), "bicep")
		var visit func(v any, p, parentType string)
		visit = func(v any, p, parentType string) {
			each := func(r map[string]any, rp string) {
				typ := str(r, "type")
				full := typ
				if parentType != "" && !strings.Contains(strings.ToLower(typ), ".") {
					full = parentType + "/" + typ
				}
				out = append(out, checkOneAPIVersion(c.now, r, rp, full, bicep)...)
				visit(r["resources"], rp+".resources", full)
			}
			switch rs := v.(type) {
			case []any:
				for i, e := range rs {
					if r, ok := e.(map[string]any); ok {
						each(r, fmt.Sprintf("%s[%d]", p, i))
					}
				}
			case map[string]any:
				for _, k := range sortedKeys(rs) {
					if r, ok := rs[k].(map[string]any); ok {
						each(r, p+"."+k)
					}
				}
			}
		}
		visit(s.tmpl["resources"], join(s.path, "resources"), "")
	}
	return out
}

func skipsAPICheck(r map[string]any) bool {
	md, _ := r["metadata"].([]any)
	for _, m := range md {
		if s, ok := m.(string); ok && strings.EqualFold(s, "disable-apiVersions-should-be-recent") {
			return true
		}
	}
	return false
}

func checkOneAPIVersion(now time.Time, r map[string]any, rp, typ string, bicep bool) []Finding {
	v, has := r["apiVersion"]
	if !has || skipsAPICheck(r) {
		return nil
	}
	if bicep && isDeployment(r) {
		return nil // a Bicep module: its apiVersion is Bicep's choice
	}
	p := rp + ".apiVersion"
	av, ok := v.(string)
	if !ok {
		return []Finding{{ID: "ApiVersion.Not.String", Path: p, Message: fmt.Sprintf("apiVersion %v of %s is not a string", v, typ)}}
	}
	m := dateVerRE.FindStringSubmatch(av)
	if m == nil {
		return []Finding{{ID: "ApiVersion.Not.Date", Path: p, Message: fmt.Sprintf("apiVersion %q of %s is not a fixed date (yyyy-mm-dd[-preview])", av, typ)}}
	}
	date, err := time.Parse(time.DateOnly, m[1])
	if err != nil {
		return []Finding{{ID: "ApiVersion.Not.Date", Path: p, Message: fmt.Sprintf("apiVersion %q of %s is not a valid date", av, typ)}}
	}
	latest, known := latestGA[strings.ToLower(typ)]
	if !known {
		return nil
	}
	ga, _ := time.Parse(time.DateOnly, latest)
	if m[2] != "" && !ga.Before(date) {
		return []Finding{{ID: "ApiVersion.Preview.Not.Recent", Path: p, Message: fmt.Sprintf("apiVersion %q of %s is a preview, and GA %s is as new or newer", av, typ, latest)}}
	}
	if av != latest && now.Sub(date) > maxAPIAge {
		return []Finding{{ID: "ApiVersion.OutOfDate", Path: p, Message: fmt.Sprintf("apiVersion %q of %s is more than 730 days old; the newest GA is %s (index of %s)", av, typ, latest, apiVersionsSnapshot)}}
	}
	return nil
}
