package main

import (
	"os"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/keys"
	"github.com/dropexp/dropexp/internal/runner"
	"github.com/spf13/cobra"
)

// newTrainCmd is dropexp train; runF, when not nil, gets the options in
// place of runner.TrainCommand (tests see what the flags parse to).
func newTrainCmd(runF func(*runner.TrainOptions) error) *cobra.Command {
	o := &runner.TrainOptions{}
	cmd := &cobra.Command{
		Use:   "train [--config FILE] [--out DIR] [--set key=value ...]",
		Short: "Train one network (no --config: the embedded MNIST demo over four variants)",
		Long: `Train one network as the config describes and write config.yaml, metrics.csv and
summary.json into a run directory under out (default results/).

The run directory is OUT/NAME (e.g. results/standard-p0.3-layer-s1). A run is
its identity, a hash of the loaded data and of its config but for the keys
` + experiment.NotIdentityText() + `.
A finished run of the same identity is reported (already finished: DIR) and
not trained again, an interrupted one is resumed, and a directory holding a
run of another config is never written to (the new run goes to
NAME-XXXXXXXX, XXXXXXXX from its identity). --restart trains an interrupted run again from the start,
discarding its checkpoint. A run is resumed only under the kernel set,
dropexp and Go version that computed it so far (summary.json's kernels,
dropexp_version, go_version; dropexp version names this binary's):
otherwise --restart, or --allow-kernel-change, which summary.json records.

Without --config, train runs the embedded demo (configs/demo.yaml): ConvNet-Quick
on MNIST from the GoMNIST Go module with plain, standard, forward and backward
dropout, then a table of their final accuracy and losses and a line reading it
against the paper's Figure 1 (forward dropout underfits).

--set key=value overrides any config key (dotted path, e.g.
--set dropout.ratio=0.2), as do DROPEXP_<KEY> environment variables
(DROPEXP_DROPOUT_RATIO=0.2). The keys:

` + keys.Help(),
		Example: `  dropexp train                                   # the demo (embedded configs/demo.yaml)
  dropexp train --set seed=2                       # the demo with another seed
  dropexp train --config configs/convnet-quick-cifar10.yaml \
      --set dataset.path=data/cifar10 --set dropout.variant=forward --set dropout.ratio=0.2
  dropexp train --config configs/resnet20-cifar10.yaml --set dataset.path=data/cifar10 \
      --set dropout.variant=augmented --set dropout.ratio=0.1/0.0001 --out results/rn
  dropexp train --resume results/forward-p0.2-layer-s1   # continue after Ctrl-C or a crash
  DROPEXP_TRAIN_ITERATIONS=100 dropexp train --config run.yaml   # environment overrides too`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.ResumeGiven = cmd.Flags().Changed("resume")
			o.Env, o.Stdout, o.Stderr = os.Environ(), cmd.OutOrStdout(), cmd.ErrOrStderr()
			if runF != nil {
				return runF(o)
			}
			trainsRuns.Store(true)
			return runner.TrainCommand(cmd.Context(), *o)
		},
	}
	cmd.Flags().StringVar(&o.File, "config", "", "YAML run config (default: the embedded demo)")
	cmd.Flags().StringVar(&o.Out, "out", "", "results root directory (the key out)")
	cmd.Flags().StringVar(&o.Resume, "resume", "", "continue the run in this directory from its checkpoint")
	cmd.Flags().BoolVar(&o.Mode.AllowKernelChange, "allow-kernel-change", false, "resume a run computed so far by another kernel set, dropexp or Go version (its numbers then match neither; summary.json records it)")
	cmd.Flags().BoolVar(&o.Mode.Restart, "restart", false, "train an interrupted run again from iteration 0, discarding its checkpoint (never a finished run)")
	cmd.Flags().StringArrayVar(&o.Sets, "set", nil, "override a config key: --set dropout.ratio=0.2 (repeatable)")
	return cmd
}
