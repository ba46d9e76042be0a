package firewall_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/shirhq/shir/firewall"
)

// BenchmarkNFTablesOpenClose is one Open plus one Close of the real rule
// through netlink, in a throw-away namespace with the default-drop ruleset.
func BenchmarkNFTablesOpenClose(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root (network namespace)")
	}
	ns := "shirfw-bench"
	exec.Command("ip", "netns", "del", ns).Run()
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		b.Fatalf("%v %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", ns).Run()
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(nftRuleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%v %s", err, out)
	}
	f, err := os.Open("/run/netns/" + ns)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	be, err := firewall.NewNFTables(firewall.NFTablesOptions{NetNSFd: int(f.Fd())})
	if err != nil {
		b.Fatal(err)
	}
	m := firewall.NewManager(be, firewall.Options{Probe: noListener})
	ctx := context.Background()
	for b.Loop() {
		if _, err := m.Open(ctx, 18060); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Close(ctx, 18060); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStatusProbe(b *testing.B) {
	m := firewall.NewManager(firewall.NewUFW(firewall.ToolOptions{Run: newFakeUFW().run}), firewall.Options{})
	for b.Loop() {
		if _, err := m.Status(context.Background(), 18060); err != nil {
			b.Fatal(err)
		}
	}
}
