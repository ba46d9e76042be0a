package api

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ContentTypeProblem is the media type of Problem bodies (RFC 9457).
const ContentTypeProblem = "application/problem+json"

// Problem types (Problem.Type). Clients switch on these, not on Title.
const (
	ProblemValidation    = "urn:shir:problem:validation"      // 400: Field names the bad field
	ProblemUnauthorized  = "urn:shir:problem:unauthorized"    // 401: no detail on purpose
	ProblemNotFound      = "urn:shir:problem:not-found"       // 404
	ProblemConflict      = "urn:shir:problem:conflict"        // 409: e.g. name exists, job already final
	ProblemRuntimeFull   = "urn:shir:problem:runtime-full"    // 409 on register
	ProblemNodeNameTaken = "urn:shir:problem:node-name-taken" // 409 on register
	ProblemLeaseLost     = "urn:shir:problem:lease-lost"      // 409 on renew/progress/result
	ProblemTooLarge      = "urn:shir:problem:too-large"       // 413
	ProblemRateLimited   = "urn:shir:problem:rate-limited"    // 429
	ProblemInternal      = "urn:shir:problem:internal"        // 500
	ProblemUnavailable   = "urn:shir:problem:unavailable"     // 503 (shutting down)
)

// Problem is an RFC 9457 problem document, and an error.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field names the request field that is wrong (validation errors),
	// as a JSON path such as "spec.source" or "nodeName".
	Field string `json:"field,omitempty"`
}

func (p *Problem) Error() string {
	s := fmt.Sprintf("%s (%d)", p.Title, p.Status)
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

// Is makes errors.Is(err, &Problem{Type: X}) match any problem of type X.
func (p *Problem) Is(target error) bool {
	t, ok := target.(*Problem)
	return ok && t.Type == p.Type
}

// ReadProblem turns a non-2xx response into a *Problem, reading at most 64 KiB
// of the body. A body that is not a problem document gives a Problem with the
// HTTP status and a short excerpt as Detail.
func ReadProblem(resp *http.Response) *Problem {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil || p.Type == "" {
		detail := strings.TrimSpace(string(body))
		if len(detail) > 200 {
			detail = detail[:200] + "..."
		}
		return &Problem{Type: "about:blank", Title: http.StatusText(resp.StatusCode), Status: resp.StatusCode, Detail: detail}
	}
	if p.Status == 0 {
		p.Status = resp.StatusCode
	}
	return &p
}

// DecodeStrict decodes exactly one JSON value from data into v, rejecting
// unknown fields and trailing data.
func DecodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// CheckName validates a runtime or node name: 1-64 characters, letters,
// digits, '-', '_' and '.', starting with a letter or digit. The error does
// not repeat the name.
func CheckName(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	if len(s) > 64 {
		return fmt.Errorf("must be at most 64 characters, got %d", len(s))
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !ok && i > 0 {
			ok = r == '-' || r == '_' || r == '.'
		}
		if !ok {
			return fmt.Errorf("may contain only letters, digits, '-', '_' and '.' and must start with a letter or digit (bad character at position %d)", i+1)
		}
	}
	return nil
}

// CertSHA256 returns the pin of a DER certificate: its SHA-256.
func CertSHA256(der []byte) []byte {
	s := sha256.Sum256(der)
	return s[:]
}

// PinnedTLSConfig returns a client TLS config that accepts exactly the
// server whose leaf certificate's DER SHA-256 is pin (the key's
// "@ca=sha256:" part). With a nil pin it returns a config that verifies the
// usual way (system roots).
func PinnedTLSConfig(pin []byte) *tls.Config {
	if pin == nil {
		return &tls.Config{MinVersion: tls.VersionTLS12}
	}
	want := append([]byte(nil), pin...)
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Names and chains are not checked: the pin is the trust.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
			if len(rawCerts) == 0 {
				return errors.New("server sent no certificate")
			}
			got := CertSHA256(rawCerts[0])
			if subtle.ConstantTimeCompare(got, want) != 1 {
				return fmt.Errorf("server certificate sha256:%s does not match the pinned sha256:%s", hex.EncodeToString(got), hex.EncodeToString(want))
			}
			return nil
		},
	}
}

// ParsePin parses "sha256:<64 hex>" or "<64 hex>" into a 32-byte pin.
func ParsePin(s string) ([]byte, error) {
	h := strings.TrimPrefix(strings.TrimSpace(s), "sha256:")
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("certificate pin must be sha256: followed by 64 hex digits")
	}
	return b, nil
}
