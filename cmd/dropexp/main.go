// Command dropexp trains networks with forward, backward, standard and
// augmented dropout and reproduces the tables of "Demystifying Dropout".
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/dropexp/dropexp/internal/progress"
	"github.com/dropexp/dropexp/internal/train"
)

// trainsRuns is set by the commands that load data and then train (train,
// sweep): for them a signal before training has started has nothing to
// save. Other commands (data fetch, say) stop through their context.
var trainsRuns atomic.Bool

// exitCode is the shell's status for a process ended by sig: 128 + its number.
func exitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		if trainsRuns.Load() && !train.Training() {
			// Nothing is being trained yet (the data are loading, or the
			// run is being placed): there is no state to save, and loading
			// cannot stop halfway, so the first signal ends the process.
			// A temporary file an atomic write leaves is removed when the
			// run next starts.
			fmt.Fprintf(os.Stderr, "dropexp: %v before training started: nothing to checkpoint yet; exiting\n", sig)
			os.Exit(exitCode(sig))
		}
		// Training stops at the next step and checkpoints; a second signal
		// quits at once (a sweep may still be loading another run's data).
		// The other commands (status --watch, data fetch) just stop.
		if trainsRuns.Load() {
			fmt.Fprintln(os.Stderr, "dropexp: stopping after the current step (signal again to quit at once)")
		}
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		cancel()
	}()
	root := newRoot()
	// Progress and log lines go to stderr; in a log file each starts with its time.
	root.SetErr(progress.Log(os.Stderr))
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "dropexp:", err)
		os.Exit(1)
	}
}
