package handler

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/shirhq/shir/provision"
)

// HandlerSettings is runtimeSettings[0].handlerSettings of <seq>.settings.
type HandlerSettings struct {
	Public     map[string]any // publicSettings (nil when absent)
	Protected  string         // base64 of DER PKCS#7 EnvelopedData ("" when absent)
	Thumbprint string         // protectedSettingsCertThumbprint, upper-case hex
}

// ErrNoSettings is returned for an empty settings file, which the agent
// writes when the extension has no settings.
var ErrNoSettings = errors.New("no settings")

var thumbprintRE = regexp.MustCompile(`^[0-9A-Fa-f]{40}$`)

// ParseSettings parses a <seq>.settings file. Errors name the field and never
// include the protected blob.
func ParseSettings(data []byte) (HandlerSettings, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return HandlerSettings{}, ErrNoSettings
	}
	var raw struct {
		RuntimeSettings []struct {
			HandlerSettings *struct {
				PublicSettings                  json.RawMessage `json:"publicSettings"`
				ProtectedSettings               json.RawMessage `json:"protectedSettings"`
				ProtectedSettingsCertThumbprint json.RawMessage `json:"protectedSettingsCertThumbprint"`
			} `json:"handlerSettings"`
		} `json:"runtimeSettings"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return HandlerSettings{}, fmt.Errorf("settings: not valid JSON (%s)", jsonErrKind(err))
	}
	if len(raw.RuntimeSettings) != 1 {
		return HandlerSettings{}, fmt.Errorf("settings: runtimeSettings must have exactly 1 element, got %d", len(raw.RuntimeSettings))
	}
	hs := raw.RuntimeSettings[0].HandlerSettings
	if hs == nil {
		return HandlerSettings{}, errors.New("settings: runtimeSettings[0].handlerSettings is missing")
	}
	var out HandlerSettings
	if !isNull(hs.PublicSettings) {
		if err := json.Unmarshal(hs.PublicSettings, &out.Public); err != nil || out.Public == nil {
			return HandlerSettings{}, errors.New("settings: publicSettings must be a JSON object")
		}
	}
	if !isNull(hs.ProtectedSettings) {
		if err := json.Unmarshal(hs.ProtectedSettings, &out.Protected); err != nil {
			return HandlerSettings{}, errors.New("settings: protectedSettings must be a base64 string")
		}
	}
	if !isNull(hs.ProtectedSettingsCertThumbprint) {
		if err := json.Unmarshal(hs.ProtectedSettingsCertThumbprint, &out.Thumbprint); err != nil {
			return HandlerSettings{}, errors.New("settings: protectedSettingsCertThumbprint must be a string")
		}
	}
	if out.Protected != "" {
		if out.Thumbprint == "" {
			return HandlerSettings{}, errors.New("settings: protectedSettings are present but protectedSettingsCertThumbprint is empty")
		}
		if !thumbprintRE.MatchString(out.Thumbprint) {
			return HandlerSettings{}, fmt.Errorf("settings: protectedSettingsCertThumbprint %q is not 40 hex digits", out.Thumbprint)
		}
		out.Thumbprint = strings.ToUpper(out.Thumbprint)
	}
	return out, nil
}

func isNull(r json.RawMessage) bool {
	return len(r) == 0 || string(bytes.TrimSpace(r)) == "null"
}

// jsonErrKind describes a JSON error without quoting the input.
func jsonErrKind(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s has the wrong type (%s)", te.Field, te.Value)
	}
	return "malformed"
}

// DecodeProtected base64-decodes the protected blob (DER PKCS#7).
func DecodeProtected(b64 string) ([]byte, error) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, errors.New("protectedSettings: not valid base64")
	}
	return der, nil
}

// Config is shir's extension configuration, from public and (decrypted)
// protected settings.
type Config struct {
	NodeName string
	// Props are installer properties (upper-case names), AUTHKEY included.
	Props provision.PropertySet
	// Secrets are the protected values, to scrub from any message.
	Secrets []string
}

// DecodeConfig validates the public settings object and the decrypted
// protected settings JSON and turns them into installer properties. Every
// property is checked by package provision; errors name the field and
// never contain a protected value.
func DecodeConfig(public map[string]any, protected []byte) (Config, error) {
	// Collect the protected values first, so that no error (even one quoting
	// a public value that happens to contain one) can carry them.
	var secrets []string
	var early map[string]any
	if json.Unmarshal(protected, &early) == nil {
		for _, v := range early {
			collectStrings(v, &secrets)
		}
	}
	cfg, err := decodeConfig(public, protected)
	if err != nil {
		return Config{Secrets: secrets}, errors.New(redact(err.Error(), secrets))
	}
	return cfg, nil
}

func decodeConfig(public map[string]any, protected []byte) (Config, error) {
	cfg := Config{Props: provision.PropertySet{}}
	for _, k := range sortedKeys(public) {
		switch k {
		case "nodeName":
			s, ok := public[k].(string)
			if !ok {
				return Config{}, errors.New("publicSettings.nodeName must be a string")
			}
			if err := cfg.Props.Set("NODENAME", s); err != nil {
				return Config{}, fmt.Errorf("publicSettings.nodeName: %w", err)
			}
			cfg.NodeName = s
		case "properties":
			if err := setProps(cfg.Props, "publicSettings.properties", public[k], nil); err != nil {
				return Config{}, err
			}
		case "timestamp":
			// accepted (and ignored) so that a deployment can force a re-run
		default:
			return Config{}, fmt.Errorf("publicSettings: unknown key %q (known: nodeName, properties, timestamp)", k)
		}
	}
	if len(bytes.TrimSpace(protected)) == 0 {
		return Config{}, errors.New("protectedSettings: missing; the authentication key (authKey) must come in protectedSettings")
	}
	var prot map[string]any
	if err := json.Unmarshal(protected, &prot); err != nil || prot == nil {
		return Config{}, errors.New("protectedSettings: the decrypted text is not a JSON object")
	}
	for _, v := range prot {
		collectStrings(v, &cfg.Secrets)
	}
	for _, k := range sortedKeys(prot) {
		switch k {
		case "authKey":
			s, ok := prot[k].(string)
			if !ok || s == "" {
				return Config{}, errors.New("protectedSettings.authKey must be a non-empty string")
			}
			if err := cfg.Props.Set("AUTHKEY", s); err != nil {
				return Config{}, fmt.Errorf("protectedSettings.authKey: %w", err)
			}
		case "properties":
			if err := setProps(cfg.Props, "protectedSettings.properties", prot[k], cfg.Secrets); err != nil {
				return Config{}, err
			}
		default:
			return Config{}, fmt.Errorf("protectedSettings: unknown key %q (known: authKey, properties)", k)
		}
	}
	if _, ok := cfg.Props["AUTHKEY"]; !ok {
		return Config{}, errors.New("protectedSettings.authKey is missing")
	}
	return cfg, nil
}

func setProps(ps provision.PropertySet, field string, v any, secrets []string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s must be an object of NAME: value", field)
	}
	for _, name := range sortedKeys(m) {
		s, ok := m[name].(string)
		if !ok {
			return fmt.Errorf("%s.%s must be a string", field, redact(name, secrets))
		}
		if strings.EqualFold(name, "AUTHKEY") && field == "publicSettings.properties" {
			return fmt.Errorf("%s.AUTHKEY: the authentication key must not be in public settings (use protectedSettings.authKey)", field)
		}
		if err := ps.Set(name, s); err != nil {
			return fmt.Errorf("%s: %s", field, redact(err.Error(), secrets))
		}
	}
	return nil
}

func collectStrings(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		if len(x) >= 4 {
			*out = append(*out, x)
		}
	case map[string]any:
		for _, e := range x {
			collectStrings(e, out)
		}
	case []any:
		for _, e := range x {
			collectStrings(e, out)
		}
	}
}

// redact replaces every secret in s by <redacted>.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "<redacted>")
		}
	}
	return s
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
