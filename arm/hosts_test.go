package arm

import (
	"net/url"
	"sort"
	"strings"
	"testing"
)

func hostsFromEnvironments(t *testing.T, data []byte) []string {
	t.Helper()
	doc, err := parseJSONC(data)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	envs, _ := doc.([]any)
	for _, e := range envs {
		m, _ := e.(map[string]any)
		for _, v := range m {
			s, ok := v.(string)
			if !ok {
				continue
			}
			u, err := url.Parse(s)
			if err != nil || u.Scheme == "" || u.Hostname() == "" {
				continue
			}
			set[strings.ToLower(u.Hostname())] = true
		}
	}
	var out []string
	for h := range set {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}
