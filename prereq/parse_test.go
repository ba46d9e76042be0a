package prereq

import (
	"slices"
	"strings"
	"testing"
)

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		name, in string
		want     OSRelease
		wantErr  string
	}{
		{"debian", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
			OSRelease{ID: "debian", VersionID: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)"}, ""},
		{"quotes and comments", "# comment\n\nID='rhel'\nVERSION_ID=\"9.3\"\nID_LIKE=\"Fedora\"\nPRETTY_NAME=\"Red Hat \\\"Enterprise\\\" Linux\"\n",
			OSRelease{ID: "rhel", VersionID: "9.3", PrettyName: `Red Hat "Enterprise" Linux`, IDLike: []string{"fedora"}}, ""},
		{"empty value", "ID=alpine\nVERSION_ID=\n", OSRelease{ID: "alpine"}, ""},
		{"no ID", "NAME=x\n", OSRelease{}, "no ID"},
		{"no equals", "ID=debian\njunk\n", OSRelease{}, "line 2: want KEY=value"},
		{"unterminated", "ID=\"debian\n", OSRelease{}, "unterminated quote"},
		{"unquoted space", "ID=deb ian\n", OSRelease{}, "needs quotes"},
		{"binary", "\x7fELF\x02\x01", OSRelease{}, "want KEY=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOSRelease([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.ID != tt.want.ID || got.VersionID != tt.want.VersionID || got.PrettyName != tt.want.PrettyName || !slices.Equal(got.IDLike, tt.want.IDLike) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func FuzzParseOSRelease(f *testing.F) {
	f.Add([]byte("ID=debian\nVERSION_ID=\"12\"\n"))
	f.Add([]byte("ID='a b'\nPRETTY_NAME=\"x\\\"y\"\n# c\n"))
	f.Add([]byte("ID=\"\\"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseOSRelease(b)
		if err != nil {
			return
		}
		if r.ID == "" || r.ID != strings.ToLower(r.ID) {
			t.Fatalf("accepted %q with ID %q", b, r.ID)
		}
		// The verdict never panics and never passes an unknown distro.
		v := distroVerdict(r, "fix")
		if v.Status == StatusOK && !slices.ContainsFunc(supportedDistros, func(d distro) bool { return d.id == r.ID }) {
			t.Fatalf("unknown distro %q passed", r.ID)
		}
	})
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{"12", []int{12}, false},
		{"22.04", []int{22, 4}, false},
		{"1.8.0_402", []int{1, 8, 0, 402}, false},
		{"17.0.1+12", []int{17, 0, 1}, false},
		{"21-ea", []int{21}, false},
		{" 9.3 ", []int{9, 3}, false},
		{"", nil, true},
		{"abc", nil, true},
		{"99999999999999999999", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseVersion(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if compareVersion([]int{22, 4}, []int{22, 4, 0}) != 0 || compareVersion([]int{9}, []int{10}) != -1 || compareVersion([]int{24, 4}, []int{22, 4}) != 1 {
		t.Error("compareVersion")
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"12", "22.04", "1.8.0_402", "17.0.1+12", "..", "1.", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseVersion(s)
		if err != nil {
			return
		}
		if len(p) == 0 {
			t.Fatal("no parts without error")
		}
		for _, n := range p {
			if n < 0 {
				t.Fatalf("negative part in %q", s)
			}
		}
		if compareVersion(p, p) != 0 {
			t.Fatal("compare not reflexive")
		}
		if m, err := JavaMajor(s); err == nil && m < 0 {
			t.Fatalf("JavaMajor(%q) = %d", s, m)
		}
	})
}

func TestJavaMajor(t *testing.T) {
	for in, want := range map[string]int{"1.8.0_402": 8, "17.0.1": 17, "21-ea": 21, "11": 11, "1.7.0_80": 7} {
		if got, err := JavaMajor(in); err != nil || got != want {
			t.Errorf("JavaMajor(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"1", "", "x"} {
		if _, err := JavaMajor(in); err == nil {
			t.Errorf("JavaMajor(%q) accepted", in)
		}
	}
}

func TestParseJavaRelease(t *testing.T) {
	temurin := "IMPLEMENTOR=\"Eclipse Adoptium\"\nIMPLEMENTOR_VERSION=\"Temurin-17.0.10+7\"\nJAVA_VERSION=\"17.0.10\"\nIMAGE_TYPE=\"JDK\"\nMODULES=\"java.base java.sql\"\n"
	r, err := ParseJavaRelease([]byte(temurin))
	if err != nil || r.Major != 17 || r.Version != "17.0.10" || r.Implementor != "Eclipse Adoptium" || r.ImageType != "JDK" {
		t.Fatalf("temurin: %+v, %v", r, err)
	}
	r, err = ParseJavaRelease([]byte("JAVA_VERSION=\"1.8.0_402\"\nOS_NAME=\"Windows\"\r\n"))
	if err != nil || r.Major != 8 {
		t.Fatalf("java 8: %+v, %v", r, err)
	}
	for _, bad := range []string{"", "OS_NAME=Linux\n", "JAVA_VERSION=\"\"\n", "garbage line\n", "JAVA_VERSION=\"x.y\"\n"} {
		if _, err := ParseJavaRelease([]byte(bad)); err == nil {
			t.Errorf("ParseJavaRelease(%q) accepted", bad)
		}
	}
}

func FuzzParseJavaRelease(f *testing.F) {
	f.Add([]byte("JAVA_VERSION=\"1.8.0_402\"\n"))
	f.Add([]byte("IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"21\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseJavaRelease(b)
		if err == nil && (r.Version == "" || r.Major < 0) {
			t.Fatalf("accepted %q as %+v", b, r)
		}
	})
}

func TestDotNetVersion(t *testing.T) {
	for rel, want := range map[uint32]string{
		378389: "4.5", 461308: "4.7.1", 461807: "4.7.1", 461808: "4.7.2", 461814: "4.7.2",
		528040: "4.8", 528372: "4.8", 528449: "4.8", 533320: "4.8.1", 533509: "4.8.1", 1: "", 0: "",
	} {
		if got := DotNetVersion(rel); got != want {
			t.Errorf("DotNetVersion(%d) = %q, want %q", rel, got, want)
		}
	}
}

func FuzzDotNetVerdict(f *testing.F) {
	for _, r := range []uint32{0, 378389, 461807, 461808, 528040, 1<<32 - 1} {
		f.Add(r)
	}
	order := []string{"", "4.5", "4.5.1", "4.5.2", "4.6", "4.6.1", "4.6.2", "4.7", "4.7.1", "4.7.2", "4.8", "4.8.1"}
	f.Fuzz(func(t *testing.T, rel uint32) {
		// The mapping is monotonic and the verdict agrees with the threshold.
		a, b := slices.Index(order, DotNetVersion(rel)), slices.Index(order, DotNetVersion(rel+1))
		if a < 0 || (rel < 1<<32-1 && b < a) {
			t.Fatalf("DotNetVersion not monotonic at %d: %q then %q", rel, DotNetVersion(rel), DotNetVersion(rel+1))
		}
		v := dotnetVerdict(rel, nil, DotNet472)
		if (v.Status == StatusOK) != (rel >= DotNet472) {
			t.Fatalf("release %d: %+v", rel, v)
		}
	})
}

func TestWindowsProduct(t *testing.T) {
	tests := []struct {
		major, minor, build uint32
		pt                  byte
		name                string
		supported, newer    bool
	}{
		{10, 0, 18362, 1, "Windows 10 (build 18362)", true, false},
		{10, 0, 22000, 1, "Windows 11 (build 22000)", true, false},
		{10, 0, 14393, 3, "Windows Server 2016 (build 14393)", true, false},
		{10, 0, 17763, 2, "Windows Server 2019 (build 17763)", true, false},
		{10, 0, 20348, 3, "Windows Server 2022 (build 20348)", true, false},
		{10, 0, 26100, 3, "Windows Server 2025 (build 26100)", true, false},
		{10, 0, 10240, 3, "Windows Server preview (build 10240)", false, false},
		{6, 3, 9600, 1, "Windows 8.1", true, false},
		{6, 3, 9600, 3, "Windows Server 2012 R2", true, false},
		{6, 2, 9200, 3, "Windows Server 2012", true, false},
		{6, 2, 9200, 1, "Windows 8", false, false},
		{6, 1, 7601, 3, "Windows Server 2008 R2", false, false},
		{5, 1, 2600, 1, "Windows 5.1 (build 2600)", false, false},
		{12, 0, 30000, 1, "Windows 12.0 (build 30000)", true, true},
	}
	for _, tt := range tests {
		name, sup, newer := WindowsProduct(tt.major, tt.minor, tt.build, tt.pt)
		if name != tt.name || sup != tt.supported || newer != tt.newer {
			t.Errorf("WindowsProduct(%d.%d.%d, %d) = %q %v %v", tt.major, tt.minor, tt.build, tt.pt, name, sup, newer)
		}
	}
}

func FuzzWindowsProduct(f *testing.F) {
	f.Add(uint32(10), uint32(0), uint32(18362), byte(1))
	f.Add(uint32(6), uint32(1), uint32(7601), byte(3))
	f.Fuzz(func(t *testing.T, major, minor, build uint32, pt byte) {
		name, sup, newer := WindowsProduct(major, minor, build, pt)
		if name == "" || (newer && !sup) || (major < 6 && sup) || (major == 6 && minor < 2 && sup) {
			t.Fatalf("%d.%d.%d/%d: %q %v %v", major, minor, build, pt, name, sup, newer)
		}
	})
}

func TestParseSleepConf(t *testing.T) {
	got := ParseSleepConf([]byte("# x\n[Sleep]\nAllowSuspend = no\n;c\nAllowHibernation=yes\n[Other]\nAllowSuspend=yes\n[Sleep]\nAllowHibernation=0\n"))
	if got["AllowSuspend"] != "no" || got["AllowHibernation"] != "0" || len(got) != 2 {
		t.Fatalf("got %v", got)
	}
	for in, want := range map[string]bool{"no": false, "Yes": true, "0": false, "on": true} {
		if v, ok := parseBool(in); !ok || v != want {
			t.Errorf("parseBool(%q) = %v %v", in, v, ok)
		}
	}
	if _, ok := parseBool("maybe"); ok {
		t.Error("parseBool(maybe) ok")
	}
}

func FuzzParseSleepConf(f *testing.F) {
	f.Add([]byte("[Sleep]\nAllowSuspend=no\n"))
	f.Add([]byte("[Sleep\n=\n[]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for k := range ParseSleepConf(b) {
			if k != strings.TrimSpace(k) {
				t.Fatalf("key %q not trimmed", k)
			}
		}
	})
}
