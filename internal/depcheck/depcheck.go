// Package depcheck enforces the import directions of DESIGN.md.
//
// The rules are data (Rules); Check is a pure function over an import graph, and
// List builds that graph with `go list -deps` for one GOOS. The module's own test
// (depcheck_test.go) runs List for linux and windows and fails on any edge that
// the rules forbid, so a forbidden import cannot land.
package depcheck

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// Rule says which in-module packages the packages under Prefix may import.
// A package belongs to the rule with the longest matching Prefix (a package
// path relative to the module root). It may always import packages of its own
// rule; beyond that only packages under one of Allow. "*" allows everything.
type Rule struct {
	Prefix string
	Allow  []string
}

// Rules is the table of DESIGN.md ("Packages and how they depend on each other").
var Rules = []Rule{
	{"cmd", []string{"*"}},
	{"arm", []string{"provision", "templates", "internal"}},
	{"provision", []string{"prereq", "firewall", "updater", "agent/register", "packaging", "templates", "internal", "controlplane/api"}},
	{"agent", []string{"agent/register", "updater", "internal", "controlplane/api"}},
	{"agent/register", []string{"templates", "internal", "controlplane/api"}},
	{"controlplane", []string{"internal", "templates", "controlplane/api"}},
	{"controlplane/api", nil},
	{"prereq", []string{"templates", "internal"}},
	{"firewall", []string{"templates", "internal"}},
	{"updater", []string{"templates", "internal"}},
	{"packaging", []string{"templates", "internal"}},
	{"templates", nil},
	{"internal", nil},
	{"bench", []string{"*"}},
}

// Package is one node of the import graph: its import path and direct imports.
type Package struct {
	Path    string
	Imports []string
}

// Violation is a forbidden import edge.
type Violation struct {
	From, To string // paths relative to the module
	Rule     string // the rule From belongs to ("" when no rule covers it)
}

func (v Violation) String() string {
	if v.Rule == "" {
		return fmt.Sprintf("%s: no rule in DESIGN.md covers this package (imports %s)", v.From, v.To)
	}
	return fmt.Sprintf("%s imports %s: rule %q does not allow it", v.From, v.To, v.Rule)
}

// Check returns the forbidden edges among pkgs of module, sorted.
func Check(module string, rules []Rule, pkgs []Package) []Violation {
	var out []Violation
	for _, p := range pkgs {
		from, ok := relative(module, p.Path)
		if !ok {
			continue
		}
		fromRule := ruleOf(rules, from)
		for _, imp := range p.Imports {
			to, ok := relative(module, imp)
			if !ok {
				continue
			}
			if fromRule == nil {
				out = append(out, Violation{From: from, To: to})
				continue
			}
			if !allowed(rules, fromRule, to) {
				out = append(out, Violation{From: from, To: to, Rule: fromRule.Prefix})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].From != out[j].From {
			return out[i].From < out[j].From
		}
		return out[i].To < out[j].To
	})
	return out
}

func allowed(rules []Rule, from *Rule, to string) bool {
	if toRule := ruleOf(rules, to); toRule != nil && toRule.Prefix == from.Prefix {
		return true
	}
	for _, a := range from.Allow {
		if a == "*" || under(to, a) {
			return true
		}
	}
	return false
}

func ruleOf(rules []Rule, rel string) *Rule {
	var best *Rule
	for i := range rules {
		r := &rules[i]
		if under(rel, r.Prefix) && (best == nil || len(r.Prefix) > len(best.Prefix)) {
			best = r
		}
	}
	return best
}

// under reports whether rel is prefix or a package below it.
func under(rel, prefix string) bool {
	return rel == prefix || strings.HasPrefix(rel, prefix+"/")
}

// relative returns path relative to module, or false if it is outside it.
func relative(module, path string) (string, bool) {
	if path == module {
		return ".", true
	}
	if rest, ok := strings.CutPrefix(path, module+"/"); ok {
		return rest, true
	}
	return "", false
}

// List runs `go list -deps` in dir for goos and returns the module path and the
// import graph of every package the module's packages depend on.
func List(ctx context.Context, dir, goos string) (module string, pkgs []Package, err error) {
	mod := exec.CommandContext(ctx, "go", "list", "-m")
	mod.Dir = dir
	mod.Env = append(os.Environ(), "GOOS="+goos, "GOFLAGS=-mod=mod")
	b, err := mod.Output()
	if err != nil {
		return "", nil, fmt.Errorf("go list -m in %s: %w", dir, err)
	}
	module = strings.TrimSpace(string(b))

	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOFLAGS=-mod=mod")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err = cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("go list -deps (GOOS=%s): %w: %s", goos, err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		pkgs = append(pkgs, Package{Path: f[0], Imports: f[1:]})
	}
	return module, pkgs, sc.Err()
}
