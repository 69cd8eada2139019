// Command dropexp trains networks with forward, backward, standard and
// augmented dropout and reproduces the tables of "Demystifying Dropout".
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		// Training stops at the next step and checkpoints; loading a data
		// set cannot stop halfway, so a second signal must still kill.
		fmt.Fprintln(os.Stderr, "dropexp: stopping after the current step (signal again to quit at once)")
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		cancel()
	}()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "dropexp:", err)
		os.Exit(1)
	}
}
