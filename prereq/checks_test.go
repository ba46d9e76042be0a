package prereq

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shirhq/shir/internal/platform/lsa"
	"github.com/shirhq/shir/internal/platform/osinfo"
	"github.com/shirhq/shir/internal/platform/power"
	"github.com/shirhq/shir/internal/platform/privilege"
	"github.com/shirhq/shir/internal/platform/winreg"
)

// want is the expected verdict: status, severity and a message fragment.
type want struct {
	status Status
	sev    Severity
	msg    string
}

var (
	ok      = func(msg string) want { return want{StatusOK, "", msg} }
	errWant = func(msg string) want { return want{StatusFailed, SeverityError, msg} }
	warn    = func(msg string) want { return want{StatusFailed, SeverityWarning, msg} }
	unkErr  = func(msg string) want { return want{StatusUnknown, SeverityError, msg} }
	unkWarn = func(msg string) want { return want{StatusUnknown, SeverityWarning, msg} }
	skipped = func(msg string) want { return want{StatusSkipped, "", msg} }
)

type checkCase struct {
	name string
	c    Checker
	want want
}

func runCases(t *testing.T, id string, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.c.ID() != id {
				t.Fatalf("ID() = %q, want %q", tc.c.ID(), id)
			}
			v := normalize(tc.c.Check(context.Background()))
			if v.Status != tc.want.status || v.Severity != tc.want.sev || !strings.Contains(v.Message, tc.want.msg) {
				t.Errorf("got %s/%s %q\nwant %s/%s containing %q", v.Status, v.Severity, v.Message, tc.want.status, tc.want.sev, tc.want.msg)
			}
			if (v.Status == StatusFailed || v.Status == StatusUnknown) && v.Fix == "" && id != "clock-skew" {
				t.Errorf("a failed check has no fix hint")
			}
		})
	}
}

// fakeHW is Hardware with fixed answers.
type fakeHW struct {
	cores int
	mem   uint64
	disk  uint64
	mhz   float64
	err   error
}

func (f fakeHW) LogicalCores(context.Context) (int, error)             { return f.cores, f.err }
func (f fakeHW) MemoryBytes(context.Context) (uint64, error)           { return f.mem, f.err }
func (f fakeHW) DiskFreeBytes(context.Context, string) (uint64, error) { return f.disk, f.err }
func (f fakeHW) CPUMHz(context.Context) (float64, error)               { return f.mhz, f.err }

func TestHardwareChecks(t *testing.T) {
	big := fakeHW{cores: 8, mem: 16 << 30, disk: 200 << 30, mhz: 3000}
	small := fakeHW{cores: 2, mem: 4 << 30, disk: 10 << 30, mhz: 1200}
	broken := fakeHW{err: errors.New("proc unreadable")}
	runCases(t, "cpu-cores", []checkCase{
		{"enough", CoresCheck{HW: big, Min: MinCores}, ok("8 logical cores")},
		{"too few", CoresCheck{HW: small, Min: MinCores}, warn("2 logical cores; 4 are recommended")},
		{"unknown", CoresCheck{HW: broken, Min: MinCores}, unkWarn("proc unreadable")},
	})
	runCases(t, "memory", []checkCase{
		{"enough", MemoryCheck{HW: big, Min: MinMemory}, ok("16.0 GiB RAM")},
		{"firmware reserve tolerated", MemoryCheck{HW: fakeHW{mem: 78 * (1 << 30) / 10}, Min: MinMemory}, ok("7.8 GiB")},
		{"too little", MemoryCheck{HW: small, Min: MinMemory}, warn("4.0 GiB RAM; 8.0 GiB is recommended")},
		{"unknown", MemoryCheck{HW: broken, Min: MinMemory}, unkWarn("memory size")},
	})
	runCases(t, "disk", []checkCase{
		{"enough", DiskCheck{HW: big, Path: "/opt/shir", Min: MinDiskFree}, ok("200.0 GiB free on the volume of /opt/shir")},
		{"too little", DiskCheck{HW: small, Path: "/opt/shir", Min: MinDiskFree}, warn("10.0 GiB free")},
		{"unknown", DiskCheck{HW: broken, Path: "/opt/shir", Min: MinDiskFree}, unkWarn("/opt/shir")},
	})
	runCases(t, "cpu-speed", []checkCase{
		{"fast", CPUSpeedCheck{HW: big, MinMHz: MinCPUMHz}, ok("3.00 GHz")},
		{"slow", CPUSpeedCheck{HW: small, MinMHz: MinCPUMHz}, warn("1.20 GHz; 2.0 GHz")},
		{"vm reports 0", CPUSpeedCheck{HW: fakeHW{}, MinMHz: MinCPUMHz}, unkWarn("no clock speed")},
		{"error", CPUSpeedCheck{HW: broken, MinMHz: MinCPUMHz}, unkWarn("proc unreadable")},
	})
}

