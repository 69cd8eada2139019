package evaluate

import (
	"fmt"
	"io"
)

// CommandOptions are what dropexp eval is given.
type CommandOptions struct {
	Options           // the run, the data overrides, the training data's path, where the files go, the loading log
	Data    string    // --data PATH, as a first --set dataset.path=PATH
	Stdout  io.Writer // the evaluation's text and the files written
}

// RunCommand evaluates the run as o says, writes its files and prints
// what it found.
func RunCommand(o CommandOptions) error {
	opt := o.Options
	if o.Data != "" {
		opt.Sets = append([]string{"dataset.path=" + o.Data}, opt.Sets...)
	}
	res, err := Evaluate(opt)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if err := res.Write(); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	fmt.Fprint(o.Stdout, res.Text())
	fmt.Fprintf(o.Stdout, "\nwrote %s and %s in %s\n", EvalFile, ConfusionFile, res.Out)
	return nil
}
