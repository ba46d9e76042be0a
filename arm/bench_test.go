package arm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shirhq/shir/internal/testref"
)

func BenchmarkRenderTemplate(b *testing.B) {
	for b.Loop() {
		if _, _, _, err := RenderTemplate(TemplateOptions{Nodes: 4, OS: "windows", Handler: "cse"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLintGenerated(b *testing.B) {
	tmpl, _, _, err := RenderTemplate(TemplateOptions{Nodes: 4})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := DefaultValidator(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(tmpl)))
	for b.Loop() {
		if fs, err := Lint(TemplateFile, tmpl, LintOptions{Now: fixedNow}); err != nil || len(fs) != 0 {
			b.Fatal(err, fs)
		}
	}
}

func BenchmarkLintQuickstart(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(testref.Dir(b), "azure", "quickstart", "current", "azuredeploy.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Lint(TemplateFile, data, LintOptions{Now: fixedNow}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompileSchemas(b *testing.B) {
	for b.Loop() {
		if _, err := NewValidator(""); err != nil {
			b.Fatal(err)
		}
	}
}