func TestPortCheck(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	// Listen on loopback only, so the test does not open a port to the network.
	loopback := func(network, addr string) (net.Listener, error) {
		_, p, _ := net.SplitHostPort(addr)
		return net.Listen(network, "127.0.0.1:"+p)
	}
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freePort := free.Addr().(*net.TCPAddr).Port
	free.Close()
	runCases(t, "port-free", []checkCase{
		{"free", PortCheck{Port: freePort, Listen: loopback}, ok("is free")},
		{"taken (real listener)", PortCheck{Port: port, Listen: loopback}, errWant("is not free")},
		{"disabled", PortCheck{Port: port, Disabled: true, Listen: loopback}, skipped("remote access is off")},
	})
}

func TestClockCheck(t *testing.T) {
	serverAt := func(d time.Time) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", d.UTC().Format(http.TimeFormat))
		}))
	}
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clock := func(t time.Time) func() time.Time { return func() time.Time { return t } }
	same := serverAt(base)
	defer same.Close()
	behind := serverAt(base.Add(-10 * time.Minute))
	defer behind.Close()
	slightly := serverAt(base.Add(time.Minute))
	defer slightly.Close()
	noDate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header()["Date"] = nil }))
	defer noDate.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	runCases(t, "clock-skew", []checkCase{
		{"in sync", ClockCheck{Server: same.URL, Client: same.Client(), Now: clock(base)}, ok("agrees")},
		{"10 min ahead", ClockCheck{Server: behind.URL, Client: behind.Client(), Now: clock(base)}, errWant("ahead of the control plane")},
		{"1 min behind", ClockCheck{Server: slightly.URL, Client: slightly.Client(), Now: clock(base)}, warn("behind the control plane")},
		{"no Date", ClockCheck{Server: noDate.URL, Client: noDate.Client(), Now: clock(base)}, unkWarn("no valid Date header")},
		{"unreachable", ClockCheck{Server: deadURL, Client: http.DefaultClient, Now: clock(base)}, unkWarn("could not determine the clock skew")},
		{"no server", ClockCheck{}, skipped("no control plane")},
	})
}

func TestClockSkew(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if s := ClockSkew(t0, t0.Add(100*time.Millisecond), t0); s != 0 {
		t.Errorf("same second: %v", s)
	}
	if s := ClockSkew(t0, t0, t0.Add(-time.Hour)); s < 59*time.Minute || s > time.Hour {
		t.Errorf("an hour ahead: %v", s)
	}
	if s := ClockSkew(t0, t0, t0.Add(time.Hour)); s > -59*time.Minute || s < -time.Hour {
		t.Errorf("an hour behind: %v", s)
	}
}

