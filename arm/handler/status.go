package handler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/shirhq/shir/internal/atomicfile"
)

// Status values of the status file (lower case, as the agent matches them).
const (
	StatusTransitioning = "transitioning"
	StatusWarning       = "warning"
	StatusError         = "error"
	StatusSuccess       = "success"
)

// Status codes written in the status file (Microsoft handler conventions).
const (
	CodeOK             = 0
	CodeOther          = 3  // any other failure
	CodeInstallFailed  = 52 // the install pipeline failed
	CodeInvalidSetting = 53 // missing or invalid parameter (settings, certificate)
	CodeTimeout        = 1011
)

// Size limits: the agent truncates status files over 128 KiB; keep each
// message well inside that.
const (
	maxMessage   = 4 << 10
	maxStatusLen = 128 << 10
)

// FormattedMessage is the status file's message object.
type FormattedMessage struct {
	Lang    string `json:"lang"`
	Message string `json:"message"`
}

// SubStatus is one entry of status.substatus.
type SubStatus struct {
	Name             string            `json:"name"`
	Status           string            `json:"status"`
	Code             int               `json:"code"`
	FormattedMessage *FormattedMessage `json:"formattedMessage,omitempty"`
}

// StatusBody is the status object of a status file.
type StatusBody struct {
	Name                     string           `json:"name,omitempty"`
	Operation                string           `json:"operation"`
	Status                   string           `json:"status"`
	Code                     int              `json:"code"`
	ConfigurationAppliedTime string           `json:"configurationAppliedTime,omitempty"`
	FormattedMessage         FormattedMessage `json:"formattedMessage"`
	Substatus                []SubStatus      `json:"substatus,omitempty"`
}

// StatusReport is one element of the status file's array.
type StatusReport struct {
	Version      float64    `json:"version"`
	TimestampUTC string     `json:"timestampUTC"`
	Status       StatusBody `json:"status"`
}

// truncMessage keeps the last maxMessage bytes of s (the newest progress
// lines matter most), on a rune boundary.
func truncMessage(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	cut := len(s) - maxMessage + len("... ")
	for cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut++
	}
	return "... " + s[cut:]
}

// RenderStatus builds the status file content. Pure.
func RenderStatus(now time.Time, b StatusBody) ([]byte, error) {
	b.FormattedMessage.Message = truncMessage(b.FormattedMessage.Message)
	if b.FormattedMessage.Lang == "" {
		b.FormattedMessage.Lang = "en-US"
	}
	for i := range b.Substatus {
		if fm := b.Substatus[i].FormattedMessage; fm != nil {
			fm.Message = truncMessage(fm.Message)
		}
	}
	for {
		out, err := marshalNoEscape([]StatusReport{{Version: 1.0, TimestampUTC: now.UTC().Format(time.RFC3339), Status: b}})
		if err != nil {
			return nil, err
		}
		if len(out) <= maxStatusLen || len(b.Substatus) == 0 {
			return out, nil
		}
		b.Substatus = b.Substatus[:len(b.Substatus)-1]
	}
}

// WriteStatus writes <statusFolder>/<seq>.status atomically.
func WriteStatus(folder string, seq int, now time.Time, b StatusBody) error {
	data, err := RenderStatus(now, b)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(folder, strconv.Itoa(seq)+".status"), data, 0o600)
}

// ReadStatus reads a status file and checks it the way the agent does: a
// JSON array whose first element has status.status in the valid set, and
// formattedMessage with lang and message when present.
func ReadStatus(path string) (StatusReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return StatusReport{}, err
	}
	return ParseStatus(data)
}

// ParseStatus validates status file content (see ReadStatus).
func ParseStatus(data []byte) (StatusReport, error) {
	if len(data) > maxStatusLen {
		return StatusReport{}, fmt.Errorf("status file is %d bytes, over the agent's %d byte limit", len(data), maxStatusLen)
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return StatusReport{}, fmt.Errorf("status file is not a JSON array: %w", err)
	}
	if len(raw) == 0 {
		return StatusReport{}, fmt.Errorf("status file is an empty array")
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw[0]["status"], &body); err != nil || body == nil {
		return StatusReport{}, fmt.Errorf("status file: [0].status is missing")
	}
	var st string
	if err := json.Unmarshal(body["status"], &st); err != nil {
		return StatusReport{}, fmt.Errorf("status file: [0].status.status is missing")
	}
	switch st {
	case StatusTransitioning, StatusWarning, StatusError, StatusSuccess:
	default:
		st = StatusError // the agent coerces an unknown status to error
	}
	var rep StatusReport
	rep.Status.Status = st
	if fm, ok := body["formattedMessage"]; ok && !isNull(fm) {
		if err := json.Unmarshal(fm, &rep.Status.FormattedMessage); err != nil {
			return StatusReport{}, fmt.Errorf("status file: formattedMessage: %w", err)
		}
		var m map[string]json.RawMessage
		_ = json.Unmarshal(fm, &m)
		if m["lang"] == nil || m["message"] == nil {
			return StatusReport{}, fmt.Errorf("status file: formattedMessage needs lang and message")
		}
	}
	_ = json.Unmarshal(body["operation"], &rep.Status.Operation)
	_ = json.Unmarshal(body["name"], &rep.Status.Name)
	rep.Status.Code = looseInt(body["code"])
	var subs []map[string]json.RawMessage
	_ = json.Unmarshal(body["substatus"], &subs)
	for _, s := range subs {
		if s == nil {
			continue
		}
		ss := SubStatus{Code: looseInt(s["code"])}
		_ = json.Unmarshal(s["name"], &ss.Name)
		_ = json.Unmarshal(s["status"], &ss.Status)
		if fm := s["formattedMessage"]; !isNull(fm) {
			ss.FormattedMessage = &FormattedMessage{}
			_ = json.Unmarshal(fm, ss.FormattedMessage)
		}
		rep.Status.Substatus = append(rep.Status.Substatus, ss)
	}
	_ = json.Unmarshal(raw[0]["timestampUTC"], &rep.TimestampUTC)
	_ = json.Unmarshal(raw[0]["version"], &rep.Version)
	return rep, nil
}

// Heartbeat status values.
const (
	HeartbeatReady    = "Ready"
	HeartbeatNotReady = "NotReady"
)

// WriteHeartbeat writes the heartbeat file (the agent reads [0].heartbeat).
func WriteHeartbeat(path, status, message string) error {
	hb := []map[string]any{{
		"version": 1.0,
		"heartbeat": map[string]any{
			"status":           status,
			"code":             0,
			"formattedMessage": FormattedMessage{Lang: "en-US", Message: truncMessage(message)},
		},
	}}
	data, err := marshalNoEscape(hb)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o600)
}

// marshalNoEscape encodes v as one line of JSON (ending in a newline)
// without HTML escaping, so messages read as written ("<redacted>").
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// looseInt reads a code given as a number or a numeric string (the agent
// accepts both); anything else is 0.
func looseInt(r json.RawMessage) int {
	var n int
	if json.Unmarshal(r, &n) == nil {
		return n
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		if v, err := strconv.Atoi(s); err == nil {
			return v
		}
	}
	return 0
}
