package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// A team is a set of helper goroutines that Parallel hands its chunks to.
//
// A job is cut into more chunks than workers, and every worker, the caller
// included, takes the next chunk when it is free. On a machine shared with
// another busy process the OS deschedules one of the team's threads now
// and then; with one fixed chunk per worker the others then waited for it,
// and a 2-thread run beside one CPU hog kept about a third of its speed.
// Here the caller takes the chunks a descheduled helper never got to, and
// waits only for chunks that are being computed.
//
// Between jobs a helper polls for a short while, so that the next job,
// usually microseconds away (the next op of a step), starts at once, and
// then parks: a helper that spins for long holds a core that a neighbour
// process, or the caller itself, needs. The caller likewise polls briefly
// for the last chunks and then parks until their worker wakes it.
type team struct {
	busy     sync.Mutex // one job at a time; a Parallel that finds it held starts goroutines
	cur      atomic.Pointer[job]
	helpers  []*helper
	chunk    time.Duration // how long the caller's last chunk took
	waiting  atomic.Bool   // the caller is parked on finished
	finished chan struct{} // capacity 1: the last chunk's worker wakes the caller
}

// job is one Parallel call: chunks of size chunk over [0,n), handed out
// by next; done counts the chunks computed.
type job struct {
	fn       func(worker, lo, hi int)
	n, chunk int
	chunks   int32
	next     atomic.Int32
	done     atomic.Int32
}

// helper is one goroutine of a team: worker 1, 2, … of its jobs.
type helper struct {
	parked atomic.Bool   // set before it blocks on wake; cleared by whoever wakes it
	wake   chan struct{} // capacity 1: a token is never lost, a second one is not needed
}

// spinFor is how long an idle helper polls for a job before it parks:
// long enough to span the gap between two ops of a step, short enough
// that a helper with nothing to do gives its core back.
const spinFor = 50 * time.Microsecond

// The caller polls for the chunks still being computed for twice as long
// as a chunk of its own took, within these bounds, and then parks: a
// helper that is running finishes its chunk within that, one that the OS
// has descheduled may take milliseconds, and parking early then gives it
// the core. Parking at once would make every op wait for a wake-up.
const (
	minWaitSpin = 20 * time.Microsecond
	maxWaitSpin = time.Millisecond
)

// chunksPerWorker is how many chunks a job is cut into per worker, where
// it has that many items: enough that a descheduled worker's share is
// taken by the others, few enough that per-chunk set-up stays small.
const chunksPerWorker = 4

// teams holds the team of each size Parallel has used: like the runtime's
// own threads, they live as long as the process and hold no results.
var teams sync.Map // int → *team

// teamOf returns the team whose helpers and caller make workers workers.
func teamOf(workers int) *team {
	if t, ok := teams.Load(workers); ok {
		return t.(*team)
	}
	t := &team{finished: make(chan struct{}, 1)}
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

// run runs fn over chunks of [0,n) on the caller (worker 0) and the
// helpers, and returns when all are done; it returns false, running
// nothing, when the team is busy (a nested or concurrent Parallel).
func (t *team) run(n, chunks int, fn func(worker, lo, hi int)) bool {
	if !t.busy.TryLock() {
		return false
	}
	j := &job{fn: fn, n: n, chunk: (n + chunks - 1) / chunks}
	j.chunks = int32((n + j.chunk - 1) / j.chunk)
	t.cur.Store(j)
	for _, h := range t.helpers {
		h.wakeUp()
	}
	// Deferred, so that a chunk of the caller's that panics still leaves
	// the team idle for the next caller (a sweep turns a run's panic into
	// an error): the chunk counts as done, the others are waited for.
	inChunk := false
	defer func() {
		handed := j.chunks
		if inChunk {
			// The job is abandoned: no chunk is handed out after this one,
			// and those already handed out are waited for.
			j.done.Add(1)
			handed = min(j.next.Swap(1<<30), j.chunks)
		}
		t.wait(j, handed)
		t.busy.Unlock()
	}()
	for {
		c := j.next.Add(1) - 1
		if c >= j.chunks {
			break
		}
		inChunk = true
		t0 := time.Now()
		j.compute(0, c)
		t.chunk = time.Since(t0)
		inChunk = false
		j.done.Add(1)
	}
	return true
}

// compute runs chunk c of j as worker w.
func (j *job) compute(w int, c int32) {
	lo := int(c) * j.chunk
	j.fn(w, lo, min(lo+j.chunk, j.n))
}

// wait returns when the first handed chunks of j are done.
func (t *team) wait(j *job, handed int32) {
	all := func() bool { return j.done.Load() >= handed }
	spin := min(max(2*t.chunk, minWaitSpin), maxWaitSpin)
	start := time.Now()
	for i := 1; !all(); i++ {
		if i%64 != 0 || time.Since(start) < spin {
			continue
		}
		t.waiting.Store(true)
		if all() {
			t.waiting.Store(false)
			return
		}
		<-t.finished // perhaps a token of an earlier job: look again
	}
}

// serve runs the chunks of worker w, job after job.
func (t *team) serve(h *helper, w int) {
	var seen *job
	for {
		j := t.await(h, seen)
		seen = j
		for {
			c := j.next.Add(1) - 1
			if c >= j.chunks {
				break
			}
			j.compute(w, c)
			j.done.Add(1)
			if t.waiting.Load() && t.waiting.Swap(false) {
				select {
				case t.finished <- struct{}{}:
				default:
				}
			}
		}
	}
}

// await returns the next job after seen: polling at first, then parked
// until run wakes the helper.
func (t *team) await(h *helper, seen *job) *job {
	for {
		start := time.Now()
		for i := 1; ; i++ {
			if j := t.cur.Load(); j != seen {
				return j
			}
			if i%64 == 0 {
				if time.Since(start) > spinFor {
					break
				}
				runtime.Gosched()
			}
		}
		h.parked.Store(true)
		if j := t.cur.Load(); j != seen && h.parked.CompareAndSwap(true, false) {
			return j // the job came while parking, before run looked
		}
		<-h.wake
		h.parked.Store(false)
		if j := t.cur.Load(); j != seen {
			return j
		}
		// Woken twice for one job: nothing new, park again.
	}
}