func TestAdminCheck(t *testing.T) {
	st := func(s privilege.Status, err error) func() (privilege.Status, error) {
		return func() (privilege.Status, error) { return s, err }
	}
	runCases(t, "admin", []checkCase{
		{"root", AdminCheck{Current: st(privilege.Status{Elevated: true, Admin: true}, nil)}, ok("root")},
		{"not root", AdminCheck{Current: st(privilege.Status{}, nil)}, errWant("not running as root")},
		{"windows elevated", AdminCheck{Windows: true, Current: st(privilege.Status{Elevated: true, Admin: true}, nil)}, ok("elevated")},
		{"windows UAC-filtered", AdminCheck{Windows: true, Current: st(privilege.Status{Admin: true}, nil)}, errWant("not elevated (UAC)")},
		{"windows user", AdminCheck{Windows: true, Current: st(privilege.Status{}, nil)}, errWant("not an administrator")},
		{"unknown", AdminCheck{Windows: true, Current: st(privilege.Status{}, errors.New("no token"))}, unkErr("no token")},
	})
}

func TestArchCheck(t *testing.T) {
	m := func(s string, err error) func() (string, error) { return func() (string, error) { return s, err } }
	runCases(t, "os-arch", []checkCase{
		{"x86_64", ArchCheck{Machine: m("x86_64", nil)}, ok("64-bit")},
		{"arm64 windows", ArchCheck{Machine: m("arm64", nil)}, ok("64-bit")},
		{"i686", ArchCheck{Machine: m("i686", nil)}, errWant("i686, not 64-bit")},
		{"armv7l", ArchCheck{Machine: m("armv7l", nil)}, errWant("not 64-bit")},
		{"unknown", ArchCheck{Machine: m("", errors.New("uname failed"))}, unkErr("uname failed")},
	})
}

func TestFIPSCheck(t *testing.T) {
	reg := func(v uint32) winreg.Reader { return new(winreg.Fake).SetDWORD(RegFIPS, "Enabled", v) }
	proc := func(s string) fs.FS {
		return fstest.MapFS{"proc/sys/crypto/fips_enabled": {Data: []byte(s)}}
	}
	runCases(t, "fips", []checkCase{
		{"windows off", FIPSCheck{Windows: true, Enabled: WindowsFIPS(reg(0))}, ok("off")},
		{"windows no value", FIPSCheck{Windows: true, Enabled: WindowsFIPS(new(winreg.Fake))}, ok("off")},
		{"windows on", FIPSCheck{Windows: true, Enabled: WindowsFIPS(reg(1))}, warn("FIPS mode is on")},
		{"windows unreadable", FIPSCheck{Windows: true, Enabled: WindowsFIPS(new(winreg.Fake).SetError(RegFIPS, errors.New("Access is denied.")))}, unkWarn("Access is denied")},
		{"linux off", FIPSCheck{Enabled: LinuxFIPS(proc("0\n"))}, ok("off")},
		{"linux no file", FIPSCheck{Enabled: LinuxFIPS(fstest.MapFS{})}, ok("off")},
		{"linux on", FIPSCheck{Enabled: LinuxFIPS(proc("1\n"))}, warn("on")},
		{"linux garbage", FIPSCheck{Enabled: LinuxFIPS(proc("yes"))}, unkWarn("unexpected content")},
	})
}

