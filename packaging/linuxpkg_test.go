package packaging

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
	"github.com/goreleaser/nfpm/v2/rpm"
	"go.yaml.in/yaml/v3"
)

// goreleaserNFPM is the part of goreleaser.yaml's nfpms entry that nfpm
// itself understands; the tests build the same packages from it with the
// nfpm library (goreleaser is too slow for go test).
type goreleaserNFPM struct {
	nfpm.Overridables `yaml:",inline"`
	PackageName       string `yaml:"package_name"`
	Vendor            string `yaml:"vendor"`
	Homepage          string `yaml:"homepage"`
	Maintainer        string `yaml:"maintainer"`
	Description       string `yaml:"description"`
	License           string `yaml:"license"`
	Section           string `yaml:"section"`
	Priority          string `yaml:"priority"`
	Bindir            string `yaml:"bindir"`
}

// buildPackage builds the .deb or .rpm of goreleaser.yaml around bin (a
// static Go binary standing for shir) and returns its path.
func buildPackage(t *testing.T, format, bin string) string {
	t.Helper()
	y, err := os.ReadFile("../goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		NFPMs []goreleaserNFPM `yaml:"nfpms"`
	}
	if err := yaml.Unmarshal(y, &cfg); err != nil {
		t.Fatalf("goreleaser.yaml: %v", err)
	}
	if len(cfg.NFPMs) != 1 {
		t.Fatalf("goreleaser.yaml has %d nfpms entries, want 1", len(cfg.NFPMs))
	}
	g := cfg.NFPMs[0]
	var contents files.Contents
	for _, c := range g.Contents {
		if c.Type != files.TypeSymlink {
			c.Source = filepath.Join("..", c.Source)
		}
		contents = append(contents, c)
	}
	contents = append(contents, &files.Content{Source: bin, Destination: g.Bindir + "/shir", FileInfo: &files.ContentFileInfo{Mode: 0o755}})
	ov := g.Overridables
	ov.Contents = contents
	// goreleaser adds this field to amd64 packages (GOAMD64 level).
	ov.Deb.Fields = map[string]string{"Architecture-Variant": "amd64v1"}
	for _, s := range []*string{&ov.Scripts.PostInstall, &ov.Scripts.PreRemove, &ov.Scripts.PostRemove} {
		if *s == "" {
			t.Fatal("goreleaser.yaml: a maintainer script is missing")
		}
		*s = filepath.Join("..", *s)
	}
	info := nfpm.WithDefaults(&nfpm.Info{
		Name: g.PackageName, Arch: "amd64", Platform: "linux", Version: "1.2.3",
		Vendor: g.Vendor, Homepage: g.Homepage, Maintainer: g.Maintainer, Description: g.Description,
		License: g.License, Section: g.Section, Priority: g.Priority, Overridables: ov,
	})
	if err := nfpm.PrepareForPackager(info, format); err != nil {
		t.Fatalf("nfpm %s: %v", format, err)
	}
	var pkgr nfpm.Packager = deb.Default
	if format == "rpm" {
		pkgr = rpm.DefaultRPM
	}
	out := filepath.Join(t.TempDir(), pkgr.ConventionalFileName(info))
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := pkgr.Package(info, f); err != nil {
		t.Fatalf("nfpm %s: %v", format, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// stubBinary builds a small static Go program (linux/amd64), the way the
// release builds shir, to stand in for it in the package.
func stubBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() { println(\"shir stub\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "shir")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build stub: %v\n%s", err, out)
	}
	return bin
}

func needTool(t *testing.T, name, apt string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("%s checks run on Linux only", name)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install %s): not checked", name, apt)
	}
	return p
}

var wantPackageFiles = []string{
	"/etc/default/shir",
	"/etc/shir/shir.toml",
	"/opt/shir/dmgcmd",
	"/opt/shir/shir",
	"/usr/bin/dmgcmd",
	"/usr/bin/shir",
	"/usr/lib/systemd/system/shir-host.service",
	"/usr/lib/systemd/system/shir-updater.service",
}

// TestDebLintian builds the .deb and runs lintian: every error or warning
// must be overridden in files/lintian-overrides (each override says why).
func TestDebLintian(t *testing.T) {
	lintian := needTool(t, "lintian", "lintian")
	pkg := buildPackage(t, "deb", stubBinary(t))
	out, _ := exec.Command(lintian, "-I", "--no-tag-display-limit", "--fail-on", "none", pkg).CombinedOutput()
	var bad []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "E:") || strings.HasPrefix(l, "W:") {
			bad = append(bad, l)
		}
	}
	if len(bad) > 0 {
		t.Errorf("lintian %s:\n%s", filepath.Base(pkg), strings.Join(bad, "\n"))
	}
	// Every override is needed: lintian -I reports an unused one.
	if strings.Contains(string(out), "unused-override") {
		t.Errorf("lintian reports unused overrides:\n%s", out)
	}
	dpkgDeb := needTool(t, "dpkg-deb", "dpkg")
	conf, err := exec.Command(dpkgDeb, "-I", pkg, "conffiles").CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb -I conffiles: %v\n%s", err, conf)
	}
	if got := strings.Fields(string(conf)); !slices.Equal(got, []string{"/etc/default/shir", "/etc/shir/shir.toml"}) {
		t.Errorf("conffiles = %v", got)
	}
}

