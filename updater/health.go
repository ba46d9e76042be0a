package updater

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Health is the health contract between the host service and the updater.
//
// The host (`shir agent run`) writes HealthFileName in its state directory
// after every heartbeat that the control plane acknowledged, atomically
// (WriteHealth does it: temp file + rename):
//
//	{"version": "1.5.0", "pid": 4242, "time": "2026-11-25T10:00:15Z"}
//
// version is the host's buildinfo version, pid its process ID, time when
// the acknowledged heartbeat completed. After a restart, the updater waits
// until the file names the new version with a time after the restart began.
// A host that cannot reach the control plane does not write it, so an update
// that breaks registration or networking is rolled back too. In a sandbox
// without a control plane (quickstart, tests) the host writes it once it is
// up. Nothing secret goes in this file.
type Health struct {
	Version string    `json:"version"`
	PID     int       `json:"pid"`
	Time    time.Time `json:"time"`
}

// HealthFileName is the file name of the health contract in the state directory.
const HealthFileName = "health.json"

// WriteHealth writes h to path atomically; the host calls it. On Windows the
// rename fails while a reader has the file open, so it retries for up to a
// second before giving up.
func WriteHealth(path string, h Health) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		err = writeFileAtomic(path, append(b, '\n'), 0o644)
		if err == nil || i == 50 {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ReadHealth reads the health file.
func ReadHealth(path string) (Health, error) {
	var h Health
	b, err := os.ReadFile(path)
	if err != nil {
		return h, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&h); err != nil {
		return h, fmt.Errorf("health file %s: %w", path, err)
	}
	return h, nil
}

// Host is the service that runs the updated binary.
type Host interface {
	// Restart stops the host if it runs and starts it from its binary.
	Restart(ctx context.Context) error
}

// Exiter is optionally implemented by a Host that can tell that the host
// process is gone, so that a binary that exits at start is rolled back at
// once instead of after the whole health timeout.
type Exiter interface {
	Exited() bool
}

// WaitHealthy polls path until it reports version with a time at or after
// since, the host exits, ctx ends or timeout passes.
func WaitHealthy(ctx context.Context, path, version string, since time.Time, timeout time.Duration, host Host) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	poll := 20 * time.Millisecond
	var last Health
	for {
		h, err := ReadHealth(path)
		if err == nil {
			last = h
			if h.Version == version && !h.Time.Before(since) {
				return nil
			}
		}
		if e, ok := host.(Exiter); ok && e.Exited() {
			return fmt.Errorf("%w: host %s exited before reporting healthy", ErrUnhealthy, version)
		}
		if err := sleepCtx(ctx, poll); err != nil {
			if ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("%w: no healthy heartbeat from %s within %s (last health: version %q at %s)",
					ErrUnhealthy, version, timeout, last.Version, last.Time.Format(time.RFC3339))
			}
			return err
		}
		if poll < 100*time.Millisecond {
			poll *= 2
		}
	}
}
