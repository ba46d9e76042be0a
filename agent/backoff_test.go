package agent

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 30 * time.Second}
	lo := Backoff{Min: b.Min, Max: b.Max, Rand: func() float64 { return 0 }}
	hi := Backoff{Min: b.Min, Max: b.Max, Rand: func() float64 { return 0.999999 }}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for n, w := range want {
		w *= time.Second
		if got := lo.Delay(n); got != w/2 {
			t.Errorf("Delay(%d) low = %v, want %v", n, got, w/2)
		}
		if got := hi.Delay(n); got > w || got < w-time.Millisecond {
			t.Errorf("Delay(%d) high = %v, want about %v", n, got, w)
		}
	}
	if d := b.Delay(1000); d > b.Max || d < b.Max/2 {
		t.Errorf("Delay(1000) = %v", d)
	}
	for range 100 {
		if j := Jitter(10*time.Second, nil); j < 9*time.Second || j > 11*time.Second {
			t.Fatalf("Jitter = %v, want 9s..11s", j)
		}
	}
}

// TestRetryBackoffSynctest checks the waits between attempts in a synctest
// bubble: fake time advances only when every goroutine is blocked, so the
// test takes no wall time and asserts exact durations.
func TestRetryBackoffSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := Backoff{Min: time.Second, Max: 8 * time.Second, Rand: func() float64 { return 0.999999999 }}
		var at []time.Duration
		start := time.Now()
		calls := 0
		err := retry(t.Context(), b, func() error {
			at = append(at, time.Since(start).Round(time.Second))
			calls++
			if calls < 6 {
				return errors.New("down")
			}
			return nil
		}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Waits 1, 2, 4, 8, 8 (capped) seconds.
		want := []time.Duration{0, 1, 3, 7, 15, 23}
		for i := range want {
			if at[i] != want[i]*time.Second {
				t.Fatalf("attempt times %v, want %v s", at, want)
			}
		}
	})
}

func TestRetryStopsOnPermanentAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		perm := errors.New("permanent")
		n := 0
		err := retry(t.Context(), DefaultBackoff, func() error { n++; return perm }, func(err error) bool { return err == perm }, nil)
		if err != perm || n != 1 {
			t.Fatalf("permanent: %v after %d calls", err, n)
		}
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			time.Sleep(10 * time.Second)
			cancel()
		}()
		start := time.Now()
		err = retry(ctx, DefaultBackoff, func() error { return errors.New("down") }, nil, nil)
		if !errors.Is(err, context.Canceled) || time.Since(start) != 10*time.Second {
			t.Fatalf("cancel: %v after %v", err, time.Since(start))
		}
	})
}

func TestLimiterLiveChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(1)
		l.Acquire()
		got := make(chan int, 1)
		go func() {
			n, _ := l.WaitFree(t.Context())
			got <- n
		}()
		synctest.Wait()
		select {
		case <-got:
			t.Fatal("WaitFree returned while full")
		default:
		}
		l.SetLimit(3) // the control plane raises the limit
		synctest.Wait()
		if n := <-got; n != 2 {
			t.Fatalf("free after raise = %d, want 2", n)
		}
		l.SetLimit(0)
		if l.Limit() != 1 {
			t.Fatalf("limit %d, want 1", l.Limit())
		}
		done := make(chan struct{})
		go func() { l.WaitIdle(t.Context()); close(done) }()
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("idle while a job runs")
		default:
		}
		l.Release()
		synctest.Wait()
		<-done
	})
}

func TestDefaultConcurrency(t *testing.T) {
	for _, tc := range []struct {
		cores int
		mem   uint64
		want  int
	}{
		{1, 0, 2}, {2, 8 << 30, 4}, {16, 2 << 30, 4}, {4, 512 << 20, 1}, {1000, 1 << 40, 256},
	} {
		if got := DefaultConcurrency(tc.cores, tc.mem); got != tc.want {
			t.Errorf("DefaultConcurrency(%d, %d) = %d, want %d", tc.cores, tc.mem, got, tc.want)
		}
	}
}
