package firewall

import (
	"slices"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

func TestNFTRuleRoundTrip(t *testing.T) {
	r := &nftables.Rule{Exprs: nftRuleExprs(8060), UserData: nftTag()}
	if p, ok := nftRulePort(r); !ok || p != 8060 {
		t.Fatalf("nftRulePort = %d, %v", p, ok)
	}
	untagged := &nftables.Rule{Exprs: nftRuleExprs(8060)}
	if _, ok := nftRulePort(untagged); ok {
		t.Error("an untagged rule was claimed")
	}
	udp := &nftables.Rule{Exprs: slices.Clone(nftRuleExprs(8060)), UserData: nftTag()}
	udp.Exprs[1] = &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{17}}
	if _, ok := nftRulePort(udp); ok {
		t.Error("a UDP rule was claimed")
	}
}

func TestNFTTargetChains(t *testing.T) {
	inet := &nftables.Table{Name: "filter", Family: nftables.TableFamilyINet}
	ipt := &nftables.Table{Name: "filter", Family: nftables.TableFamilyIPv4}
	fwd := &nftables.Table{Name: "firewalld", Family: nftables.TableFamilyINet}
	bridge := &nftables.Table{Name: "br", Family: nftables.TableFamilyBridge}
	chains := []*nftables.Chain{
		{Name: "input", Table: inet, Hooknum: nftables.ChainHookInput, Type: nftables.ChainTypeFilter},
		{Name: "output", Table: inet, Hooknum: nftables.ChainHookOutput, Type: nftables.ChainTypeFilter},
		{Name: "regular", Table: inet},
		{Name: "INPUT", Table: ipt, Hooknum: nftables.ChainHookInput, Type: nftables.ChainTypeFilter},
		{Name: "filter_INPUT", Table: fwd, Hooknum: nftables.ChainHookInput, Type: nftables.ChainTypeFilter},
		{Name: "input", Table: bridge, Hooknum: nftables.ChainHookInput, Type: nftables.ChainTypeFilter},
	}
	got := nftTargetChains(chains)
	if len(got) != 1 || got[0] != chains[0] {
		t.Errorf("targets = %v", got)
	}
}

const procNetTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F7C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 123456 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F7C 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0
`

func TestParseProcNetTCP(t *testing.T) {
	if got := parseProcNetTCP([]byte(procNetTCP), 8060); !slices.Equal(got, []uint64{123456}) {
		t.Errorf("8060: %v", got)
	}
	if got := parseProcNetTCP([]byte(procNetTCP), 22); !slices.Equal(got, []uint64{999}) {
		t.Errorf("22: %v", got)
	}
	if got := parseProcNetTCP([]byte(procNetTCP), 80); len(got) != 0 {
		t.Errorf("80: %v", got)
	}
}

func FuzzParseProcNetTCP(f *testing.F) {
	f.Add([]byte(procNetTCP), 8060)
	f.Add([]byte("x\n 0: :1F7C 0 0A a b c d e 1"), 8060)
	f.Fuzz(func(t *testing.T, data []byte, port int) {
		for _, ino := range parseProcNetTCP(data, port) {
			if ino == 0 {
				t.Fatal("inode 0 returned")
			}
		}
	})
}
