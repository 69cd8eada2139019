package status

import (
	"context"
	"io"
	"time"
)

// CommandOptions are what dropexp status is given.
type CommandOptions struct {
	Dir      string        // a sweep directory, a results root or a run directory
	Watch    bool          // --watch: refresh until no run is running
	Interval time.Duration // --interval: between refreshes
	TTY      bool          // Stdout is a terminal, which --watch redraws
	Stdout   io.Writer
}

// RunCommand shows the status of o.Dir once, or with Watch until nothing
// runs there any more.
func RunCommand(ctx context.Context, o CommandOptions) error {
	if o.Watch {
		return Watch(ctx, o.Stdout, o.Dir, o.Interval, o.TTY)
	}
	rep, err := Read(o.Dir, time.Now())
	if err != nil {
		return err
	}
	Write(o.Stdout, rep)
	return nil
}
