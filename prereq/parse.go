package prereq

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Pure parsers and mappings. They run on every OS and are fuzzed.

// OSRelease holds the fields of os-release(5) that the distro check uses.
type OSRelease struct {
	ID, VersionID, PrettyName string
	IDLike                    []string
}

// ParseOSRelease parses an os-release file: KEY=value lines, values
// optionally in single or double quotes with backslash escapes, # comments.
// A file without ID is an error (the check then reports unknown).
func ParseOSRelease(b []byte) (OSRelease, error) {
	var r OSRelease
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok || key == "" {
			return OSRelease{}, fmt.Errorf("os-release line %d: want KEY=value, got %q", n, truncate(line, 40))
		}
		v, err := unquoteShell(val)
		if err != nil {
			return OSRelease{}, fmt.Errorf("os-release line %d (%s): %w", n, truncate(key, 40), err)
		}
		switch key {
		case "ID":
			r.ID = strings.ToLower(v)
		case "VERSION_ID":
			r.VersionID = v
		case "PRETTY_NAME":
			r.PrettyName = v
		case "ID_LIKE":
			r.IDLike = strings.Fields(strings.ToLower(v))
		}
	}
	if err := sc.Err(); err != nil {
		return OSRelease{}, fmt.Errorf("os-release: %w", err)
	}
	if r.ID == "" {
		return OSRelease{}, errors.New("os-release has no ID")
	}
	return r, nil
}

// unquoteShell undoes the shell-style quoting os-release allows.
func unquoteShell(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	q := s[0]
	if q != '"' && q != '\'' {
		if strings.ContainsAny(s, "\"'`$\\ ") {
			return "", fmt.Errorf("value %q needs quotes", truncate(s, 40))
		}
		return s, nil
	}
	if len(s) < 2 || s[len(s)-1] != q {
		return "", fmt.Errorf("unterminated quote in %q", truncate(s, 40))
	}
	body := s[1 : len(s)-1]
	if q == '\'' {
		if strings.ContainsRune(body, '\'') {
			return "", fmt.Errorf("stray quote in %q", truncate(s, 40))
		}
		return body, nil
	}
	var out strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body):
			i++
			out.WriteByte(body[i])
		case c == '\\' || c == '"':
			return "", fmt.Errorf("stray %q in %q", c, truncate(s, 40))
		default:
			out.WriteByte(c)
		}
	}
	return out.String(), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// ParseVersion parses a dotted numeric version ("12", "22.04", "9.3",
// "1.8.0_402", "17.0.1+12", "21-ea") into its leading numeric parts. At
// least one part is required; anything after the numeric prefix is ignored.
func ParseVersion(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	var parts []int
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			break
		}
		n, err := strconv.Atoi(s[:i])
		if err != nil || n > 1<<24 {
			return nil, fmt.Errorf("version %q: number %q out of range", truncate(s, 40), truncate(s[:i], 40))
		}
		parts = append(parts, n)
		s = s[i:]
		if len(s) == 0 || (s[0] != '.' && s[0] != '_') {
			break
		}
		s = s[1:]
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("version %q: no number", truncate(s, 40))
	}
	return parts, nil
}

// compareVersion compares a and b part by part (missing parts are 0).
func compareVersion(a, b []int) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// JavaMajor returns the feature version of a Java version string:
// "1.8.0_402" is 8 (the 1.x scheme), "17.0.1" is 17, "21-ea" is 21.
func JavaMajor(version string) (int, error) {
	p, err := ParseVersion(version)
	if err != nil {
		return 0, fmt.Errorf("java version: %w", err)
	}
	if p[0] == 1 {
		if len(p) < 2 {
			return 0, fmt.Errorf("java version %q: 1.x without x", truncate(version, 40))
		}
		return p[1], nil
	}
	return p[0], nil
}

// JavaRelease is what a Java home's `release` file says.
type JavaRelease struct {
	Version     string // JAVA_VERSION
	Major       int
	Implementor string
	ImageType   string // IMAGE_TYPE (JDK or JRE) when the vendor writes it
}

