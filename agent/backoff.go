package agent

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is exponential backoff with full jitter on the upper half:
// attempt n waits a random duration in [d/2, d] where d = Min * 2^n, capped
// at Max.
type Backoff struct {
	Min, Max time.Duration
	// Rand returns a float in [0,1); nil: math/rand/v2.
	Rand func() float64
}

// DefaultBackoff is used for the control-plane connection.
var DefaultBackoff = Backoff{Min: time.Second, Max: 2 * time.Minute}

// Delay returns the wait before retry number attempt (0-based).
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Min
	for i := 0; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	return d/2 + time.Duration(r()*float64(d/2))
}

// Jitter spreads a periodic interval by ±10% so that many nodes started
// together do not heartbeat in lock step.
func Jitter(d time.Duration, r func() float64) time.Duration {
	if r == nil {
		r = rand.Float64
	}
	return d - d/10 + time.Duration(r()*float64(d/5))
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// retry calls fn until it returns nil, ctx ends, or fn's error is permanent
// (stop reports true); between failures it waits b.Delay(n).
func retry(ctx context.Context, b Backoff, fn func() error, stop func(error) bool, onErr func(err error, wait time.Duration)) error {
	for n := 0; ; n++ {
		err := fn()
		if err == nil || (stop != nil && stop(err)) {
			return err
		}
		wait := b.Delay(n)
		if onErr != nil {
			onErr(err, wait)
		}
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}