func TestInstanceCheck(t *testing.T) {
	fsys := fstest.MapFS{"etc/systemd/system/shir-host.service": {Data: []byte("[Unit]\n")}}
	reg := new(winreg.Fake).
		SetString(RegUninstall+`\{ABC}`, "DisplayName", "Microsoft Integration Runtime").
		SetString(RegUninstall+`\{DEF}`, "DisplayName", "Notepad++")
	other := new(winreg.Fake).SetString(RegUninstall+`\{DEF}`, "DisplayName", "Notepad++")
	svc := func(names ...string) func(string) (bool, error) {
		return func(n string) (bool, error) {
			for _, x := range names {
				if strings.EqualFold(x, n) {
					return true, nil
				}
			}
			return false, nil
		}
	}
	broken := func(string) (bool, error) { return false, errors.New("scm down") }
	runCases(t, "single-instance", []checkCase{
		{"linux unit", InstanceCheck{Probes: []InstanceProbe{FileProbe(fsys, "/lib/systemd/system/shir-host.service", "/etc/systemd/system/shir-host.service")}}, errWant("/etc/systemd/system/shir-host.service")},
		{"linux clean", InstanceCheck{Probes: []InstanceProbe{FileProbe(fstest.MapFS{}, "/etc/systemd/system/shir-host.service", "/opt/shir/shir")}}, ok("no other installation")},
		{"windows SHIR uninstall entry", InstanceCheck{Probes: []InstanceProbe{UninstallDisplayName(reg, MSDisplayNameIR)}}, errWant(`"Microsoft Integration Runtime"`)},
		{"windows other software", InstanceCheck{Probes: []InstanceProbe{UninstallDisplayName(other, MSDisplayNameIR), UninstallDisplayName(new(winreg.Fake), MSDisplayNameIR)}}, ok("no other")},
		{"windows DIAHostService", InstanceCheck{Probes: []InstanceProbe{ServiceProbe(svc("diahostservice"), MSHostService)}}, errWant("service DIAHostService")},
		{"windows config key", InstanceCheck{Probes: []InstanceProbe{RegistryKeyProbe(new(winreg.Fake).AddKey(RegSHIRConfigMgr), RegSHIRConfigMgr)}}, errWant("ConfigurationManager")},
		{"probe error and nothing found", InstanceCheck{Probes: []InstanceProbe{ServiceProbe(broken, HostService), ServiceProbe(svc(), MSHostService)}}, unkErr("scm down")},
		{"found wins over a probe error", InstanceCheck{Probes: []InstanceProbe{ServiceProbe(broken, HostService), ServiceProbe(svc("shirhost", "DIAHostService"), MSHostService)}}, errWant("DIAHostService")},
	})
}

func TestWindowsVersionCheck(t *testing.T) {
	v := func(major, minor, build uint32, pt byte) func() (osinfo.WindowsVersion, error) {
		return func() (osinfo.WindowsVersion, error) {
			return osinfo.WindowsVersion{Major: major, Minor: minor, Build: build, ProductType: pt}, nil
		}
	}
	runCases(t, "os-version", []checkCase{
		{"wine win10", WindowsVersionCheck{Version: v(10, 0, 18362, 1)}, ok("Windows 10 (build 18362)")},
		{"win11", WindowsVersionCheck{Version: v(10, 0, 22631, 1)}, ok("Windows 11")},
		{"server 2022", WindowsVersionCheck{Version: v(10, 0, 20348, 3)}, ok("Windows Server 2022")},
		{"server 2012 r2", WindowsVersionCheck{Version: v(6, 3, 9600, 3)}, ok("Windows Server 2012 R2")},
		{"windows 7", WindowsVersionCheck{Version: v(6, 1, 7601, 1)}, errWant("Windows 7 is not supported")},
		{"windows 8", WindowsVersionCheck{Version: v(6, 2, 9200, 1)}, errWant("Windows 8 is not supported")},
		{"future", WindowsVersionCheck{Version: v(11, 0, 30000, 1)}, warn("newer than the supported")},
		{"unknown", WindowsVersionCheck{Version: func() (osinfo.WindowsVersion, error) { return osinfo.WindowsVersion{}, errors.New("no RtlGetVersion") }}, unkErr("no RtlGetVersion")},
	})
}

func TestDomainControllerCheck(t *testing.T) {
	v := func(pt byte, err error) func() (osinfo.WindowsVersion, error) {
		return func() (osinfo.WindowsVersion, error) { return osinfo.WindowsVersion{Major: 10, ProductType: pt}, err }
	}
	pt := func(s string) winreg.Reader { return new(winreg.Fake).SetString(RegProductOpts, "ProductType", s) }
	boom := errors.New("boom")
	runCases(t, "not-dc", []checkCase{
		{"workstation", DomainControllerCheck{Version: v(1, nil), Reg: pt("WinNT")}, ok("ProductType WinNT")},
		{"member server", DomainControllerCheck{Version: v(3, nil), Reg: pt("ServerNT")}, ok("not a domain controller")},
		{"dc by api", DomainControllerCheck{Version: v(2, nil), Reg: pt("ServerNT")}, errWant("domain controller")},
		{"dc by registry", DomainControllerCheck{Version: v(3, nil), Reg: pt("LanmanNT")}, errWant("domain controller")},
		{"registry unreadable, api says server", DomainControllerCheck{Version: v(3, nil), Reg: new(winreg.Fake)}, ok("not a domain controller")},
		{"both unknown", DomainControllerCheck{Version: v(0, boom), Reg: new(winreg.Fake)}, unkErr("boom")},
	})
}

