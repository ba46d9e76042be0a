package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFirewallCommandsInNetns runs `shir firewall ...` for real (detection,
// nftables) with its thread inside a throw-away network namespace.
func TestFirewallCommandsInNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root: the real `shir firewall` run in a network namespace was NOT run (CI runs it as root)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: the real `shir firewall` run was NOT run", tool)
		}
	}
	ns := fmt.Sprintf("shirfw-cli-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	nft := func(args ...string) string {
		out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "nft"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("nft %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	nft("add table inet filter; add chain inet filter input { type filter hook input priority 0; policy drop; }; add rule inet filter input iif lo accept")
	before := nft("list", "ruleset")

	shir := func(args ...string) (int, string, string) {
		runtime.LockOSThread()
		orig, _ := os.Open("/proc/thread-self/ns/net")
		defer orig.Close()
		f, err := os.Open("/run/netns/" + ns)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
				panic(err)
			}
			runtime.UnlockOSThread()
		}()
		return run(t, append([]string{"shir", "firewall"}, args...)...)
	}

	code, out, errOut := shir("open", "--port", "18070")
	if code != 0 || out != "[firewall] nftables: opened TCP port 18070 (rule \"shir remote access\")\n" {
		t.Fatalf("open: %d %q %q", code, out, errOut)
	}
	if rs := nft("list", "chain", "inet", "filter", "input"); !strings.Contains(rs, `tcp dport 18070 accept comment "shir remote access"`) {
		t.Fatalf("rule not in inet filter input:\n%s", rs)
	}
	code, out, _ = shir("status", "--port", "18070", "--json")
	var st map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st["backend"] != "nftables" || st["rulePresent"] != true || st["listening"] != false {
		t.Fatalf("status: %d %q", code, out)
	}
	code, out, _ = shir("close")
	if code != 0 || !strings.Contains(out, "removed the rule for TCP port 18070") {
		t.Fatalf("close: %d %q", code, out)
	}
	if after := nft("list", "ruleset"); after != before {
		t.Fatalf("ruleset differs after close:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