// ParseJavaRelease parses a Java `release` file (KEY="value" lines).
func ParseJavaRelease(b []byte) (JavaRelease, error) {
	var r JavaRelease
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return JavaRelease{}, fmt.Errorf("release line %d: want KEY=\"value\", got %q", n+1, truncate(line, 40))
		}
		v, err := unquoteShell(val)
		if err != nil {
			// Some vendors write unquoted values with spaces; keep them as is.
			v = strings.Trim(val, `"'`)
		}
		switch key {
		case "JAVA_VERSION":
			r.Version = v
		case "IMPLEMENTOR":
			r.Implementor = v
		case "IMAGE_TYPE":
			r.ImageType = v
		}
	}
	if r.Version == "" {
		return JavaRelease{}, errors.New("release file has no JAVA_VERSION")
	}
	m, err := JavaMajor(r.Version)
	if err != nil {
		return JavaRelease{}, err
	}
	r.Major = m
	return r, nil
}

// dotnetReleases maps the minimum Release DWORD of each .NET Framework 4.5+
// version (learn.microsoft.com, "How to: Determine which .NET Framework
// versions are installed"), newest first.
var dotnetReleases = []struct {
	min     uint32
	version string
}{
	{533320, "4.8.1"},
	{528040, "4.8"},
	{461808, "4.7.2"},
	{461308, "4.7.1"},
	{460798, "4.7"},
	{394802, "4.6.2"},
	{394254, "4.6.1"},
	{393295, "4.6"},
	{379893, "4.5.2"},
	{378675, "4.5.1"},
	{378389, "4.5"},
}

// DotNetVersion names the .NET Framework version of a Release value:
// "4.8", "4.7.2", ...; below 4.5's 378389 it returns "".
func DotNetVersion(release uint32) string {
	for _, r := range dotnetReleases {
		if release >= r.min {
			return r.version
		}
	}
	return ""
}

// DotNet472 is the Release value of .NET Framework 4.7.2.
const DotNet472 = 461808

// WindowsProduct names a Windows version and says whether shir supports
// it. newer is true for a major version above any known one (supported, but
// untested: a warning).
func WindowsProduct(major, minor, build uint32, productType byte) (name string, supported, newer bool) {
	server := productType != 1 // 2 (DC) and 3 are server editions
	switch {
	case major > 10:
		return fmt.Sprintf("Windows %d.%d (build %d)", major, minor, build), true, true
	case major == 10 && !server && build >= 22000:
		return fmt.Sprintf("Windows 11 (build %d)", build), true, false
	case major == 10 && !server:
		return fmt.Sprintf("Windows 10 (build %d)", build), true, false
	case major == 10:
		for _, s := range []struct {
			build uint32
			name  string
		}{{26100, "2025"}, {20348, "2022"}, {17763, "2019"}, {14393, "2016"}} {
			if build >= s.build {
				return fmt.Sprintf("Windows Server %s (build %d)", s.name, build), true, false
			}
		}
		return fmt.Sprintf("Windows Server preview (build %d)", build), false, false
	case major == 6 && minor == 3 && server:
		return "Windows Server 2012 R2", true, false
	case major == 6 && minor == 3:
		return "Windows 8.1", true, false
	case major == 6 && minor == 2 && server:
		return "Windows Server 2012", true, false
	case major == 6 && minor == 2:
		return "Windows 8", false, false
	case major == 6 && minor == 1 && server:
		return "Windows Server 2008 R2", false, false
	case major == 6 && minor == 1:
		return "Windows 7", false, false
	}
	return fmt.Sprintf("Windows %d.%d (build %d)", major, minor, build), false, false
}

// ParseSleepConf returns the [Sleep] settings of a systemd-sleep.conf file,
// keys as written (AllowSuspend, ...). Later assignments win.
func ParseSleepConf(b []byte) map[string]string {
	out := map[string]string{}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' && strings.HasSuffix(line, "]") {
			section = line[1 : len(line)-1]
			continue
		}
		if section != "Sleep" {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// parseBool reads systemd's boolean spellings; ok is false for anything else.
func parseBool(s string) (v, ok bool) {
	switch strings.ToLower(s) {
	case "1", "yes", "y", "true", "t", "on":
		return true, true
	case "0", "no", "n", "false", "f", "off":
		return false, true
	}
	return false, false
}
