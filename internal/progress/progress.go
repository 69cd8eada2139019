// Package progress reports a training run as it goes: a live bar on a
// terminal, and one plain line per evaluation everywhere, so log files of
// batch jobs stay readable (Log starts their lines with the time) and a
// terminal user still sees steady progress; and a heartbeat file in the run
// directory that `dropexp status` reads between evaluations.
package progress

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// redrawEvery bounds how often the bar is redrawn: Step runs every iteration
// and must stay cheap. The Reporter throttles itself rather than letting the
// bar do it, so that the redraws it needs (after an Eval line, at Finish)
// are never swallowed by the bar's throttle.
const redrawEvery = 100 * time.Millisecond

// lineEvery is how often a run writes a plain progress line off a terminal
// between evaluations, so that a log shows a long run is alive and its ETA.
const lineEvery = time.Minute

// Reporter shows the progress of one run. It is not safe for concurrent use.
type Reporter struct {
	w     io.Writer
	total int
	batch int
	label string
	bar   *progressbar.ProgressBar // nil unless w is a terminal

	started bool
	base    int       // the iteration before the first Step: resumed runs start past 0
	start   time.Time // when the first Step returned
	iter    int
	loss    float64

	lastDraw time.Time
	every    time.Duration // plain-line interval off a terminal; 0: evaluations only
	now      func() time.Time
	lineOpen bool // the cursor sits after a drawn bar, not at the start of a line
	closed   bool

	// The heartbeat file (see Record); dir is "" when none is kept.
	dir      string
	host     string
	lastBeat time.Time
	lossSum  float64 // step losses since the last evaluation
	lossN    int
}

// New returns a Reporter of a run of total iterations of batchSize images,
// writing to w; label (e.g. the run name) prefixes its output.
func New(w io.Writer, total, batchSize int, label string) *Reporter {
	return newReporter(w, total, batchSize, label, isTerminal(w))
}

// isTerminal reports whether w is a terminal, where a redrawn bar makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newReporter is New with the terminal decision made by the caller, so tests
// can drive the bar into a buffer.
func newReporter(w io.Writer, total, batchSize int, label string, tty bool) *Reporter {
	r := &Reporter{w: w, total: total, batch: batchSize, label: label, every: lineEvery, now: time.Now}
	if tty && total > 0 {
		// The bar's own rate and time left would count a resumed run's
		// earlier iterations as done in this process's first second; the
		// description carries the rate and ETA of this process instead.
		r.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetWidth(25),
		)
	}
	return r
}

// Step records that iteration iter (1-based) finished with training loss loss.
func (r *Reporter) Step(iter int, loss float64) {
	if !r.started {
		r.started, r.base, r.start = true, iter-1, r.now()
	}
	r.iter, r.loss = iter, loss
	r.lossSum += loss
	r.lossN++
	if r.dir != "" {
		if now := r.now(); now.Sub(r.lastBeat) >= heartbeatEvery {
			r.beat(now)
		}
	}
	if r.bar == nil {
		if r.every > 0 && iter < r.total {
			if now := r.now(); r.lastDraw.IsZero() {
				r.lastDraw = now
			} else if now.Sub(r.lastDraw) >= r.every {
				r.line(now)
			}
		}
		return
	}
	if now := r.now(); now.Sub(r.lastDraw) >= redrawEvery || iter >= r.total {
		r.draw(now)
	}
}

// draw redraws the bar with the current count, loss, image rate and ETA.
func (r *Reporter) draw(now time.Time) {
	r.lastDraw = now
	desc := r.prefix()
	if r.started {
		desc += "loss " + strconv.FormatFloat(r.loss, 'f', 4, 64)
	}
	// A rate over less than a second is mostly noise.
	if now.Sub(r.start) >= time.Second {
		desc += r.rateETA(r.iter, now)
	}
	// Both calls redraw; count first, so no frame shows a count behind the loss.
	r.bar.Set(min(r.iter, r.total))
	r.bar.Describe(desc)
	r.lineOpen = true
}

// line writes a plain progress line: iteration, training loss, rate and ETA.
func (r *Reporter) line(now time.Time) {
	r.lastDraw = now
	line := r.prefix() + fmt.Sprintf("iter %d/%d  loss %.4f", r.iter, r.total, r.loss)
	fmt.Fprintln(r.w, line+r.rateETA(r.iter, now))
}

// Eval reports an evaluation after iteration iter, with the rate since the
// first Step of this Reporter (of this process, for a resumed run).
func (r *Reporter) Eval(iter int, lr, trainLoss, testLoss, testAcc float64) {
	line := r.prefix() + fmt.Sprintf("iter %d/%d  lr %s  train_loss %.4f  test_loss %.4f  test_acc %.4f",
		iter, r.total, strconv.FormatFloat(lr, 'g', -1, 64), trainLoss, testLoss, testAcc)
	if rate := r.rateETA(iter, r.now()); rate != "" {
		line += rate
	} else {
		line += "  - img/s  eta -"
	}
	r.lossSum, r.lossN = 0, 0
	if r.dir != "" {
		r.beat(r.now())
	}
	switch {
	case r.bar == nil:
		fmt.Fprintln(r.w, line)
	case r.bar.IsFinished():
		// A full bar stays on screen; the line goes below it.
		if r.lineOpen {
			fmt.Fprintln(r.w)
		}
		fmt.Fprintln(r.w, line)
		r.lineOpen = false
	default:
		// The line takes the bar's place and the bar is redrawn below it.
		r.bar.Clear()
		fmt.Fprintln(r.w, line)
		r.draw(r.now())
	}
}

// Finish completes the output: a full bar if the run reached its last
// iteration, the bar as it stands if it stopped early (e.g. diverged).
func (r *Reporter) Finish() {
	if r.dir != "" {
		if r.iter >= r.total {
			// A complete run's own files say all there is.
			os.Remove(filepath.Join(r.dir, HeartbeatFile))
		} else {
			// Stopped early (interrupted, diverged, failed): the heartbeat
			// keeps the iteration it got to, for dropexp status.
			r.beat(r.now())
		}
		r.dir = ""
	}
	if r.bar == nil || r.closed {
		return
	}
	r.closed = true
	if !r.bar.IsFinished() {
		r.draw(r.now())
	}
	if r.lineOpen {
		fmt.Fprintln(r.w)
	}
}

// prefix returns the label as the start of a line.
func (r *Reporter) prefix() string {
	if r.label == "" {
		return ""
	}
	return r.label + ": "
}

// imagesPerSecond returns the rate up to iteration iter at time now, or 0 if
// nothing has been measured yet. The clock started when the first Step
// returned, after its iteration ran, so it covers the iterations after it;
// a resumed run counts only those of this process.
func (r *Reporter) imagesPerSecond(iter int, now time.Time) float64 {
	done, elapsed := iter-r.base-1, now.Sub(r.start)
	if !r.started || done <= 0 || elapsed <= 0 {
		return 0
	}
	return float64(done) * float64(r.batch) / elapsed.Seconds()
}

// rateETA returns "  R img/s  eta E" for iteration iter at time now, or ""
// if there is no rate yet.
func (r *Reporter) rateETA(iter int, now time.Time) string {
	ips := r.imagesPerSecond(iter, now)
	if ips <= 0 {
		return ""
	}
	eta := time.Duration(float64(r.total-iter) * float64(r.batch) / ips * float64(time.Second))
	return fmt.Sprintf("  %.0f img/s  eta %s", ips, max(eta, 0).Round(time.Second))
}
