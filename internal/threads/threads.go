// Package threads resolves a run's configured thread count once, into the
// Executor that everything parallel in the run takes: the network's layers,
// the mask samplers, the diagnostics and the data loading. The numbers of
// a run never depend on it; only its speed and memory do.
package threads

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Executor is the number of threads a run computes on. The zero Executor
// runs on one thread.
type Executor struct{ n int }

// Resolve resolves a configured thread count: 0 is every core, and a count
// past Max is capped at Max, since more threads than that only cost memory
// (each has its stack and buffers) and never change the numbers.
func Resolve(configured int) Executor {
	if configured > 0 {
		return Executor{min(configured, Max())}
	}
	return Executor{runtime.NumCPU()}
}

// N is an executor of exactly n threads (at least one), for a tool or
// benchmark that chooses its count.
func N(n int) Executor { return Executor{max(n, 1)} }

// Max is the most threads a run uses: 4 per core.
func Max() int { return 4 * runtime.NumCPU() }

// Note says that a configured thread count is capped, "" if not.
func Note(configured int) string {
	if configured <= Max() {
		return ""
	}
	return fmt.Sprintf("warning: threads %d capped at %d (4 per core of %d); more threads only take memory", configured, Max(), runtime.NumCPU())
}

// Threads is the executor's thread count, at least 1.
func (e Executor) Threads() int { return max(e.n, 1) }

// Each calls fn(i) for every i in [0, n) on at most Threads goroutines,
// each taking the next i when it is free. The order of the calls varies:
// fn's results must not depend on it.
func (e Executor) Each(n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(e.Threads(), max(n, 1)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}
