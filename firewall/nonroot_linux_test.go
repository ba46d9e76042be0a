package firewall_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/shirhq/shir/firewall"
	"github.com/shirhq/shir/internal/exitcode"
)

// TestMissingPrivileges runs this test binary again as user nobody and has it
// open the port with the real nftables and iptables backends: the kernel or
// the tool refuses, and the error must say so (ErrPermission, exit code 3).
func TestMissingPrivileges(t *testing.T) {
	if os.Getenv("SHIR_FW_AS_NOBODY") == "1" {
		asNobody(t)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("not root: cannot switch to user nobody, the missing-privileges run was NOT done (CI runs it as root)")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := filepath.Dir(dir); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // t.TempDir's parent is 0700
	}
	bin := filepath.Join(dir, "firewall.test")
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	cmd := exec.Command(bin, "-test.run=^TestMissingPrivileges$", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SHIR_FW_AS_NOBODY=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "checked as uid 65534") {
		t.Fatalf("run as nobody: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

func asNobody(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Fatal("still root")
	}
	ctx := context.Background()
	for _, backend := range []string{firewall.NFTables, firewall.IPTables} {
		if backend == firewall.IPTables {
			if _, err := exec.LookPath("iptables"); err != nil {
				t.Logf("iptables not installed: skipped")
				continue
			}
		}
		m, err := firewall.New(ctx, firewall.Options{Backend: backend, Probe: noListener})
		if err == nil {
			_, err = m.Open(ctx, 18060)
		}
		if !errors.Is(err, firewall.ErrPermission) || exitcode.Code(err) != exitcode.Prereq || !strings.Contains(err.Error(), "needs root") {
			t.Fatalf("%s as uid %d: %v; want ErrPermission (exit 3)", backend, os.Geteuid(), err)
		}
		t.Logf("%s: %v", backend, err)
	}
	t.Logf("checked as uid %d", os.Geteuid())
}
