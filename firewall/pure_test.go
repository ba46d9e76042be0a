package firewall

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestValidatePort(t *testing.T) {
	for _, p := range []int{1, 8060, 65535} {
		if err := ValidatePort(p); err != nil {
			t.Errorf("ValidatePort(%d) = %v", p, err)
		}
	}
	for _, p := range []int{0, -5, 65536} {
		if err := ValidatePort(p); err == nil {
			t.Errorf("ValidatePort(%d) = nil", p)
		}
	}
}

func TestChooseLinux(t *testing.T) {
	tests := []struct {
		name string
		f    linuxFacts
		want string
	}{
		{"firewalld wins", linuxFacts{FirewalldRunning: true, UFWActive: true, NFTInputChains: 2, IPTablesFiltering: true}, Firewalld},
		{"ufw over nft", linuxFacts{UFWActive: true, NFTInputChains: 1, IPTablesFiltering: true}, UFW},
		{"nftables", linuxFacts{NFTInputChains: 1, IPTablesFiltering: true}, NFTables},
		{"iptables", linuxFacts{IPTablesFiltering: true}, IPTables},
		{"nothing", linuxFacts{}, None},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, why := chooseLinux(tt.f); got != tt.want || why == "" {
				t.Errorf("chooseLinux(%+v) = %q (%q), want %q", tt.f, got, why, tt.want)
			}
		})
	}
}

func TestParseFirewalldPorts(t *testing.T) {
	got := parseFirewalldPorts("8060/tcp 53/udp 9000-9010/tcp 8060/tcp 70000/tcp\n")
	if !slices.Equal(got, []int{8060}) {
		t.Errorf("got %v", got)
	}
}

func TestParseUFWAdded(t *testing.T) {
	out := `Added user rules (see 'ufw status' for running firewall):
ufw allow 22/tcp
ufw allow 8060/tcp comment 'shir remote access'
ufw allow 9000/tcp comment 'someone else'
ufw deny 7000/tcp comment 'shir remote access'
ufw allow 8061/udp comment 'shir remote access'
`
	if got := parseUFWAdded(out); !slices.Equal(got, []int{8060}) {
		t.Errorf("got %v", got)
	}
	if got := ufwAllowArgs(8060); strings.Join(got, "|") != "allow|8060/tcp|comment|shir remote access" {
		t.Errorf("ufwAllowArgs = %q", got)
	}
}

func TestFirewalldAddStepsOnlyWhatIsMissing(t *testing.T) {
	if s := firewalldAddSteps(8060, true, true, true, true); len(s) != 0 {
		t.Errorf("everything present: %v", s)
	}
	s := firewalldAddSteps(8060, true, true, true, false)
	if len(s) != 1 || strings.Join(s[0].do, " ") != "--add-port=8060/tcp" || strings.Join(s[0].undo, " ") != "--remove-port=8060/tcp" {
		t.Errorf("runtime only: %v", s)
	}
}

func TestWindowsRule(t *testing.T) {
	r := windowsRule(8060)
	want := winRule{
		Name: "shir remote access (TCP 8060)", Description: r.Description, Grouping: "shir remote access",
		Protocol: 6, LocalPorts: "8060", Direction: 1, Action: 1, Profiles: 0x7FFFFFFF, Enabled: true,
	}
	if r != want {
		t.Errorf("windowsRule = %+v\nwant %+v", r, want)
	}
	if p, ok := winRulePort(r); !ok || p != 8060 {
		t.Errorf("winRulePort = %d, %v", p, ok)
	}
	for _, other := range []winRule{
		{Name: "x", Grouping: "@FirewallAPI.dll,-28502", Protocol: 6, LocalPorts: "8060", Direction: 1},
		{Name: "y", Grouping: Tag, Protocol: 17, LocalPorts: "8060", Direction: 1},
		{Name: "z", Grouping: Tag, Protocol: 6, LocalPorts: "8060-8070", Direction: 1},
		{Name: "w", Grouping: Tag, Protocol: 6, LocalPorts: "8060", Direction: 2},
	} {
		if _, ok := winRulePort(other); ok {
			t.Errorf("winRulePort(%+v) claims a rule that is not ours", other)
		}
	}
}

// fakeWinRules is INetFwRules in memory, with the behaviour of the COM API:
// Add does not dedupe, Remove of an absent name is a no-op.
type fakeWinRules struct {
	rules  []winRule
	addErr error
}

func (f *fakeWinRules) list() ([]winRule, error) { return slices.Clone(f.rules), nil }
func (f *fakeWinRules) add(r winRule) error {
	if f.addErr != nil {
		return f.addErr
	}
	f.rules = append(f.rules, r)
	return nil
}
func (f *fakeWinRules) remove(name string) error {
	if i := slices.IndexFunc(f.rules, func(r winRule) bool { return r.Name == name }); i >= 0 {
		f.rules = slices.Delete(f.rules, i, i+1)
	}
	return nil
}