func TestDotNetCheck(t *testing.T) {
	rel := func(v uint32) winreg.Reader { return new(winreg.Fake).SetDWORD(RegNDP, "Release", v) }
	runCases(t, "dotnet-472", []checkCase{
		{"4.8", DotNetCheck{Reg: rel(528040), MinRelease: DotNet472}, ok(".NET Framework 4.8 (Release 528040)")},
		{"4.7.2 exactly", DotNetCheck{Reg: rel(461808), MinRelease: DotNet472}, ok("4.7.2")},
		{"4.7.1", DotNetCheck{Reg: rel(461308), MinRelease: DotNet472}, errWant(".NET Framework 4.7.1 (Release 461308) is installed; 4.7.2")},
		{"pre-4.5", DotNetCheck{Reg: rel(1), MinRelease: DotNet472}, errWant("older than 4.5")},
		{"missing", DotNetCheck{Reg: new(winreg.Fake), MinRelease: DotNet472}, errWant("not installed")},
		{"wrong type", DotNetCheck{Reg: new(winreg.Fake).SetString(RegNDP, "Release", "528040"), MinRelease: DotNet472}, unkErr("unexpected type")},
		{"access denied", DotNetCheck{Reg: new(winreg.Fake).SetError(`HKLM\SOFTWARE\Microsoft`, errors.New("Access is denied.")), MinRelease: DotNet472}, unkErr("Access is denied")},
	})
}

func TestWindowsPowerCheck(t *testing.T) {
	sch := func(s power.Settings, err error) func() (power.Settings, error) {
		return func() (power.Settings, error) { return s, err }
	}
	hib := new(winreg.Fake).SetDWORD(RegPower, "HibernateEnabled", 1)
	noHib := new(winreg.Fake).SetDWORD(RegPower, "HibernateEnabled", 0)
	runCases(t, "power", []checkCase{
		{"never sleeps", WindowsPowerCheck{Scheme: sch(power.Settings{}, nil), Reg: hib}, ok("never sleeps")},
		{"sleeps after 30 min", WindowsPowerCheck{Scheme: sch(power.Settings{StandbyAC: 1800}, nil), Reg: noHib}, warn("sleeps after 30 min")},
		{"hibernates", WindowsPowerCheck{Scheme: sch(power.Settings{HibernateAC: 3600}, nil), Reg: hib}, warn("hibernates after 60 min")},
		{"hibernate timeout but hibernation off", WindowsPowerCheck{Scheme: sch(power.Settings{HibernateAC: 3600}, nil), Reg: noHib}, ok("never sleeps")},
		{"wine: api not implemented", WindowsPowerCheck{Scheme: sch(power.Settings{}, errors.New("PowerGetActiveScheme: Call not implemented.")), Reg: hib}, unkWarn("could not determine the power plan")},
	})
}

func TestVCRedistCheck(t *testing.T) {
	dll := `C:\Windows\System32\msvcr100.dll`
	has := func(string) bool { return true }
	hasNot := func(string) bool { return false }
	runCases(t, "vcredist2010", []checkCase{
		{"sp1 installed", VCRedistCheck{Reg: new(winreg.Fake).AddKey(RegVCRedistSP1), DLL: dll, Exists: has}, ok("installed")},
		{"vs key", VCRedistCheck{Reg: new(winreg.Fake).SetDWORD(RegVCRedistVS, "Installed", 1), DLL: dll, Exists: has}, ok("installed")},
		{"dll missing", VCRedistCheck{Reg: new(winreg.Fake).AddKey(RegVCRedistRTM), DLL: dll, Exists: hasNot}, warn("msvcr100.dll is missing")},
		{"not installed", VCRedistCheck{Reg: new(winreg.Fake), DLL: dll, Exists: has}, warn("not installed")},
		{"unreadable", VCRedistCheck{Reg: new(winreg.Fake).SetError(RegUninstall, errors.New("Access is denied.")), DLL: dll, Exists: has}, unkWarn("Access is denied")},
	})
}

