package controlplane

import (
	"encoding/json"
	"testing"

	"github.com/shirhq/shir/controlplane/api"
)

// TestCheckSpecCredential: a copy job names a stored credential for an
// http(s) source; the name, not a secret, is all that is kept.
func TestCheckSpecCredential(t *testing.T) {
	out, p := CheckSpec(api.KindCopy, json.RawMessage(`{"source":"https://h/x","sink":"/tmp/x","credential":"web-1"}`))
	if p != nil {
		t.Fatalf("refused: %+v", p)
	}
	var c api.CopySpec
	if err := api.DecodeStrict(out, &c); err != nil || c.Credential != "web-1" {
		t.Fatalf("spec %s: %v", out, err)
	}
}

// FuzzCheckSpec: any accepted spec is valid compact JSON that decodes
// strictly into its kind's type; rejected ones name a field.
func FuzzCheckSpec(f *testing.F) {
	f.Add(api.KindCopy, `{"source":"https://h/x","sink":"/tmp/x"}`)
	f.Add(api.KindCopy, `{"source":"https://h/x","sink":"/tmp/x","credential":"web-1"}`)
	f.Add(api.KindTestConnection, `{"protocol":"tcp","address":"h:1"}`)
	f.Add(api.KindExec, `{"command":"x","args":["a"]}`)
	f.Add(api.KindExec, `{"command":"x","bogus":1}`)
	f.Add("nope", `{}`)
	f.Fuzz(func(t *testing.T, kind, spec string) {
		out, p := CheckSpec(kind, json.RawMessage(spec))
		if p != nil {
			if p.Field == "" || p.Status != 400 {
				t.Fatalf("problem without field or 400: %+v", p)
			}
			return
		}
		var v any
		switch kind {
		case api.KindCopy:
			v = &api.CopySpec{}
		case api.KindTestConnection:
			v = &api.TestConnectionSpec{}
		case api.KindExec:
			v = &api.ExecSpec{}
		default:
			t.Fatalf("kind %q accepted", kind)
		}
		if err := api.DecodeStrict(out, v); err != nil {
			t.Fatalf("accepted spec %q does not decode: %v", out, err)
		}
	})
}
