package bench

import (
	"runtime"
	"sync"
	"time"

	"github.com/dropexp/dropexp/internal/tile"
)

// peakIters is one call of tile.Peak: a few milliseconds, long enough to
// hide the call, short enough to stop near the deadline.
const peakIters = 1 << 20

// Peak measures the machine's single-precision multiply-add throughput on
// threads OS threads at once, in GFLOP/s (two per multiply-add): the best
// of rounds rounds of about d each. It is the ceiling the layer timings
// are read against; a neighbour process lowers it as it lowers them.
func Peak(threads, rounds int, d time.Duration) float64 {
	threads, rounds = max(threads, 1), max(rounds, 1)
	perCall := float64(peakIters * tile.PeakFMAs * tile.Lanes() * 2)
	best := 0.0
	for range rounds {
		var wg sync.WaitGroup
		calls := make([]int, threads)
		t0 := time.Now()
		for w := range threads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				for time.Since(t0) < d {
					tile.Peak(peakIters)
					calls[w]++
				}
			}()
		}
		wg.Wait()
		total := 0
		for _, c := range calls {
			total += c
		}
		best = max(best, float64(total)*perCall/time.Since(t0).Seconds()/1e9)
	}
	return best
}
