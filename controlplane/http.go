package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/controlplane/store"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	admin := func(pattern string, h http.HandlerFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if !s.isAdmin(r) {
				writeProblem(w, unauthorized())
				return
			}
			h(w, r)
		})
	}
	node := func(pattern string, h func(http.ResponseWriter, *http.Request, *liveNode)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			n := s.authNode(r)
			if n == nil {
				writeProblem(w, unauthorized())
				return
			}
			h(w, r, n)
		})
	}
	mux.HandleFunc("GET "+api.PathHealth, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("POST "+api.PathRegister, s.handleRegister)
	node("POST "+api.PathHeartbeat, s.handleHeartbeat)
	node("POST "+api.PathLease, s.handleLease)
	node("POST "+api.PathJobs+"/{id}/renew", s.handleRenew)
	node("POST "+api.PathJobs+"/{id}/progress", s.handleProgress)
	node("POST "+api.PathJobs+"/{id}/result", s.handleResult)

	admin("GET "+api.PathRuntimes, s.handleListRuntimes)
	admin("POST "+api.PathRuntimes, s.handleCreateRuntime)
	admin("GET "+api.PathRuntimes+"/{rt}", s.handleShowRuntime)
	admin("PATCH "+api.PathRuntimes+"/{rt}", s.handleUpdateRuntime)
	admin("DELETE "+api.PathRuntimes+"/{rt}", s.handleDeleteRuntime)
	admin("GET "+api.PathRuntimes+"/{rt}/keys", s.handleKeys)
	admin("POST "+api.PathRuntimes+"/{rt}/keys/{slot}/regenerate", s.handleRegenerate)
	admin("DELETE "+api.PathRuntimes+"/{rt}/nodes/{node}", s.handleRemoveNode)
	admin("PUT "+api.PathRuntimes+"/{rt}/nodes/{node}/concurrency", s.handleSetConcurrency)
	admin("GET "+api.PathJobs, s.handleListJobs)
	admin("POST "+api.PathJobs, s.handleSubmitJob)
	admin("GET "+api.PathJobs+"/{id}", s.handleShowJob)
	admin("POST "+api.PathJobs+"/{id}/cancel", s.handleCancelJob)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, &api.Problem{Type: api.ProblemNotFound, Title: "not found", Status: http.StatusNotFound,
			Detail: fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path)})
	})
	return s.recoverer(mux)
}

func (s *Server) recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
				writeProblem(w, &api.Problem{Type: api.ProblemInternal, Title: "internal error", Status: 500})
			}
		}()
		h.ServeHTTP(w, r)
	})
}

func (s *Server) authNode(r *http.Request) *liveNode {
	tok, ok := bearer(r)
	if !ok {
		return nil
	}
	h := hashToken(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byToken[h] // map lookup by hash: no timing leak of the token
}

func unauthorized() *api.Problem {
	return &api.Problem{Type: api.ProblemUnauthorized, Title: "unauthorized", Status: http.StatusUnauthorized}
}

func invalid(field, format string, a ...any) *api.Problem {
	return &api.Problem{Type: api.ProblemValidation, Title: "invalid request", Status: http.StatusBadRequest,
		Field: field, Detail: field + ": " + fmt.Sprintf(format, a...)}
}

func conflict(typ, format string, a ...any) *api.Problem {
	return &api.Problem{Type: typ, Title: "conflict", Status: http.StatusConflict, Detail: fmt.Sprintf(format, a...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, &api.Problem{Type: api.ProblemInternal, Title: "internal error", Status: 500})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeProblem(w http.ResponseWriter, p *api.Problem) {
	b, _ := json.Marshal(p)
	w.Header().Set("Content-Type", api.ContentTypeProblem)
	w.Header().Set("Cache-Control", "no-store")
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="shir"`)
	}
	w.WriteHeader(p.Status)
	w.Write(append(b, '\n'))
}

// fail writes err as a problem: store sentinels become 404/409, anything
// unexpected a 500 without detail (logged).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *api.Problem
	switch {
	case errors.As(err, &p):
	case errors.Is(err, store.ErrNotFound):
		p = &api.Problem{Type: api.ProblemNotFound, Title: "not found", Status: 404, Detail: err.Error()}
	case errors.Is(err, store.ErrLeaseLost):
		p = conflict(api.ProblemLeaseLost, "%v: stop the job and drop its result", err)
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrFinal):
		p = conflict(api.ProblemConflict, "%v", err)
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		p = &api.Problem{Type: api.ProblemInternal, Title: "internal error", Status: 500}
	}
	writeProblem(w, p)
}

// decode reads a JSON body of at most api.MaxBodyBytes into v, rejecting
// unknown fields, trailing data and other content types.
func decode(w http.ResponseWriter, r *http.Request, v any) *api.Problem {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &api.Problem{Type: api.ProblemValidation, Title: "unsupported media type", Status: http.StatusUnsupportedMediaType,
				Detail: "the body must be application/json"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, api.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &api.Problem{Type: api.ProblemTooLarge, Title: "request too large", Status: http.StatusRequestEntityTooLarge,
				Detail: fmt.Sprintf("the body must be at most %d bytes", api.MaxBodyBytes)}
		}
		return invalid("body", "cannot read: %v", err)
	}
	if len(body) == 0 {
		return invalid("body", "is empty; want a JSON object")
	}
	if err := api.DecodeStrict(body, v); err != nil {
		return jsonProblem(err)
	}
	return nil
}

// jsonProblem names the field of a JSON decoding error where it can.
func jsonProblem(err error) *api.Problem {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return invalid(ute.Field, "must be a JSON %s, got %s", ute.Type.Kind(), ute.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		f = strings.Trim(f, `"`)
		return invalid(f, "unknown field")
	}
	return invalid("body", "is not valid JSON: %s", msg)
}

func queryInt(r *http.Request, name string, def, lo, hi int) (int, *api.Problem) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalid(name, "must be a whole number from %d to %d", lo, hi)
	}
	return n, nil
}

func (s *Server) apiTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