func TestWinBackend(t *testing.T) {
	other := []winRule{
		{Name: "File and Printer Sharing (SMB-In)", Grouping: "@FirewallAPI.dll,-28502", Protocol: 6, LocalPorts: "445", Direction: 1, Action: 1},
		{Name: "admin 8060", Grouping: "", Protocol: 6, LocalPorts: "8060", Direction: 1, Action: 1},
	}
	f := &fakeWinRules{rules: slices.Clone(other)}
	m := NewManager(&winBackend{rules: f}, Options{Probe: func(int) (Listener, error) { return Listener{}, nil }})
	ctx := context.Background()
	for range 2 {
		if _, err := m.Open(ctx, 8060); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.rules) != 3 || f.rules[2] != windowsRule(8060) {
		t.Fatalf("after two Opens: %+v", f.rules)
	}
	st, err := m.Status(ctx, 8060)
	if err != nil || !st.RulePresent {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	if _, err := m.Close(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.rules, other) {
		t.Fatalf("Close touched other rules: %+v", f.rules)
	}
	f.addErr = errors.New("Access is denied. (0x80070005)")
	if _, err := m.Open(ctx, 8060); !errors.Is(err, ErrPermission) {
		t.Fatalf("Open with E_ACCESSDENIED = %v", err)
	}
}

func TestSplitQuoted(t *testing.T) {
	got := splitQuoted(`-A INPUT -m comment --comment "shir remote access" -m comment --comment a\ b -j ACCEPT`)
	want := []string{"-A", "INPUT", "-m", "comment", "--comment", "shir remote access", "-m", "comment", "--comment", "a b", "-j", "ACCEPT"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q", got)
	}
}

func FuzzParseUFWAdded(f *testing.F) {
	f.Add("ufw allow 8060/tcp comment 'shir remote access'\nufw allow 22/tcp\n")
	f.Fuzz(func(t *testing.T, out string) {
		for _, p := range parseUFWAdded(out) {
			if p < 1 || p > 65535 {
				t.Fatalf("port %d out of range", p)
			}
		}
	})
}

func FuzzParseFirewalldPorts(f *testing.F) {
	f.Add("8060/tcp 53/udp")
	f.Fuzz(func(t *testing.T, out string) {
		for _, p := range parseFirewalldPorts(out) {
			if p < 1 || p > 65535 || !strings.Contains(out, portProto(p)) {
				t.Fatalf("port %d not in %q", p, out)
			}
		}
	})
}

func TestParseIPTablesRule(t *testing.T) {
	tests := []struct {
		line string
		port int
		ok   bool
	}{
		{`-A INPUT -p tcp -m tcp --dport 8060 -m comment --comment "shir remote access" -j ACCEPT`, 8060, true},
		{`-A INPUT -p tcp -m tcp --dport 8060 -m comment --comment "someone else" -j ACCEPT`, 0, false},
		{`-A INPUT -p tcp -m tcp --dport 8060 -j ACCEPT`, 0, false},
		{`-A INPUT -p tcp -m tcp --dport 8060 -m comment --comment "shir remote access" -j DROP`, 0, false},
		{`-A FORWARD -p tcp -m tcp --dport 8060 -m comment --comment "shir remote access" -j ACCEPT`, 0, false},
		{`-A INPUT -p tcp -m tcp --dport 0 -m comment --comment "shir remote access" -j ACCEPT`, 0, false},
		{`-P INPUT DROP`, 0, false},
	}
	for _, tt := range tests {
		p, ok := parseIPTablesRule(tt.line)
		if p != tt.port || ok != tt.ok {
			t.Errorf("parseIPTablesRule(%q) = %d, %v; want %d, %v", tt.line, p, ok, tt.port, tt.ok)
		}
	}
	// The spec we insert parses back to its port.
	line := "-A INPUT"
	for _, f := range iptablesSpec(9000) {
		if f == Tag {
			f = `"` + f + `"`
		}
		line += " " + f
	}
	if p, ok := parseIPTablesRule(line); !ok || p != 9000 {
		t.Errorf("round trip: %d, %v", p, ok)
	}
}

func TestIPTablesFilters(t *testing.T) {
	if iptablesFilters([]string{"-P INPUT ACCEPT"}) {
		t.Error("accept policy without rules filters nothing")
	}
	if !iptablesFilters([]string{"-P INPUT DROP"}) || !iptablesFilters([]string{"-P INPUT ACCEPT", "-A INPUT -j REJECT"}) {
		t.Error("drop policy / a rule not seen")
	}
}

func FuzzParseIPTablesRule(f *testing.F) {
	f.Add(`-A INPUT -p tcp -m tcp --dport 8060 -m comment --comment "shir remote access" -j ACCEPT`)
	f.Add(`-A INPUT -m comment --comment "a\"b" -j ACCEPT`)
	f.Fuzz(func(t *testing.T, line string) {
		if p, ok := parseIPTablesRule(line); ok && (p < 1 || p > 65535) {
			t.Fatalf("port %d out of range", p)
		}
	})
}
