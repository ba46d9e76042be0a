package fleet

import (
	"encoding/base64"
	"path"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/shirhq/shir/internal/exitcode"
)

// shell builds the command lines sent to a host: POSIX sh on Linux,
// PowerShell (as -EncodedCommand, so that cmd.exe, the default shell of
// Windows OpenSSH, never parses it) on Windows. Pure functions, tested as
// text.
type shell interface {
	// inspect prints key=value lines: arch, sha (of bin, when present),
	// version, journal (base64 of the install journal, when present).
	inspect(bin, journal string) string
	mktemp() string
	remove(dir string) string
	sha256(file string) string
	// run runs argv, with sudo -n when sudo is set (Linux).
	run(argv []string, sudo bool) string
	// join makes a path on the host; sftpPath turns it into SFTP's form.
	join(elem ...string) string
	sftpPath(p string) string
	exe() string
}

func shellFor(goos string) shell {
	if goos == "windows" {
		return psShell{}
	}
	return shShell{}
}

// layout gives the installed binary and the journal on h.
func layout(h Host) (bin, journal string) {
	sh := shellFor(h.OS)
	if h.OS == "windows" {
		binDir, state := `C:\Program Files\shir`, `C:\ProgramData\shir\state`
		if h.Root != "" {
			binDir, state = sh.join(h.Root, "Program Files", "shir"), sh.join(h.Root, "ProgramData", "shir", "state")
		}
		binDir, state = or(h.Properties["INSTALLDIR"], binDir), or(h.Properties["DATADIR"], state)
		return sh.join(binDir, "shir.exe"), sh.join(state, "install.json")
	}
	binDir, state := "/opt/shir", "/var/lib/shir"
	if h.Root != "" {
		binDir, state = path.Join(h.Root, "opt/shir"), path.Join(h.Root, "var/lib/shir")
	}
	binDir, state = or(h.Properties["INSTALLDIR"], binDir), or(h.Properties["DATADIR"], state)
	return path.Join(binDir, "shir"), path.Join(state, "install.json")
}

// shShell is POSIX sh (Linux hosts).
type shShell struct{}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (shShell) inspect(bin, journal string) string {
	script := `echo "arch=$(uname -m)"; b=` + shQuote(bin) + `; j=` + shQuote(journal) + `
if [ -f "$b" ]; then echo "sha=$(sha256sum -- "$b" | cut -d' ' -f1)"; echo "version=$("$b" version --short 2>/dev/null)"; fi
if [ -f "$j" ]; then echo "journal=$(base64 -w0 < "$j")"; fi`
	return "sh -c " + shQuote(script)
}

func (shShell) mktemp() string { return `mktemp -d "${TMPDIR:-/tmp}/shir-fleet.XXXXXXXX"` }

func (shShell) remove(dir string) string { return "rm -rf -- " + shQuote(dir) }

func (shShell) sha256(file string) string {
	return "sha256sum -- " + shQuote(file) + " | cut -d' ' -f1"
}

func (shShell) run(argv []string, sudo bool) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = shQuote(a)
	}
	cmd := strings.Join(q, " ")
	if sudo {
		cmd = "sudo -n -- " + cmd
	}
	return cmd
}

func (shShell) join(elem ...string) string { return path.Join(elem...) }
func (shShell) sftpPath(p string) string   { return p }
func (shShell) exe() string                { return "shir" }

// psShell is Windows PowerShell over Windows OpenSSH.
type psShell struct{}

func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// encoded wraps a script as powershell -EncodedCommand (UTF-16LE base64).
func encoded(script string) string {
	u := utf16.Encode([]rune("$ProgressPreference='SilentlyContinue'; $ErrorActionPreference='Stop'; " + script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return "powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand " + base64.StdEncoding.EncodeToString(b)
}

func (psShell) inspect(bin, journal string) string {
	return encoded(`"arch=$env:PROCESSOR_ARCHITECTURE"; $b=` + psQuote(bin) + `; $j=` + psQuote(journal) + `
if (Test-Path -LiteralPath $b) { "sha=" + (Get-FileHash -Algorithm SHA256 -LiteralPath $b).Hash.ToLower(); "version=" + (& $b version --short) }
if (Test-Path -LiteralPath $j) { "journal=" + [Convert]::ToBase64String([IO.File]::ReadAllBytes($j)) }`)
}

func (psShell) mktemp() string {
	return encoded(`$d = Join-Path ([IO.Path]::GetTempPath()) ('shir-fleet-' + [guid]::NewGuid().ToString('N')); New-Item -ItemType Directory -Path $d | Out-Null; $d`)
}

func (psShell) remove(dir string) string {
	return encoded(`Remove-Item -Recurse -Force -LiteralPath ` + psQuote(dir))
}

func (psShell) sha256(file string) string {
	return encoded(`(Get-FileHash -Algorithm SHA256 -LiteralPath ` + psQuote(file) + `).Hash.ToLower()`)
}

func (psShell) run(argv []string, _ bool) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = psQuote(a)
	}
	return encoded(`& ` + strings.Join(q, " ") + `; exit $LASTEXITCODE`)
}

