package firewall_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"syscall"
	"testing"

	"github.com/shirhq/shir/firewall"
	"github.com/shirhq/shir/firewall/firewalltest"
	"github.com/shirhq/shir/internal/exitcode"
)

func TestConformanceFake(t *testing.T) {
	firewalltest.Run(t, func(t *testing.T) *firewalltest.Env {
		return firewalltest.FakeEnv(firewalltest.NewFake())
	})
}

func newManager(t *testing.T, f *firewalltest.Fake) *firewall.Manager {
	return firewall.NewManager(f, firewall.Options{
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
		Probe:  func(int) (firewall.Listener, error) { return firewall.Listener{}, nil },
	})
}

func TestOpenRollsBackPartialAdd(t *testing.T) {
	f := firewalltest.NewFake()
	before := f.String()
	f.FailAdd, f.PartialAdd = errors.New("ip6tables: exit status 4"), true
	_, err := newManager(t, f).Open(context.Background(), 8060)
	if err == nil || !strings.Contains(err.Error(), "add rule for port 8060") || !strings.Contains(err.Error(), "ip6tables") {
		t.Fatalf("Open = %v", err)
	}
	if got := f.String(); got != before {
		t.Errorf("partial add was not rolled back:\n%s", got)
	}
	if want := "add 8060\nremove 8060"; f.Calls() != want {
		t.Errorf("calls:\n%s\nwant:\n%s", f.Calls(), want)
	}
}

func TestOpenRollsBackWhenVerifyFails(t *testing.T) {
	f := firewalltest.NewFake()
	f.ForgetAdd = true
	_, err := newManager(t, f).Open(context.Background(), 8060)
	if err == nil || !strings.Contains(err.Error(), "missing after it was added") {
		t.Fatalf("Open = %v", err)
	}
	if want := "add 8060\nremove 8060"; f.Calls() != want {
		t.Errorf("calls:\n%s\nwant:\n%s", f.Calls(), want)
	}
}

func TestOpenKeepsExistingRuleOnFailure(t *testing.T) {
	f := firewalltest.NewFake()
	m := newManager(t, f)
	ctx := context.Background()
	if _, err := m.Open(ctx, 8060); err != nil {
		t.Fatal(err)
	}
	// Moving to 9000 fails while removing 8060: 9000 is rolled back, 8060 stays.
	f.FailRemove = errors.New("boom")
	_, err := m.Open(ctx, 9000)
	if err == nil || !strings.Contains(err.Error(), "remove the old rule for port 8060") || !strings.Contains(err.Error(), "roll back rule for port 9000") {
		t.Fatalf("Open = %v", err)
	}
	f.FailRemove = nil
	if _, err := m.Open(ctx, 8060); err != nil {
		t.Fatal(err)
	}
	if f.Open(8060) != true {
		t.Error("rule for 8060 lost")
	}
}

func TestPermissionErrors(t *testing.T) {
	for _, e := range []error{
		fmt.Errorf("netlink receive: %w", syscall.EPERM),
		fs.ErrPermission,
		errors.New("iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)"),
		errors.New("ERROR: You need to be root to run this script"),
		errors.New("Authorization failed."),
		errors.New("Access is denied."),
	} {
		f := firewalltest.NewFake()
		f.FailPorts = e
		_, err := newManager(t, f).Open(context.Background(), 8060)
		if !errors.Is(err, firewall.ErrPermission) || !errors.Is(err, exitcode.ErrPrereq) || exitcode.Code(err) != exitcode.Prereq {
			t.Errorf("Open with %q = %v; want ErrPermission (exit 3)", e, err)
		}
		if !strings.Contains(err.Error(), "needs root") {
			t.Errorf("error %q does not say what rights are needed", err)
		}
	}
	f := firewalltest.NewFake()
	f.FailPorts = errors.New("exit status 4: resource busy")
	if _, err := newManager(t, f).Open(context.Background(), 8060); errors.Is(err, firewall.ErrPermission) {
		t.Errorf("an ordinary error was classified as a permission error: %v", err)
	}
}

func TestPortHeldByUnnamedProgram(t *testing.T) {
	// Windows cannot name the program: Open goes on with a warning.
	f := firewalltest.NewFake()
	m := firewall.NewManager(f, firewall.Options{Probe: func(int) (firewall.Listener, error) {
		return firewall.Listener{Listening: true}, nil
	}})
	res, err := m.Open(context.Background(), 8060)
	if err != nil || !res.Changed {
		t.Fatalf("Open = %+v, %v", res, err)
	}
	st, _ := m.Status(context.Background(), 8060)
	if !st.Listening || st.OtherOwner {
		t.Errorf("Status = %+v", st)
	}
	// shir itself may hold the port (repair of a running node).
	m = firewall.NewManager(f, firewall.Options{Probe: func(int) (firewall.Listener, error) {
		return firewall.Listener{Listening: true, Program: "shir", PID: 7}, nil
	}})
	if _, err := m.Open(context.Background(), 8060); err != nil {
		t.Fatal(err)
	}
}

func TestNewRejectsUnknownBackend(t *testing.T) {
	_, err := firewall.New(context.Background(), firewall.Options{Backend: "pf"})
	if !errors.Is(err, exitcode.ErrUsage) || !strings.Contains(err.Error(), `backend "pf"`) {
		t.Fatalf("New = %v", err)
	}
}

func TestNoneBackend(t *testing.T) {
	m, err := firewall.New(context.Background(), firewall.Options{Backend: "none", Probe: func(int) (firewall.Listener, error) { return firewall.Listener{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Open(context.Background(), 8060)
	if err != nil || res.Changed || !strings.Contains(res.Note, "nothing to open") {
		t.Fatalf("Open = %+v, %v", res, err)
	}
	if res, err := m.Close(context.Background(), 0); err != nil || res.Changed {
		t.Fatalf("Close = %+v, %v", res, err)
	}
}

func TestSkipNotice(t *testing.T) {
	got := firewall.SkipNotice(9123)
	for _, want := range []string{"NOFIREWALL=1", "inbound TCP port 9123", "nothing was changed"} {
		if !strings.Contains(got, want) {
			t.Errorf("SkipNotice = %q, missing %q", got, want)
		}
	}
}