func TestPBIGatewayCheck(t *testing.T) {
	runCases(t, "pbi-gateway", []checkCase{
		{"absent", PBIGatewayCheck(func(string) (bool, error) { return false, nil }), ok("not installed")},
		{"present", PBIGatewayCheck(func(n string) (bool, error) { return n == "PBIEgwService", nil }), warn("PBIEgwService")},
		{"scm error", PBIGatewayCheck(func(string) (bool, error) { return false, errors.New("scm down") }), unkWarn("scm down")},
	})
}

func TestLogonRightCheck(t *testing.T) {
	shirSID := lsa.ServiceSID("shirhost")
	const userSID = "S-1-5-21-1-2-3-1001"
	holders := func(allow, deny []string, err error) func(string) ([]string, error) {
		return func(right string) ([]string, error) {
			if right == lsa.DenyServiceLogonRight {
				return deny, err
			}
			return allow, err
		}
	}
	lookup := func(a string) (string, error) {
		if a == `CONTOSO\svc` {
			return userSID, nil
		}
		return "", errors.New("No mapping between account names and security IDs was done.")
	}
	runCases(t, "logon-right", []checkCase{
		{"virtual via ALL SERVICES", LogonRightCheck{Account: DefaultWinAcct, Holders: holders([]string{lsa.AllServicesSID}, nil, nil), LookupSID: lookup}, ok("may log on as a service")},
		{"virtual directly", LogonRightCheck{Account: DefaultWinAcct, Holders: holders([]string{shirSID}, nil, nil), LookupSID: lookup}, ok("may log on")},
		{"virtual missing: warning", LogonRightCheck{Account: DefaultWinAcct, Holders: holders([]string{}, nil, nil), LookupSID: lookup}, warn("does not hold")},
		{"named account holds it", LogonRightCheck{Account: `CONTOSO\svc`, Holders: holders([]string{userSID}, nil, nil), LookupSID: lookup}, ok("may log on")},
		{"named account missing: error", LogonRightCheck{Account: `CONTOSO\svc`, Holders: holders([]string{lsa.AllServicesSID}, nil, nil), LookupSID: lookup}, errWant("does not hold")},
		{"denied wins", LogonRightCheck{Account: `CONTOSO\svc`, Holders: holders([]string{userSID}, []string{userSID}, nil), LookupSID: lookup}, errWant("is denied")},
		{"unknown account", LogonRightCheck{Account: `CONTOSO\nobody`, Holders: holders(nil, nil, nil), LookupSID: lookup}, unkErr("No mapping")},
		{"lsa error", LogonRightCheck{Account: DefaultWinAcct, Holders: holders(nil, nil, errors.New("access denied")), LookupSID: lookup}, unkWarn("access denied")},
	})
}