func (psShell) join(elem ...string) string {
	out := strings.TrimRight(elem[0], `\/`)
	for _, e := range elem[1:] {
		out += `\` + strings.Trim(e, `\/`)
	}
	return out
}

// sftpPath: Windows OpenSSH's SFTP server wants /C:/dir/file.
func (psShell) sftpPath(p string) string { return "/" + strings.ReplaceAll(p, `\`, "/") }
func (psShell) exe() string              { return "shir.exe" }

// goArch maps uname -m and PROCESSOR_ARCHITECTURE to Go's names.
func goArch(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "x86_64", "amd64", "x64":
		return "amd64"
	case "aarch64", "arm64", "armv8l":
		return "arm64"
	case "i386", "i686", "x86":
		return "386"
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// parseInspect reads the key=value lines of inspect.
func parseInspect(out string) map[string]string {
	m := map[string]string{}
	for line := range strings.SplitSeq(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// installArgs is the installer command line on h (never the key: it goes
// over stdin as AUTHKEY=-). verb is install or repair.
func installArgs(h Host, bin, verb string) []string {
	args := []string{bin, verb, "/q", "AUTHKEY=-", "NODENAME=" + h.NodeName}
	for _, k := range sortedKeys(h.Properties) {
		args = append(args, k+"="+h.Properties[k])
	}
	if h.Root != "" {
		args = append(args, "--root", h.Root, "--no-service")
	}
	return args
}

// checkArgs is `shir check --json` with the options the install will use.
// On a sandbox host (root) admin and systemd do not apply, as in the
// installer's prereq step; on an installed host single-instance finds itself.
func checkArgs(h Host, bin string, installed bool) []string {
	args := []string{bin, "check", "--json"}
	if h.Properties["NOFIREWALL"] == "1" {
		args = append(args, "--no-remote-access")
	}
	if p := h.Properties["PORT"]; p != "" {
		args = append(args, "--port", p)
	}
	var ignore []string
	if v := h.Properties["IGNOREPREREQ"]; v != "" {
		ignore = append(ignore, strings.Split(v, ",")...)
	}
	if h.Root != "" {
		ignore = append(ignore, "admin", "systemd")
	}
	if installed {
		ignore = append(ignore, "single-instance")
	}
	if len(ignore) > 0 {
		args = append(args, "--ignore", strings.Join(ignore, ","))
	}
	return args
}

// installExit explains the installer's msiexec-style exit code on a host
// of goos. A POSIX exit status has 8 bits: on Linux `shir install /q` exiting
// with 1618 is seen as 82 (1618 mod 256), 1603 as 67, 3010 as 194.
func installExit(code int, goos string) (ok bool, note string) {
	switch code {
	case 0:
		return true, ""
	case msiStatus(exitcode.MSIRebootRequired, goos):
		return true, "reboot required to finish"
	case msiStatus(exitcode.MSIUserExit, goos):
		return false, "cancelled (1602)"
	case msiStatus(exitcode.MSIFailure, goos):
		return false, "the install failed (1603)"
	case msiStatus(exitcode.MSIAlreadyRunning, goos):
		return false, "another install is running on the host (1618)"
	case msiStatus(exitcode.MSIPlatform, goos):
		return false, "platform not supported (1633)"
	}
	return false, "the installer exited with " + strconv.Itoa(code)
}

// msiStatus is the exit status a host of goos reports for the installer's
// msiexec-style code.
func msiStatus(code int, goos string) int {
	if goos == "windows" {
		return code
	}
	return code & 0xff
}
