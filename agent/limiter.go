package agent

import (
	"context"
	"sync"
)

// limiter is a counting semaphore whose limit changes while jobs run (the
// control plane's heartbeat reply sets it). Lowering the limit never stops
// running jobs; new ones wait until the count is below the new limit.
type limiter struct {
	mu      sync.Mutex
	limit   int
	running int
	changed chan struct{} // closed and replaced on every change
}

func newLimiter(n int) *limiter {
	if n < 1 {
		n = 1
	}
	return &limiter{limit: n, changed: make(chan struct{})}
}

func (l *limiter) notify() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// SetLimit changes the limit (values below 1 mean 1).
func (l *limiter) SetLimit(n int) {
	if n < 1 {
		n = 1
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n != l.limit {
		l.limit = n
		l.notify()
	}
}

// Limit and Running report the current values.
func (l *limiter) Limit() int   { l.mu.Lock(); defer l.mu.Unlock(); return l.limit }
func (l *limiter) Running() int { l.mu.Lock(); defer l.mu.Unlock(); return l.running }

// WaitFree waits until at least one slot is free and returns how many are.
func (l *limiter) WaitFree(ctx context.Context) (int, error) {
	for {
		l.mu.Lock()
		free, ch := l.limit-l.running, l.changed
		l.mu.Unlock()
		if free > 0 {
			return free, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-ch:
		}
	}
}

// Acquire takes a slot without waiting (the server already capped the
// number of leases by the limit); it may exceed a limit lowered meanwhile.
func (l *limiter) Acquire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running++
	l.notify()
}

// Release frees a slot.
func (l *limiter) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running--
	l.notify()
}

// WaitIdle waits until nothing runs.
func (l *limiter) WaitIdle(ctx context.Context) error {
	for {
		l.mu.Lock()
		n, ch := l.running, l.changed
		l.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}
