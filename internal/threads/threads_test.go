package threads

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A thread count far past the cores is capped, with a warning: threads
// 1,000,000 took 3.55 GB of stacks and buffers.
func TestResolve(t *testing.T) {
	cpus := runtime.NumCPU()
	for _, tc := range []struct {
		threads, want int
		warn          bool
	}{
		{0, cpus, false},
		{-3, cpus, false},
		{1, 1, false},
		{4 * cpus, 4 * cpus, false},
		{4*cpus + 1, 4 * cpus, true},
		{1000000, 4 * cpus, true},
	} {
		if got := Resolve(tc.threads).Threads(); got != tc.want {
			t.Errorf("Resolve(%d).Threads() = %d, want %d", tc.threads, got, tc.want)
		}
		if note := Note(tc.threads); (note != "") != tc.warn || (tc.warn && !strings.Contains(note, "capped")) {
			t.Errorf("Note(%d) = %q, want a warning: %v", tc.threads, note, tc.warn)
		}
	}
	for _, tc := range []struct {
		e    Executor
		want int
	}{{Executor{}, 1}, {N(0), 1}, {N(-1), 1}, {N(7), 7}, {N(1000000), 1000000}} {
		if got := tc.e.Threads(); got != tc.want {
			t.Errorf("%+v.Threads() = %d, want %d", tc.e, got, tc.want)
		}
	}
}

// Each calls fn once for every index, on no more goroutines at a time
// than the executor's threads.
func TestEach(t *testing.T) {
	for _, tc := range []struct{ threads, n int }{{1, 10}, {3, 10}, {3, 2}, {8, 0}, {4, 100}} {
		calls := make([]atomic.Int32, tc.n)
		var busy, most atomic.Int32
		var mu sync.Mutex
		N(tc.threads).Each(tc.n, func(i int) {
			now := busy.Add(1)
			mu.Lock()
			if now > most.Load() {
				most.Store(now)
			}
			mu.Unlock()
			time.Sleep(time.Millisecond) // let the others start
			calls[i].Add(1)
			busy.Add(-1)
		})
		for i := range calls {
			if c := calls[i].Load(); c != 1 {
				t.Errorf("threads %d, n %d: fn(%d) called %d times, want 1", tc.threads, tc.n, i, c)
			}
		}
		if int(most.Load()) > tc.threads {
			t.Errorf("threads %d, n %d: %d calls at once, want at most %d", tc.threads, tc.n, most.Load(), tc.threads)
		}
		if tc.threads > 1 && tc.n >= 10 && most.Load() < 2 {
			t.Errorf("threads %d, n %d: never more than one call at once", tc.threads, tc.n)
		}
	}
}
