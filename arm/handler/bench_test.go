package handler

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkEnable is one full enable: find the environment, parse settings,
// decrypt (RSA-2048 + AES-256), validate, run a no-op installer, write the
// status twice and mrseq.
func BenchmarkEnable(b *testing.B) {
	a, err := makeCert("bench")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		l := benchLayout(b, a)
		b.StartTimer()
		h, err := New(Options{Root: l.root, Getenv: func(string) string { return "" }, Installer: InstallerFunc(func(context.Context, map[string]string, func(string)) error { return nil })})
		if err != nil {
			b.Fatal(err)
		}
		if err := h.Run(context.Background(), OpEnable); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecrypt compares our in-process decryption with what the Linux
// agent's handlers do: spawn openssl smime -decrypt.
func BenchmarkDecrypt(b *testing.B) {
	a, err := makeCert("bench")
	if err != nil {
		b.Fatal(err)
	}
	l := benchLayout(b, a)
	der, _ := base64.StdEncoding.DecodeString(benchProtected)
	b.Run("go-pkcs7", func(b *testing.B) {
		for b.Loop() {
			if _, err := (CertDir{Dir: l.lib}).Decrypt(a.tp, der); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("openssl-smime-process", func(b *testing.B) {
		openssl, err := exec.LookPath("openssl")
		if err != nil {
			b.Skip("no openssl")
		}
		in := filepath.Join(l.lib, "in.der")
		if err := os.WriteFile(in, der, 0o600); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			out, err := exec.Command(openssl, "smime", "-decrypt", "-inform", "DER", "-binary", "-in", in, "-recip", filepath.Join(l.lib, a.tp+".crt"), "-inkey", filepath.Join(l.lib, a.tp+".prv")).Output()
			if err != nil || len(out) == 0 {
				b.Fatal(err)
			}
		}
	})
}

var benchProtected string

func benchLayout(b *testing.B, a testCert) agentLayout {
	b.Helper()
	lib := b.TempDir()
	l := agentLayout{lib: lib, root: filepath.Join(lib, "ext")}
	l.config, l.status = filepath.Join(l.root, "config"), filepath.Join(l.root, "status")
	for _, d := range []string{l.config, l.status} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			b.Fatal(err)
		}
	}
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(l.root, "HandlerEnvironment.json"), []byte(`[{"version":1.0,"handlerEnvironment":{"configFolder":`+jsonQuote(l.config)+`,"statusFolder":`+jsonQuote(l.status)+`}}]`), 0o600))
	l.installCert(b, a)
	benchProtected = encrypt(b, a, `{"authKey":"`+testKey+`"}`)
	must(os.WriteFile(filepath.Join(l.config, "0.settings"), settingsJSON(map[string]any{"nodeName": "vm-1"}, benchProtected, a.tp), 0o600))
	return l
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
