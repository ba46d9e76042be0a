package arm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shirhq/shir/internal/exitcode"
)

// ErrLintFailed is wrapped by Lint errors when a file has findings.
var ErrLintFailed = errors.New("lint failed")

// RuleSchema and RuleJSON name the checks that are not arm-ttk tests.
const (
	RuleSchema = "JSON-Schema"
	RuleJSON   = "JSONFiles-Should-Be-Valid"
)

// Finding is one problem found in a file. Rule is the arm-ttk test name (or
// RuleSchema / a shir rule), ID the arm-ttk error id, Path where it is.
type Finding struct {
	File    string `json:"file,omitempty"`
	Rule    string `json:"rule"`
	ID      string `json:"id"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

func (f Finding) String() string {
	var sb strings.Builder
	if f.File != "" {
		sb.WriteString(f.File + ": ")
	}
	sb.WriteString(f.Rule + " (" + f.ID + ")")
	if f.Path != "" {
		sb.WriteString(" at " + f.Path)
	}
	sb.WriteString(": " + f.Message)
	return sb.String()
}

// LintOptions tune Lint.
type LintOptions struct {
	// Now is the date apiVersion ages are measured against (default time.Now).
	Now time.Time
	// Rules, when not empty, runs only these rules (arm-ttk test names).
	Rules []string
	// Validator checks the JSON schema; nil uses DefaultValidator. Set
	// SkipSchema to run the arm-ttk rules only.
	Validator  *Validator
	SkipSchema bool
}

// FileKind says whether a file is a deployment template or a parameters file.
type FileKind int

const (
	KindTemplate FileKind = iota
	KindParameters
)

// kindOf decides by $schema, then by file name (*.parameters.json).
func kindOf(name string, doc any) FileKind {
	if m, ok := doc.(map[string]any); ok {
		if s, ok := m["$schema"].(string); ok {
			if strings.Contains(strings.ToLower(s), "deploymentparameters") {
				return KindParameters
			}
			return KindTemplate
		}
	}
	if strings.HasSuffix(strings.ToLower(name), ".parameters.json") {
		return KindParameters
	}
	return KindTemplate
}

// isMainTemplate follows arm-ttk: azuredeploy.json and mainTemplate.json are
// main templates; any other file is linted as a nested template.
func isMainTemplate(name string) bool {
	switch strings.ToLower(filepath.Base(name)) {
	case "azuredeploy.json", "maintemplate.json", "prereq.azuredeploy.json":
		return true
	}
	return false
}

// Lint checks one file (template or parameters) and returns its findings,
// sorted by rule and path. The error is only for a failure to lint at all.
func Lint(name string, data []byte, opt LintOptions) ([]Finding, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	doc, perr := parseJSONC(data)
	var out []Finding
	if perr != nil {
		out = append(out, Finding{Rule: RuleJSON, ID: "JSON.Invalid", Message: perr.Error()})
	}
	kind := kindOf(name, doc)
	c := &lintCtx{name: name, doc: doc, parseErr: perr, now: opt.Now, main: isMainTemplate(name)}
	for _, r := range allRules {
		if r.kind != kind || !wanted(opt.Rules, r.name) {
			continue
		}
		if perr != nil && !r.onBadJSON {
			continue
		}
		for _, f := range r.check(c) {
			f.Rule = r.name
			out = append(out, f)
		}
	}
	if perr == nil && !opt.SkipSchema && wanted(opt.Rules, RuleSchema) {
		v := opt.Validator
		if v == nil {
			var err error
			if v, err = DefaultValidator(); err != nil {
				return nil, err
			}
		}
		out = append(out, v.schemaFindings(doc, kind == KindParameters)...)
	}
	for i := range out {
		out[i].File = name
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

func wanted(list []string, name string) bool {
	if len(list) == 0 {
		return true
	}
	for _, n := range list {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// RuleNames lists every rule Lint knows, for help and tests.
func RuleNames() []string {
	var out []string
	for _, r := range allRules {
		out = append(out, r.name)
	}
	return append(out, RuleSchema)
}

// lintCtx is what a rule sees.
type lintCtx struct {
	name     string
	doc      any
	parseErr error
	now      time.Time
	main     bool
}

// scope is one template: the file itself or an inline nested template.
type scope struct {
	tmpl  map[string]any
	path  string // JSON path of the template object ("" for the file)
	main  bool   // the file's own template and a main template by name
	inner bool   // a nested template with expressionEvaluationOptions.scope inner
	outer bool   // a nested template evaluated in the parent's scope
}

// scopes returns the file's template and every inline nested template under
// it, depth first.
func (c *lintCtx) scopes() []scope {
	m, ok := c.doc.(map[string]any)
	if !ok {
		return nil
	}
	out := []scope{{tmpl: m, main: c.main}}
	var walk func(t map[string]any, p string)
	walk = func(t map[string]any, p string) {
		forEachResource(t, p, func(r map[string]any, rp string) {
			if !isDeployment(r) {
				return
			}
			props, _ := r["properties"].(map[string]any)
			inner, _ := props["template"].(map[string]any)
			if inner == nil {
				return
			}
			ip := rp + ".properties.template"
			s := scope{tmpl: inner, path: ip}
			if isInnerScope(props) {
				s.inner = true
			} else {
				s.outer = true
			}
			out = append(out, s)
			walk(inner, ip)
		})
	}
	walk(m, "")
	return out
}

func isDeployment(r map[string]any) bool {
	t, _ := r["type"].(string)
	return strings.EqualFold(t, "Microsoft.Resources/deployments")
}

func isInnerScope(props map[string]any) bool {
	eo, _ := props["expressionEvaluationOptions"].(map[string]any)
	s, _ := eo["scope"].(string)
	return strings.EqualFold(s, "inner")
}

// forEachResource calls f for every resource of template t (array or
// symbolic-name object form) and their child resources, not descending into
// nested templates.
func forEachResource(t map[string]any, p string, f func(r map[string]any, path string)) {
	var visit func(v any, p string)
	visit = func(v any, p string) {
		switch rs := v.(type) {
		case []any:
			for i, r := range rs {
				if m, ok := r.(map[string]any); ok {
					rp := fmt.Sprintf("%s[%d]", p, i)
					f(m, rp)
					visit(m["resources"], rp+".resources")
				}
			}
		case map[string]any:
			for _, k := range sortedKeys(rs) {
				if m, ok := rs[k].(map[string]any); ok {
					rp := p + "." + k
					f(m, rp)
					visit(m["resources"], rp+".resources")
				}
			}
		}
	}
	visit(t["resources"], join(p, "resources"))
}

func join(p, k string) string {
	if p == "" {
		return k
	}
	return p + "." + k
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// walkValues calls f for every value under v with its path; returning false
// from f skips the value's children. skipTemplates stops at inline nested
// templates (properties.template of a deployment).
func walkValues(v any, p string, f func(key string, v any, p string) bool) {
	var walk func(key string, v any, p string)
	walk = func(key string, v any, p string) {
		if !f(key, v, p) {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				walk(k, x[k], join(p, k))
			}
		case []any:
			for i, e := range x {
				walk(key, e, fmt.Sprintf("%s[%d]", p, i))
			}
		}
	}
	walk("", v, p)
}

// walkScope walks the values of template t that belong to its own expression
// scope: inner-scope nested templates are left out.
func walkScope(t map[string]any, p string, f func(key string, v any, p string) bool) {
	walkValues(t, p, func(key string, v any, vp string) bool {
		if m, ok := v.(map[string]any); ok && isDeployment(m) {
			props, _ := m["properties"].(map[string]any)
			if _, has := props["template"].(map[string]any); has && isInnerScope(props) {
				// The deployment's own fields (parameters passed in) belong to
				// this scope; its template does not.
				for _, k := range sortedKeys(m) {
					if k == "properties" {
						for _, pk := range sortedKeys(props) {
							if pk != "template" {
								walkValues(props[pk], join(join(vp, "properties"), pk), f)
							}
						}
						continue
					}
					walkValues(m[k], join(vp, k), f)
				}
				return false
			}
		}
		return f(key, v, vp)
	})
}

// ARM expression helpers.

// isExpr reports whether s is a template expression: "[...]" but not "[[",
// which escapes a literal bracket.
func isExpr(s string) bool {
	t := strings.TrimSpace(s)
	return len(t) >= 2 && t[0] == '[' && t[len(t)-1] == ']' && !strings.HasPrefix(t, "[[")
}

var (
	paramRefRE = regexp.MustCompile(`(?i)\bparameters\s*\(\s*'([^']*)'\s*\)`)
	varRefRE   = regexp.MustCompile(`(?i)\bvariables\s*\(\s*'([^']*)'\s*\)`)
	listFuncRE = regexp.MustCompile(`(?i)(?:^|[^\w.])list\w*\s*\(`)
	newGuidRE  = regexp.MustCompile(`(?i)\bnewGuid\s*\(\s*\)`)
	dateVerRE  = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})(-[A-Za-z][A-Za-z0-9]*)?$`)
)

func paramRefs(expr string) []string {
	var out []string
	for _, m := range paramRefRE.FindAllStringSubmatch(expr, -1) {
		out = append(out, m[1])
	}
	return out
}

func varRefs(expr string) []string {
	var out []string
	for _, m := range varRefRE.FindAllStringSubmatch(expr, -1) {
		out = append(out, m[1])
	}
	return out
}

func usesList(expr string) bool {
	inner := strings.TrimSpace(expr)
	inner = strings.TrimSuffix(strings.TrimPrefix(inner, "["), "]")
	return listFuncRE.MatchString(inner)
}

// lookupFold finds key in m case-insensitively (ARM names are).
func lookupFold(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func str(m map[string]any, key string) string {
	v, _ := lookupFold(m, key)
	s, _ := v.(string)
	return s
}

func obj(m map[string]any, key string) map[string]any {
	v, _ := lookupFold(m, key)
	o, _ := v.(map[string]any)
	return o
}

// isSecureType reports whether an ARM parameter type is secure.
func isSecureType(t string) bool {
	return strings.EqualFold(t, "securestring") || strings.EqualFold(t, "secureobject")
}

// secureParams returns the lower-cased names of the secure parameters of t.
func secureParams(t map[string]any) map[string]bool {
	out := map[string]bool{}
	for name, v := range obj(t, "parameters") {
		if p, ok := v.(map[string]any); ok && isSecureType(str(p, "type")) {
			out[strings.ToLower(name)] = true
		}
	}
	return out
}

// usesSecureParam reports whether expression s references a secure parameter.
func usesSecureParam(s string, secure map[string]bool) (string, bool) {
	if !isExpr(s) {
		return "", false
	}
	for _, p := range paramRefs(s) {
		if secure[strings.ToLower(p)] {
			return p, true
		}
	}
	return "", false
}

// isInt reports whether v is a JSON integer.
func isInt(v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	_, err := strconv.ParseInt(string(n), 10, 64)
	return err == nil
}

// LintFiles lints each file and, for a template and a parameters file given
// together, checks that the parameters file only passes parameters the
// template declares (ARM rejects the deployment otherwise).
func LintFiles(paths []string, opt LintOptions) ([]Finding, error) {
	var out []Finding
	var tmplDecl map[string]bool
	var tmplName string
	type pf struct {
		name string
		doc  map[string]any
	}
	var paramFiles []pf
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("%w: read %s: %v", exitcode.ErrUsage, p, err)
		}
		fs, err := Lint(p, data, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
		doc, err := parseJSONC(data)
		if err != nil {
			continue
		}
		m, _ := doc.(map[string]any)
		if kindOf(p, doc) == KindParameters {
			paramFiles = append(paramFiles, pf{p, m})
			continue
		}
		if tmplDecl == nil {
			tmplName = p
			tmplDecl = map[string]bool{}
			for n := range obj(m, "parameters") {
				tmplDecl[strings.ToLower(n)] = true
			}
		}
	}
	if tmplDecl != nil {
		for _, f := range paramFiles {
			params, _ := f.doc["parameters"].(map[string]any)
			for _, n := range sortedKeys(params) {
				if !tmplDecl[strings.ToLower(n)] {
					out = append(out, Finding{File: f.name, Rule: "Shir-Parameters-File-Matches-Template", ID: "Parameters.Not.Declared", Path: "parameters." + n, Message: fmt.Sprintf("parameter %q is not declared by %s: ARM rejects the deployment", n, filepath.Base(tmplName))})
				}
			}
		}
	}
	return out, nil
}
