package prereq

import (
	"context"
	"fmt"
	"strings"

	"github.com/shirhq/shir/internal/platform/winreg"
)

// JavaCheck (java) looks for a 64-bit Java 8 or later that the runtime can
// load, for Parquet, ORC and Avro. It is a warning unless Required (a
// Parquet/ORC/Avro option is set).
//
// Homes are tried in the runtime's order: on Windows the JavaSoft registry
// keys (CurrentVersion -> JavaHome), then JAVA_HOME, then `java` on PATH
// (resolved through links; its home is two directories up). A home counts
// when its JVM library is there: Windows bin\server\jvm.dll (a JDK 8 has it
// under jre\, then JAVA_HOME must point at <jdk>\jre); Linux
// lib/server/libjvm.so, lib/<arch>/server/libjvm.so or
// jre/lib/<arch>/server/libjvm.so. The version comes from <home>/release.
type JavaCheck struct {
	Required bool
	Windows  bool
	Arch     string // Linux lib/<arch> directory name: amd64, aarch64
	Getenv   func(string) string
	LookPath func(string) (string, error) // resolved absolute path of an executable on PATH
	Exists   func(string) bool
	ReadFile func(string) ([]byte, error)
	Reg      winreg.Reader // Windows only; nil elsewhere
}

func (JavaCheck) ID() string { return "java" }

// JavaMin is the oldest Java major version the runtime accepts.
const JavaMin = 8

// javaRegKeys are the JavaSoft keys (JRE 8, JRE/JDK 9+).
var javaRegKeys = []string{
	`HKLM\SOFTWARE\JavaSoft\Java Runtime Environment`,
	`HKLM\SOFTWARE\JavaSoft\JRE`,
	`HKLM\SOFTWARE\JavaSoft\JDK`,
}

func (c JavaCheck) sep() string {
	if c.Windows {
		return `\`
	}
	return "/"
}

func (c JavaCheck) join(parts ...string) string {
	s := c.sep()
	out := strings.TrimRight(parts[0], `\/`)
	for _, p := range parts[1:] {
		out += s + p
	}
	return out
}

func (c JavaCheck) dir(p string) string {
	i := strings.LastIndexAny(p, c.sep())
	if i <= 0 {
		return p
	}
	return p[:i]
}

type javaHome struct{ path, source string }

func (c JavaCheck) homes() []javaHome {
	var out []javaHome
	if c.Windows && c.Reg != nil {
		for _, k := range javaRegKeys {
			ver, err := c.Reg.String(k, "CurrentVersion")
			if err != nil || ver == "" {
				continue
			}
			if h, err := c.Reg.String(k+`\`+ver, "JavaHome"); err == nil && h != "" {
				out = append(out, javaHome{h, `registry ` + k})
			}
		}
	}
	if h := c.Getenv("JAVA_HOME"); h != "" {
		out = append(out, javaHome{h, "JAVA_HOME"})
	}
	exe := "java"
	if c.Windows {
		exe = "java.exe"
	}
	if p, err := c.LookPath(exe); err == nil {
		out = append(out, javaHome{c.dir(c.dir(p)), "PATH"})
	}
	return out
}

// jvm returns the JVM library of home, and whether only the JDK 8 layout
// (<home>/jre/...) has it.
func (c JavaCheck) jvm(home string) (lib string, jdk8 bool) {
	if c.Windows {
		if p := c.join(home, "bin", "server", "jvm.dll"); c.Exists(p) {
			return p, false
		}
		if p := c.join(home, "jre", "bin", "server", "jvm.dll"); c.Exists(p) {
			return p, true
		}
		return "", false
	}
	for _, p := range []string{
		c.join(home, "lib", "server", "libjvm.so"),
		c.join(home, "lib", c.Arch, "server", "libjvm.so"),
		c.join(home, "jre", "lib", c.Arch, "server", "libjvm.so"),
	} {
		if c.Exists(p) {
			return p, false
		}
	}
	return "", false
}

func (c JavaCheck) Check(ctx context.Context) Verdict {
	sev := SeverityWarning
	need := "needed only for Parquet, ORC and Avro"
	if c.Required {
		sev = SeverityError
		need = "needed by the Parquet/ORC/Avro option"
	}
	fix := "Install a 64-bit Java 8 or later (e.g. Temurin or Microsoft Build of OpenJDK) and set the system variable JAVA_HOME to its home"
	if c.Windows {
		fix += `; for a JDK 8 use <jdk>\jre`
	}
	homes := c.homes()
	if len(homes) == 0 {
		return Fail(sev, fix, "no Java found (registry, JAVA_HOME, PATH); %s", need)
	}
	var problems []string
	for _, h := range homes {
		lib, jdk8 := c.jvm(h.path)
		if lib == "" {
			problems = append(problems, fmt.Sprintf("%s (%s): no JVM library", h.path, h.source))
			continue
		}
		if jdk8 {
			return Fail(sev, fmt.Sprintf(`Set JAVA_HOME to %s\jre`, h.path), "%s (%s) is a JDK 8 home; the runtime loads jvm.dll from <home>\\bin\\server", h.path, h.source)
		}
		b, err := c.ReadFile(c.join(h.path, "release"))
		if err != nil {
			return Unknown(SeverityWarning, fix, "the Java version at "+h.path, fmt.Errorf("read release file: %w", err))
		}
		rel, err := ParseJavaRelease(b)
		if err != nil {
			return Unknown(SeverityWarning, fix, "the Java version at "+h.path, err)
		}
		if rel.Major < JavaMin {
			problems = append(problems, fmt.Sprintf("%s (%s): Java %s is older than %d", h.path, h.source, rel.Version, JavaMin))
			continue
		}
		return Pass("Java %s at %s (%s)", rel.Version, h.path, h.source)
	}
	return Fail(sev, fix, "no usable Java: %s", strings.Join(problems, "; "))
}
