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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "dropexp:", err)
		os.Exit(1)
	}
}
