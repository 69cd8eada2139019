package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// A team is a set of helper goroutines that Parallel hands its chunks to.
// Between jobs the helpers spin for a while before they park, so that the
// next job, usually microseconds away (the next op of a step), starts at
// once: with a goroutine started for every op, each op waited for an idle
// core to be woken (slow on a VM, whose host deschedules an idle vCPU),
// and ConvNet-Quick trained 4 % and ResNet-20 6 % slower.
//
// Each job has a generation; run waits until every helper has recorded
// the job's generation as done, so a job's end never depends on counting
// (a counter shared by the helpers was left wrong by a job that did not
// finish, and a 2-thread ResNet-20 run once waited on it for good). A
// helper that is parked while run waits is woken again: a wake-up can be
// sent twice, never lost, and a helper woken with no new job parks again.
type team struct {
	busy    sync.Mutex // one job at a time; a Parallel that finds it held starts goroutines
	gen     atomic.Uint64
	job     func(worker int)
	helpers []*helper
}

// helper is one goroutine of a team: worker 1, 2, … of its jobs.
type helper struct {
	done   atomic.Uint64 // the generation of the last job it finished
	parked atomic.Bool   // set before it blocks on wake; cleared by whoever wakes it
	wake   chan struct{} // capacity 1: a token is never lost, a second one is not needed
}

// spinFor is how long an idle helper polls for a job before it parks:
// long enough to span a step's serial stretches (drawing dropout masks),
// which 200 µs did not.
const spinFor = 2 * time.Millisecond

// rewakeAfter is how long run waits on a parked helper before it wakes it again.
const rewakeAfter = 10 * time.Millisecond

// teams holds the team of each size Parallel has used: like the runtime's
// own threads, they live as long as the process and hold no results.
var teams sync.Map // int → *team

// teamOf returns the team whose helpers and caller make workers workers.
func teamOf(workers int) *team {
	if t, ok := teams.Load(workers); ok {
		return t.(*team)
	}
	t := &team{}
	for w := 1; w < workers; w++ {
		t.helpers = append(t.helpers, &helper{wake: make(chan struct{}, 1)})
	}
	// Published whole; its helpers start once it has won (a job posted
	// before they run waits for them).
	if old, loaded := teams.LoadOrStore(workers, t); loaded {
		return old.(*team)
	}
	for w, h := range t.helpers {
		go t.serve(h, w+1)
	}
	return t
}

// wakeUp wakes h if it is parked.
func (h *helper) wakeUp() {
	if h.parked.Load() && h.parked.CompareAndSwap(true, false) {
		select {
		case h.wake <- struct{}{}:
		default: // a token is already waiting for it
		}
	}
}

// run runs job(0) on the caller and job(1), job(2), … on the helpers, and
// returns when all are done; it returns false, running nothing, when the
// team is busy (a nested or concurrent Parallel).
func (t *team) run(job func(worker int)) bool {
	if !t.busy.TryLock() {
		return false
	}
	t.job = job
	g := t.gen.Add(1)
	// Deferred, so that a job(0) that panics still leaves the team idle
	// for the next caller (a sweep turns a run's panic into an error).
	defer func() {
		for _, h := range t.helpers {
			start := time.Now()
			for i := 0; h.done.Load() != g; i++ {
				if i > 1<<12 {
					runtime.Gosched() // a parked helper is being woken
					if time.Since(start) > rewakeAfter {
						h.wakeUp()
						start = time.Now()
					}
				}
			}
		}
		t.busy.Unlock()
	}()
	for _, h := range t.helpers {
		h.wakeUp()
	}
	job(0)
	return true
}

// serve runs the jobs of worker w, one per generation.
func (t *team) serve(h *helper, w int) {
	var seen uint64
	for {
		seen = t.await(h, seen)
		t.job(w)
		h.done.Store(seen)
	}
}

// await returns the generation of the next job after seen: spinning at
// first, then parked until run wakes the helper.
func (t *team) await(h *helper, seen uint64) uint64 {
	for {
		start := time.Now()
		for i := 1; ; i++ {
			if g := t.gen.Load(); g != seen {
				return g
			}
			if i%256 == 0 && time.Since(start) > spinFor {
				break
			}
		}
		h.parked.Store(true)
		if g := t.gen.Load(); g != seen && h.parked.CompareAndSwap(true, false) {
			return g // the job came while parking, before run looked
		}
		<-h.wake
		h.parked.Store(false)
		if g := t.gen.Load(); g != seen {
			return g
		}
		// Woken twice for one job: nothing new, park again.
	}
}
