package firewall

import "strconv"

// iptablesSpec is the rule of port in filter INPUT.
func iptablesSpec(port int) []string {
	return []string{"-p", "tcp", "-m", "tcp", "--dport", strconv.Itoa(port),
		"-m", "comment", "--comment", Tag, "-j", "ACCEPT"}
}

// parseIPTablesRule returns the port of one of our rules in `iptables -S`
// output, such as
// -A INPUT -p tcp -m tcp --dport 8060 -m comment --comment "shir remote access" -j ACCEPT
func parseIPTablesRule(line string) (int, bool) {
	f := splitQuoted(line)
	if len(f) < 2 || f[0] != "-A" || f[1] != "INPUT" {
		return 0, false
	}
	rest := f[2:]
	spec := iptablesSpec(0)
	if len(rest) != len(spec) {
		return 0, false
	}
	port := 0
	for i := range spec {
		if i == 5 {
			p, ok := parsePort(rest[i])
			if !ok {
				return 0, false
			}
			port = p
			continue
		}
		if rest[i] != spec[i] {
			return 0, false
		}
	}
	return port, true
}

// splitQuoted splits like iptables-save quotes: fields separated by spaces,
// double quotes group, backslash escapes the next character.
func splitQuoted(s string) []string {
	var out []string
	var cur []rune
	in, quoted, esc := false, false, false
	for _, r := range s {
		switch {
		case esc:
			cur, esc, in = append(cur, r), false, true
		case r == '\\':
			esc, in = true, true
		case r == '"':
			quoted, in = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if in {
				out, cur, in = append(out, string(cur)), cur[:0:0], false
			}
		default:
			cur, in = append(cur, r), true
		}
	}
	if in {
		out = append(out, string(cur))
	}
	return out
}

// iptablesFilters reports whether filter INPUT drops or holds rules (the
// policy is not ACCEPT, or there is any rule).
func iptablesFilters(lines []string) bool {
	for _, l := range lines {
		f := splitQuoted(l)
		if len(f) >= 3 && f[0] == "-P" && f[1] == "INPUT" && f[2] != "ACCEPT" {
			return true
		}
		if len(f) >= 2 && f[0] == "-A" && f[1] == "INPUT" {
			return true
		}
	}
	return false
}
