package status

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Write prints rep as a header of counts, progress and ETA, then one line
// per run, with the reason under each failed or stalled run.
func Write(w io.Writer, rep Report) {
	switch rep.Kind {
	case "sweep":
		fmt.Fprintf(w, "sweep %s in %s at %s\n", rep.Sweep, rep.Dir, rep.Now.Format("2006-01-02 15:04:05"))
	case "run":
		fmt.Fprintf(w, "run in %s at %s\n", rep.Dir, rep.Now.Format("2006-01-02 15:04:05"))
	default:
		fmt.Fprintf(w, "runs in %s at %s\n", rep.Dir, rep.Now.Format("2006-01-02 15:04:05"))
	}
	var counts []string
	for _, c := range rep.Counts() {
		counts = append(counts, c[0]+" "+c[1])
	}
	noun := "runs"
	if len(rep.Runs) == 1 {
		noun = "run"
	}
	line := fmt.Sprintf("%d %s: %s", len(rep.Runs), noun, strings.Join(counts, ", "))
	if rep.Total > 0 {
		line += fmt.Sprintf("; iterations %d/%d (%.0f%%)", rep.Done, rep.Total, 100*float64(rep.Done)/float64(rep.Total))
	}
	running := 0
	var rate float64
	for _, r := range rep.Runs {
		if r.State == Running {
			running++
			rate += r.ImagesPerSecond
		}
	}
	switch {
	case rep.Done == rep.Total && rep.Total > 0:
	case running == 0:
		line += "; nothing running"
	case rep.ETA >= 0:
		line += fmt.Sprintf("; ETA %s (%s, %d running at %.0f img/s)", duration(rep.ETA), rep.Now.Add(rep.ETA).Format("15:04"), running, rate)
	default:
		line += fmt.Sprintf("; %d running, ETA not known yet", running)
	}
	fmt.Fprintln(w, line)
	fmt.Fprintln(w)

	cells := [][]string{{"run", "state", "iteration", "train_loss", "test_loss", "test_acc", "eval_at", "img/s", "eta", "last_seen"}}
	for _, r := range rep.Runs {
		it := "–"
		switch {
		case r.Iterations > 0 && r.State != Pending:
			it = fmt.Sprintf("%d/%d", r.Iteration, r.Iterations)
		case r.Iterations > 0:
			it = fmt.Sprintf("–/%d", r.Iterations)
		}
		state := r.State
		if r.State == Diverged && r.DivergedAt > 0 {
			state = fmt.Sprintf("diverged at %d", r.DivergedAt)
		}
		ips, eta, seen := "–", "–", "–"
		if r.ImagesPerSecond > 0 && r.State != Pending {
			ips = strconv.FormatFloat(r.ImagesPerSecond, 'f', 0, 64)
		}
		if r.ETA >= 0 {
			eta = duration(r.ETA)
		}
		if !r.Updated.IsZero() {
			seen = since(rep.Now.Sub(r.Updated)) + " ago"
		}
		evalAt := "–"
		if r.EvalAt > 0 {
			evalAt = strconv.Itoa(r.EvalAt)
		}
		cells = append(cells, []string{r.Name, state, it, loss(r.TrainLoss), loss(r.TestLoss), acc(r.TestAcc), evalAt, ips, eta, seen})
	}
	width := make([]int, len(cells[0]))
	for _, row := range cells {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for n, row := range cells {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i >= 2 && n > 0 {
				b.WriteString(pad + c) // numbers right-aligned
			} else {
				b.WriteString(c + pad)
			}
			if i < len(row)-1 {
				b.WriteString("  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if n > 0 {
			r := rep.Runs[n-1]
			if r.Detail != "" && (r.State == Failed || r.State == Stalled || r.State == Conflict || r.State == Interrupted || r.State == Damaged || r.State == Finished) {
				fmt.Fprintf(w, "  └ %s\n", r.Detail)
			}
			for _, p := range r.Problems {
				fmt.Fprintf(w, "  └ could not read %s\n", p)
			}
		}
	}
}

// loss formats a loss: four decimals, e-notation once it has blown up.
func loss(l float64) string {
	switch {
	case math.IsNaN(l):
		return "–"
	case math.Abs(l) < 1e4:
		return strconv.FormatFloat(l, 'f', 4, 64)
	}
	return strconv.FormatFloat(l, 'g', 3, 64)
}

func acc(a float64) string {
	if math.IsNaN(a) {
		return "–"
	}
	return strconv.FormatFloat(a, 'f', 4, 64)
}

// duration formats a time left: 45s, 12m30s, 3h05m.
func duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// MinInterval is the shortest time between two refreshes of Watch.
const MinInterval = time.Second

// Watch prints the status of dir every interval until ctx ends or no run
// is running any more. On a terminal (tty) each refresh redraws the screen;
// elsewhere (a log file) each is a block of its own, headed by its time.
func Watch(ctx context.Context, w io.Writer, dir string, interval time.Duration, tty bool) error {
	if interval < MinInterval {
		// Each refresh reads every run's files: a shorter interval only busies the disk.
		return fmt.Errorf("status: --interval %s: give at least %s, e.g. --interval 5s", interval, MinInterval)
	}
	for {
		rep, err := Read(dir, time.Now())
		if err != nil {
			return err
		}
		var b strings.Builder
		Write(&b, rep)
		if tty {
			fmt.Fprint(w, "\x1b[H\x1b[2J"+b.String())
			fmt.Fprintf(w, "\nrefreshing every %s; Ctrl-C to stop\n", interval)
		} else {
			fmt.Fprintf(w, "== %s ==\n%s\n", rep.Now.Format("2006-01-02 15:04:05"), b.String())
		}
		if !rep.Busy() {
			fmt.Fprintln(w, "nothing running; watch ends")
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}