func TestDistroCheck(t *testing.T) {
	osr := func(s string) fs.FS { return fstest.MapFS{"etc/os-release": {Data: []byte(s)}} }
	runCases(t, "os-version", []checkCase{
		{"debian 12", DistroCheck{FS: osr("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n")}, ok("Debian GNU/Linux 12 (bookworm) is supported")},
		{"ubuntu 22.04", DistroCheck{FS: osr("ID=ubuntu\nVERSION_ID=\"22.04\"\n")}, ok("ubuntu 22.04 is supported")},
		{"rocky 9.3", DistroCheck{FS: osr("ID=\"rocky\"\nVERSION_ID=\"9.3\"\nID_LIKE=\"rhel centos fedora\"\n")}, ok("supported")},
		{"usr/lib fallback", DistroCheck{FS: fstest.MapFS{"usr/lib/os-release": {Data: []byte("ID=debian\nVERSION_ID=11\n")}}}, ok("debian 11")},
		{"debian 10 too old", DistroCheck{FS: osr("ID=debian\nVERSION_ID=10\n")}, errWant("older than the supported debian 11/12")},
		{"ubuntu 18.04 too old", DistroCheck{FS: osr("ID=ubuntu\nVERSION_ID=18.04\n")}, errWant("older")},
		{"ubuntu 23.10 interim", DistroCheck{FS: osr("ID=ubuntu\nVERSION_ID=23.10\n")}, warn("not a tested release")},
		{"debian 13 newer", DistroCheck{FS: osr("ID=debian\nVERSION_ID=13\n")}, warn("newer than the tested")},
		{"mint: derivative", DistroCheck{FS: osr("ID=linuxmint\nVERSION_ID=21.3\nID_LIKE=\"ubuntu debian\"\n")}, warn("derived from ubuntu")},
		{"arch: unsupported", DistroCheck{FS: osr("ID=arch\n")}, errWant("arch is not a supported distribution")},
		{"no file", DistroCheck{FS: fstest.MapFS{}}, unkErr("read os-release")},
		{"garbage", DistroCheck{FS: osr("\x00\x01 garbage")}, unkErr("want KEY=value")},
		{"no ID", DistroCheck{FS: osr("NAME=x\n")}, unkErr("no ID")},
		{"debian testing has no VERSION_ID", DistroCheck{FS: osr("ID=debian\nPRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\n")}, unkErr("the version of Debian GNU/Linux trixie/sid")},
	})
}

func TestSystemdCheck(t *testing.T) {
	up := fstest.MapFS{"run/systemd/system": {Mode: fs.ModeDir}}
	runCases(t, "systemd", []checkCase{
		{"running", SystemdCheck{FS: up}, ok("systemd is running")},
		{"not running", SystemdCheck{FS: fstest.MapFS{}}, errWant("systemd is not running")},
		{"no service wanted", SystemdCheck{FS: fstest.MapFS{}, NoService: true}, skipped("--no-service")},
	})
}

func TestSleepCheck(t *testing.T) {
	base := func() fstest.MapFS { return fstest.MapFS{"run/systemd/system": {Mode: fs.ModeDir}} }
	masked := base()
	for _, tg := range sleepTargets {
		masked["etc/systemd/system/"+tg] = &fstest.MapFile{Data: []byte("/dev/null"), Mode: fs.ModeSymlink}
	}
	partly := base()
	partly["etc/systemd/system/sleep.target"] = &fstest.MapFile{Data: []byte("/dev/null"), Mode: fs.ModeSymlink}
	dropIn := base()
	dropIn["etc/systemd/sleep.conf"] = &fstest.MapFile{Data: []byte("[Sleep]\nAllowSuspend=yes\n")}
	dropIn["etc/systemd/sleep.conf.d/90-shir.conf"] = &fstest.MapFile{Data: []byte("[Sleep]\nAllowSuspend=no\nAllowHibernation=no\nAllowHybridSleep=no\nAllowSuspendThenHibernate=no\n")}
	halfDropIn := base()
	halfDropIn["etc/systemd/sleep.conf.d/90-x.conf"] = &fstest.MapFile{Data: []byte("[Sleep]\nAllowSuspend=no\n")}
	runCases(t, "power", []checkCase{
		{"all masked", SleepCheck{FS: masked}, ok("masked")},
		{"drop-in disables all", SleepCheck{FS: dropIn}, ok("disabled in systemd-sleep.conf")},
		{"one masked", SleepCheck{FS: partly}, warn("suspend.target, hibernate.target, hybrid-sleep.target not masked")},
		{"half a drop-in", SleepCheck{FS: halfDropIn}, warn("may sleep")},
		{"default", SleepCheck{FS: base()}, warn("may sleep")},
		{"no systemd", SleepCheck{FS: fstest.MapFS{}}, skipped("systemd is not running")},
	})
}
