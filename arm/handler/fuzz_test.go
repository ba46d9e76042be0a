package handler

import (
	"encoding/json"
	"strings"
	"testing"
)

func FuzzParseSettings(f *testing.F) {
	f.Add([]byte(`{"runtimeSettings":[{"handlerSettings":{"publicSettings":{"nodeName":"vm-1"},"protectedSettings":"MIIB","protectedSettingsCertThumbprint":"0123456789ABCDEF0123456789ABCDEF01234567"}}]}`))
	f.Add([]byte(``))
	f.Add([]byte("\xef\xbb\xbf{\"runtimeSettings\":[]}"))
	f.Add([]byte(`{"runtimeSettings":[{"handlerSettings":{"publicSettings":null,"protectedSettings":null}}]}`))
	f.Add([]byte(`{"runtimeSettings":[{"handlerSettings":{"publicSettings":[1]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		hs, err := ParseSettings(data)
		if err != nil {
			if strings.Contains(err.Error(), "MIIB") {
				t.Fatalf("error quotes the protected blob: %v", err)
			}
			return
		}
		if hs.Protected != "" && !thumbprintRE.MatchString(hs.Thumbprint) {
			t.Fatalf("accepted protected settings without a valid thumbprint: %q", hs.Thumbprint)
		}
	})
}

func FuzzDecodeConfig(f *testing.F) {
	f.Add(`{"nodeName":"vm-1","properties":{"PORT":"8060"}}`, `{"authKey":"`+testKey+`"}`)
	f.Add(`{}`, `{"authKey":"x","properties":{"PROXYPASSWORD":"hunter22"}}`)
	f.Add(`{"timestamp":1}`, `[]`)
	f.Fuzz(func(t *testing.T, public, protected string) {
		var pub map[string]any
		if json.Unmarshal([]byte(public), &pub) != nil {
			return
		}
		cfg, err := DecodeConfig(pub, []byte(protected))
		var prot map[string]any
		_ = json.Unmarshal([]byte(protected), &prot)
		if err != nil {
			// No protected value of 8+ characters may appear in an error.
			var secrets []string
			for _, v := range prot {
				collectStrings(v, &secrets)
			}
			for _, s := range secrets {
				if len(s) >= 8 && strings.Contains(err.Error(), s) {
					t.Fatalf("error %q contains protected value %q", err, s)
				}
			}
			return
		}
		if cfg.Props["AUTHKEY"] == "" {
			t.Fatal("accepted a config without AUTHKEY")
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte(`[{"version":1.0,"timestampUTC":"2026-01-02T03:04:05Z","status":{"operation":"Enable","status":"success","code":0,"formattedMessage":{"lang":"en-US","message":"ok"}}}]`))
	f.Add([]byte(`[{"status":{"status":"Success"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := ParseStatus(data)
		if err != nil {
			return
		}
		switch rep.Status.Status {
		case StatusTransitioning, StatusWarning, StatusError, StatusSuccess:
		default:
			t.Fatalf("accepted status %q", rep.Status.Status)
		}
	})
}
