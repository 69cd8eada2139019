package main

import (
	"github.com/dropexp/dropexp/internal/evaluate"
	"github.com/spf13/cobra"
)

// newEvalCmd is dropexp eval; runF, when not nil, gets the options in
// place of evaluate.RunCommand (tests see what the flags parse to).
func newEvalCmd(runF func(*evaluate.CommandOptions) error) *cobra.Command {
	o := &evaluate.CommandOptions{}
	cmd := &cobra.Command{
		Use:   "eval RUN_DIR [--data PATH] [--set dataset.name=NAME ...] [--out DIR]",
		Short: "Evaluate a finished run's model: accuracy, loss, per-class accuracy, confusion matrix",
		Long: `Evaluate the final model (model.gob) of the finished run in RUN_DIR on its own
test set, or with --data PATH and --set dataset.KEY=VALUE on the test set of
other data of the same image shape and classes. It prints the accuracy, the
mean loss, the accuracy of each class and the confusion matrix, and writes
eval.csv (one row per class, then the row "all" with the loss) and
confusion.csv (images by true class and predicted class).

The files go into RUN_DIR for its own test set, and into
RUN_DIR/eval-NAME-XXXXXXXX for other data (XXXXXXXX from the data's
fingerprint), or into --out DIR.

The input is normalised with the statistics of the run's own training
images, as in training, so they are loaded from the run's dataset.path
(--train-data PATH if they have moved since); on its own test set the
numbers are the run's final_test_acc and final_test_loss.`,
		Example: `  dropexp eval results/standard-p0.3-layer-s1
  dropexp eval results/standard-p0.3-layer-s1 --data other/cifar10
  dropexp eval results/demo/forward-p0.5-layer-s1 --set dataset.test_limit=0   # the whole MNIST test set`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Run, o.Log, o.Stdout = args[0], cmd.ErrOrStderr(), cmd.OutOrStdout()
			if runF != nil {
				return runF(o)
			}
			return evaluate.RunCommand(*o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Data, "data", "", "evaluate on the data at PATH (as --set dataset.path=PATH)")
	f.StringArrayVar(&o.Sets, "set", nil, "change the data to evaluate on: --set dataset.name=NAME, dataset.test_limit=N (repeatable)")
	f.StringVar(&o.TrainPath, "train-data", "", "where the run's training data are now, if they have moved from its dataset.path")
	f.StringVar(&o.Out, "out", "", "directory for eval.csv and confusion.csv (default: see above)")
	return cmd
}
