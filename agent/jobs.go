package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/shirhq/shir/controlplane/api"
	"github.com/shirhq/shir/internal/credstore"
)

// jobEnv is what executors may use: the job HTTP client (proxy-aware), the
// credential store, the exec allow-list and a progress counter.
type jobEnv struct {
	http  *http.Client
	creds *credstore.Store
	allow []string
	bytes atomic.Int64 // bytes done (copy), reported with progress
}

// executor runs one kind of job. It returns the kind's output (marshalled to
// JSON) and an error; a *jobError says whether a retry may help.
type executor func(ctx context.Context, env *jobEnv, spec json.RawMessage) (output any, err error)

var executors = map[string]executor{
	api.KindCopy:           runCopy,
	api.KindTestConnection: runTestConnection,
	api.KindExec:           runExec,
}

// jobError is a failure with a retry hint for the control plane.
type jobError struct {
	msg       string
	retryable bool
}

func (e *jobError) Error() string { return e.msg }

func permanent(format string, a ...any) error {
	return &jobError{msg: fmt.Sprintf(format, a...)}
}

func retryable(format string, a ...any) error {
	return &jobError{msg: fmt.Sprintf(format, a...), retryable: true}
}

// isRetryable: jobErrors say so; other errors (I/O, network) are retryable.
func isRetryable(err error) bool {
	var je *jobError
	if errors.As(err, &je) {
		return je.retryable
	}
	return true
}

// decodeSpec decodes a spec strictly: unknown fields are an error naming them.
func decodeSpec(spec json.RawMessage, v any) error {
	if len(spec) == 0 {
		return permanent("spec is empty")
	}
	if err := api.DecodeStrict(spec, v); err != nil {
		return permanent("spec: %v", err)
	}
	return nil
}