// TestRPM builds the .rpm and checks it with rpm -qpl and rpm -K.
func TestRPM(t *testing.T) {
	rpmTool := needTool(t, "rpm", "rpm")
	pkg := buildPackage(t, "rpm", stubBinary(t))
	out, err := exec.Command(rpmTool, "-qpl", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm -qpl: %v\n%s", err, out)
	}
	var listed []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasPrefix(l, "/usr/share/") {
			listed = append(listed, l)
		}
	}
	slices.Sort(listed)
	if !slices.Equal(listed, wantPackageFiles) {
		t.Errorf("rpm -qpl:\n%s\nwant:\n%s", strings.Join(listed, "\n"), strings.Join(wantPackageFiles, "\n"))
	}
	if out, err := exec.Command(rpmTool, "-K", pkg).CombinedOutput(); err != nil || !strings.Contains(string(out), "digests OK") {
		t.Errorf("rpm -K: %v\n%s", err, out)
	}
	// A damaged package fails rpm -K.
	b, _ := os.ReadFile(pkg)
	b[len(b)-100] ^= 0xff
	bad := filepath.Join(t.TempDir(), "bad.rpm")
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(rpmTool, "-K", bad).CombinedOutput(); err == nil {
		t.Errorf("rpm -K accepted a damaged package:\n%s", out)
	}
	conf, err := exec.Command(rpmTool, "-qpc", pkg).CombinedOutput()
	if err != nil || !slices.Equal(strings.Fields(string(conf)), []string{"/etc/default/shir", "/etc/shir/shir.toml"}) {
		t.Errorf("rpm -qpc (config files): %v\n%s", err, conf)
	}
}

// TestDebInstallPurgeInRoot installs the real .deb with dpkg into a
// throw-away root (its maintainer scripts run with DPKG_ROOT set), checks
// the files, user and directories, purges it and compares the file list
// with the one from before: nothing is left behind, and the machine's own
// root is not touched.
func TestDebInstallPurgeInRoot(t *testing.T) {
	dpkg := needTool(t, "dpkg", "dpkg")
	if os.Geteuid() != 0 {
		t.Skip("dpkg --root needs root (it sets file owners): the .deb install/purge was not run")
	}
	pkg := buildPackage(t, "deb", stubBinary(t))
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "var/log", "etc", "usr/sbin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{
		"var/lib/dpkg/status": "", "var/lib/dpkg/available": "",
		"etc/passwd": "root:x:0:0:root:/root:/bin/bash\n", "etc/group": "root:x:0:\n",
		"etc/shadow": "root:*:19000:0:99999:7:::\n", "etc/gshadow": "root:*::\n",
		"etc/passwd-": "", "etc/group-": "", "etc/shadow-": "", "etc/gshadow-": "",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	snapshot := func() map[string]string {
		m := map[string]string{}
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if strings.HasPrefix(rel, "var/lib/dpkg") {
				return nil // dpkg's own database records the purge
			}
			m[rel] = d.Type().String()
			return nil
		})
		return m
	}
	before := snapshot()
	passwdBefore, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	hostPasswd, _ := os.ReadFile("/etc/passwd")

	dpkgRun := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(dpkg, append([]string{"--root=" + root, "--force-script-chrootless", "--force-not-root", "--log=/dev/null"}, args...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := dpkgRun("-i", pkg)
	t.Logf("dpkg -i:\n%s", out)
	for _, f := range wantPackageFiles {
		if _, err := os.Lstat(filepath.Join(root, f)); err != nil {
			t.Errorf("after dpkg -i: %v", err)
		}
	}
	if l, err := os.Readlink(filepath.Join(root, "usr/bin/dmgcmd")); err != nil || l != "/opt/shir/shir" {
		t.Errorf("/usr/bin/dmgcmd -> %q (%v), want /opt/shir/shir", l, err)
	}
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if !strings.Contains(string(passwd), "\nshir:x:") || !strings.Contains(string(passwd), ":/var/lib/shir:/usr/sbin/nologin") {
		t.Errorf("postinst did not create the system user shir:\n%s", passwd)
	}
	if fi, err := os.Stat(filepath.Join(root, "var/lib/shir")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("/var/lib/shir: %v, mode %v; want 0700", err, fi.Mode().Perm())
	}
	if strings.Contains(out, "shir install") && !strings.Contains(out, "run: shir install") {
		t.Errorf("postinst ran shir install inside a foreign root:\n%s", out)
	}
	// Node state written after the install goes with the purge.
	if err := os.WriteFile(filepath.Join(root, "var/lib/shir/identity.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}

	dpkgRun("--purge", "shir")
	after := snapshot()
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("left behind after purge: /%s", p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("removed by purge but there before: /%s", p)
		}
	}
	if passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd")); !bytes.Equal(passwd, passwdBefore) {
		t.Errorf("/etc/passwd after purge:\n%s\nwant:\n%s", passwd, passwdBefore)
	}
	if group, _ := os.ReadFile(filepath.Join(root, "etc/group")); strings.Contains(string(group), "shir:") {
		t.Errorf("group shir left behind:\n%s", group)
	}
	if now, _ := os.ReadFile("/etc/passwd"); !bytes.Equal(now, hostPasswd) {
		t.Error("the machine's own /etc/passwd changed")
	}
	for _, p := range []string{"/opt/shir/shir", "/etc/default/shir"} {
		if _, err := os.Lstat(p); err == nil && !slices.Contains([]string{}, p) {
			t.Logf("note: %s exists on this machine (not from this test's root)", p)
		}
	}
}
