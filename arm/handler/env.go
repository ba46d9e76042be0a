package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Environment is HandlerEnvironment.json: where the agent wants things.
type Environment struct {
	Name          string
	Version       string
	LogFolder     string
	ConfigFolder  string
	StatusFolder  string
	HeartbeatFile string
	EventsFolder  string
}

// ParseEnvironment reads HandlerEnvironment.json: an array of exactly one
// object whose handlerEnvironment names the folders. A UTF-8 BOM is allowed.
func ParseEnvironment(data []byte) (Environment, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var raw []struct {
		Name               string          `json:"name"`
		Version            json.RawMessage `json:"version"`
		HandlerEnvironment *struct {
			LogFolder           string `json:"logFolder"`
			ConfigFolder        string `json:"configFolder"`
			StatusFolder        string `json:"statusFolder"`
			HeartbeatFile       string `json:"heartbeatFile"`
			EventsFolder        string `json:"eventsFolder"`
			EventsFolderPreview string `json:"eventsFolder_preview"`
		} `json:"handlerEnvironment"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Environment{}, fmt.Errorf("HandlerEnvironment.json: not a JSON array of one object: %w", err)
	}
	if len(raw) != 1 {
		return Environment{}, fmt.Errorf("HandlerEnvironment.json: want exactly 1 element, got %d", len(raw))
	}
	he := raw[0].HandlerEnvironment
	if he == nil {
		return Environment{}, errors.New("HandlerEnvironment.json: handlerEnvironment is missing")
	}
	e := Environment{
		Name: raw[0].Name, Version: strings.Trim(string(raw[0].Version), `"`),
		LogFolder: he.LogFolder, ConfigFolder: he.ConfigFolder, StatusFolder: he.StatusFolder,
		HeartbeatFile: he.HeartbeatFile, EventsFolder: he.EventsFolder,
	}
	if e.EventsFolder == "" {
		e.EventsFolder = he.EventsFolderPreview
	}
	for field, v := range map[string]string{"configFolder": e.ConfigFolder, "statusFolder": e.StatusFolder} {
		if v == "" {
			return Environment{}, fmt.Errorf("HandlerEnvironment.json: handlerEnvironment.%s is empty", field)
		}
	}
	return e, nil
}

// FindEnvironment looks for HandlerEnvironment.json in dir and its parent
// (handlers run from <root> or <root>/bin), and returns it with the folder
// where it was found (the handler root).
func FindEnvironment(dir string) (Environment, string, error) {
	var tried []string
	for _, d := range []string{dir, filepath.Dir(dir)} {
		p := filepath.Join(d, "HandlerEnvironment.json")
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			tried = append(tried, p)
			continue
		}
		if err != nil {
			return Environment{}, "", fmt.Errorf("read %s: %w", p, err)
		}
		e, err := ParseEnvironment(data)
		if err != nil {
			return Environment{}, "", fmt.Errorf("%s: %w", p, err)
		}
		return e, d, nil
	}
	return Environment{}, "", fmt.Errorf("HandlerEnvironment.json not found (looked at %s)", strings.Join(tried, ", "))
}

// Manifest is the part of HandlerManifest.json the agent acts on.
type Manifest struct {
	Name, Version                                                                  string
	InstallCommand, UninstallCommand, UpdateCommand, EnableCommand, DisableCommand string
	ReportHeartbeat                                                                bool
	UpdateWithInstall                                                              bool // updateMode missing or "UpdateWithInstall"
	ContinueOnUpdateFailure                                                        bool
	SupportsMultipleExtensions                                                     bool
}

// ParseManifest reads HandlerManifest.json as the Linux agent does: an array
// whose first element has handlerManifest with all five commands; optional
// booleans may be JSON booleans or the string "true" (any case).
func ParseManifest(data []byte) (Manifest, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var raw []struct {
		Name            json.RawMessage            `json:"name"`
		Version         json.RawMessage            `json:"version"`
		HandlerManifest map[string]json.RawMessage `json:"handlerManifest"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Manifest{}, fmt.Errorf("HandlerManifest.json: not a JSON array: %w", err)
	}
	if len(raw) == 0 || raw[0].HandlerManifest == nil {
		return Manifest{}, errors.New("HandlerManifest.json: [0].handlerManifest is missing")
	}
	hm := raw[0].HandlerManifest
	m := Manifest{Name: strings.Trim(string(raw[0].Name), `"`), Version: strings.Trim(string(raw[0].Version), `"`)}
	for _, c := range []struct {
		key string
		dst *string
	}{{"installCommand", &m.InstallCommand}, {"uninstallCommand", &m.UninstallCommand}, {"updateCommand", &m.UpdateCommand}, {"enableCommand", &m.EnableCommand}, {"disableCommand", &m.DisableCommand}} {
		v, ok := hm[c.key]
		if !ok {
			return Manifest{}, fmt.Errorf("HandlerManifest.json: handlerManifest.%s is missing", c.key)
		}
		if err := json.Unmarshal(v, c.dst); err != nil || *c.dst == "" {
			return Manifest{}, fmt.Errorf("HandlerManifest.json: handlerManifest.%s must be a non-empty string", c.key)
		}
	}
	m.ReportHeartbeat = manifestBool(hm["reportHeartbeat"])
	m.ContinueOnUpdateFailure = manifestBool(hm["continueOnUpdateFailure"])
	m.SupportsMultipleExtensions = manifestBool(hm["supportsMultipleExtensions"])
	m.UpdateWithInstall = true
	if v, ok := hm["updateMode"]; ok {
		var s string
		_ = json.Unmarshal(v, &s)
		m.UpdateWithInstall = strings.EqualFold(s, "UpdateWithInstall")
	}
	return m, nil
}

func manifestBool(v json.RawMessage) bool {
	var b bool
	if json.Unmarshal(v, &b) == nil {
		return b
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return strings.EqualFold(s, "true")
	}
	return false
}

// ShirManifest is the HandlerManifest.json shir's extension package ships:
// every command is the same binary; no heartbeat (long-running health is the
// runtime's own service); update without install, so that the old version's
// uninstall (run after the new version's update) keeps the node.
func ShirManifest(version string) []byte {
	m := []map[string]any{{
		"name":    "ShirNode",
		"version": version,
		"handlerManifest": map[string]any{
			"installCommand":          "bin/shir arm handler install",
			"uninstallCommand":        "bin/shir arm handler uninstall",
			"updateCommand":           "bin/shir arm handler update",
			"enableCommand":           "bin/shir arm handler enable",
			"disableCommand":          "bin/shir arm handler disable",
			"reportHeartbeat":         false,
			"updateMode":              "UpdateWithoutInstall",
			"continueOnUpdateFailure": false,
		},
	}}
	b, _ := json.MarshalIndent(m, "", "  ")
	return append(b, '\n')
}
