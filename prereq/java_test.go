package prereq

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/shirhq/shir/internal/platform/winreg"
)

// fakeFiles is a file system keyed by full path (Windows or Unix style).
type fakeFiles map[string]string

func (f fakeFiles) exists(p string) bool { _, ok := f[p]; return ok }
func (f fakeFiles) read(p string) ([]byte, error) {
	if s, ok := f[p]; ok {
		return []byte(s), nil
	}
	return nil, fs.ErrNotExist
}

func env(kv ...string) func(string) string {
	return func(k string) string {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == k {
				return kv[i+1]
			}
		}
		return ""
	}
}

func onPath(p string) func(string) (string, error) {
	return func(string) (string, error) {
		if p == "" {
			return "", errors.New("executable file not found in $PATH")
		}
		return p, nil
	}
}

func TestJavaCheckLinux(t *testing.T) {
	home := "/usr/lib/jvm/java-17-openjdk-amd64"
	jdk17 := fakeFiles{home + "/lib/server/libjvm.so": "", home + "/release": `JAVA_VERSION="17.0.15"` + "\nIMPLEMENTOR=\"Debian\"\n"}
	jdk8 := fakeFiles{"/opt/jdk8/jre/lib/amd64/server/libjvm.so": "", "/opt/jdk8/release": `JAVA_VERSION="1.8.0_402"`}
	java7 := fakeFiles{"/opt/j7/lib/amd64/server/libjvm.so": "", "/opt/j7/release": `JAVA_VERSION="1.7.0_80"`}
	noRelease := fakeFiles{home + "/lib/server/libjvm.so": ""}
	mk := func(files fakeFiles, getenv func(string) string, lp func(string) (string, error), required bool) JavaCheck {
		return JavaCheck{Required: required, Arch: "amd64", Getenv: getenv, LookPath: lp, Exists: files.exists, ReadFile: files.read}
	}
	runCases(t, "java", []checkCase{
		{"java on PATH", mk(jdk17, env(), onPath(home+"/bin/java"), false), ok("Java 17.0.15 at " + home + " (PATH)")},
		{"JAVA_HOME jdk 8", mk(jdk8, env("JAVA_HOME", "/opt/jdk8"), onPath(""), false), ok("Java 1.8.0_402 at /opt/jdk8 (JAVA_HOME)")},
		{"none: warning", mk(fakeFiles{}, env(), onPath(""), false), warn("no Java found")},
		{"none but required: error", mk(fakeFiles{}, env(), onPath(""), true), errWant("needed by the Parquet/ORC/Avro option")},
		{"java 7 too old", mk(java7, env("JAVA_HOME", "/opt/j7"), onPath(""), false), warn("Java 1.7.0_80 is older than 8")},
		{"JAVA_HOME without a JVM, PATH good", mk(jdk17, env("JAVA_HOME", "/opt/empty"), onPath(home+"/bin/java"), false), ok("(PATH)")},
		{"JAVA_HOME without a JVM", mk(fakeFiles{}, env("JAVA_HOME", "/opt/empty"), onPath(""), false), warn("/opt/empty (JAVA_HOME): no JVM library")},
		{"no release file", mk(noRelease, env("JAVA_HOME", home), onPath(""), false), unkWarn("read release file")},
		{"garbage release file", mk(fakeFiles{home + "/lib/server/libjvm.so": "", home + "/release": "JAVA_VERSION=\"abc\""}, env("JAVA_HOME", home), onPath(""), false), unkWarn("no number")},
	})
}

func TestJavaCheckWindows(t *testing.T) {
	jre := `C:\Program Files\Java\jre1.8.0_401`
	jdk8 := `C:\Program Files\Java\jdk1.8.0_401`
	files := fakeFiles{
		jre + `\bin\server\jvm.dll`:      "",
		jre + `\release`:                 `JAVA_VERSION="1.8.0_401"`,
		jdk8 + `\jre\bin\server\jvm.dll`: "",
		`C:\jdk-21\bin\server\jvm.dll`:   "",
		`C:\jdk-21\release`:              `JAVA_VERSION="21.0.2"`,
	}
	reg := new(winreg.Fake).
		SetString(`HKLM\SOFTWARE\JavaSoft\Java Runtime Environment`, "CurrentVersion", "1.8").
		SetString(`HKLM\SOFTWARE\JavaSoft\Java Runtime Environment\1.8`, "JavaHome", jre)
	danglingReg := new(winreg.Fake).SetString(`HKLM\SOFTWARE\JavaSoft\JDK`, "CurrentVersion", "17")
	mk := func(reg winreg.Reader, getenv func(string) string, lp func(string) (string, error)) JavaCheck {
		return JavaCheck{Windows: true, Getenv: getenv, LookPath: lp, Exists: files.exists, ReadFile: files.read, Reg: reg}
	}
	runCases(t, "java", []checkCase{
		{"registry JRE 8", mk(reg, env(), onPath("")), ok(`Java 1.8.0_401 at ` + jre + ` (registry HKLM\SOFTWARE\JavaSoft\Java Runtime Environment)`)},
		{"JAVA_HOME jdk 21", mk(new(winreg.Fake), env("JAVA_HOME", `C:\jdk-21\`), onPath("")), ok("Java 21.0.2")},
		{"java.exe on PATH", mk(new(winreg.Fake), env(), onPath(`C:\jdk-21\bin\java.exe`)), ok(`C:\jdk-21 (PATH)`)},
		{"JAVA_HOME at a JDK 8", mk(new(winreg.Fake), env("JAVA_HOME", jdk8), onPath("")), warn("is a JDK 8 home")},
		{"registry key without home", mk(danglingReg, env(), onPath("")), warn("no Java found")},
		{"nothing", mk(new(winreg.Fake), env(), onPath("")), warn("no Java found")},
	})
}
