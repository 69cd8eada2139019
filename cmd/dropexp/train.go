package main

import (
	"fmt"
	"io"
	"os"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/keys"
	"github.com/dropexp/dropexp/internal/runner"
	"github.com/spf13/cobra"
)

func newTrainCmd() *cobra.Command {
	var file, out, resume string
	var sets []string
	var mode runner.Mode
	cmd := &cobra.Command{
		Use:   "train [--config FILE] [--out DIR] [--set key=value ...]",
		Short: "Train one network (no --config: the embedded MNIST demo over four variants)",
		Long: `Train one network as the config describes and write config.yaml, metrics.csv and
summary.json into a run directory under out (default results/).

The run directory is OUT/NAME (e.g. results/standard-p0.3-layer-s1). A run is
its identity, a hash of its config (all but out, threads, dataset.path and
train.checkpoint_every) and of the loaded data: a finished run of the same
identity is reported (already finished: DIR) and not trained again, an
interrupted one is resumed, and a directory holding a run of another config
is never written to (the new run goes to NAME-XXXXXXXX, XXXXXXXX from its
identity). --restart trains an interrupted run again from the start,
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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			trainsRuns.Store(true)
			if out != "" {
				sets = append(sets, "out="+out)
			}
			w := cmd.OutOrStdout()
			if cmd.Flags().Changed("resume") && resume == "" {
				return fmt.Errorf("--resume \"\": give the run directory to continue, e.g. --resume results/standard-p0.3-layer-s1")
			}
			if resume != "" {
				cfg, err := resumeConfig(resume, file, sets)
				if err != nil {
					return err
				}
				warn(cmd.ErrOrStderr(), cfg.Warnings())
				_, err = runner.Resume(cmd.Context(), resume, cfg, mode, w, cmd.ErrOrStderr())
				return err
			}
			cfg, err := config.Load(file, sets, os.Environ())
			if err != nil {
				return err
			}
			warn(cmd.ErrOrStderr(), cfg.Warnings())
			if file == "" && !runner.VariantSet(sets, os.Environ()) {
				if mode.Restart || mode.AllowKernelChange {
					return fmt.Errorf("--restart, --allow-kernel-change: the demo trains four runs; give --resume DIR with the flag for the one it is meant for")
				}
				return runner.Demo(cmd.Context(), cfg, w, cmd.ErrOrStderr())
			}
			_, err = runner.One(cmd.Context(), cfg, mode, w, cmd.ErrOrStderr())
			return err
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "YAML run config (default: the embedded demo)")
	cmd.Flags().StringVar(&out, "out", "", "results root directory (the key out)")
	cmd.Flags().StringVar(&resume, "resume", "", "continue the run in this directory from its checkpoint")
	cmd.Flags().BoolVar(&mode.AllowKernelChange, "allow-kernel-change", false, "resume a run computed so far by another kernel set, dropexp or Go version (its numbers then match neither; summary.json records it)")
	cmd.Flags().BoolVar(&mode.Restart, "restart", false, "train an interrupted run again from iteration 0, discarding its checkpoint (never a finished run)")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a config key: --set dropout.ratio=0.2 (repeatable)")
	return cmd
}

// warn prints a config's warnings before it trains.
func warn(w io.Writer, warnings []string) {
	for _, m := range warnings {
		fmt.Fprintf(w, "warning: %s\n", m)
	}
}

// resumeConfig is the config a resume continues with: --config if given,
// else the run directory's own config.yaml, with the overrides on top.
func resumeConfig(dir, file string, sets []string) (config.Run, error) {
	if file != "" {
		return config.Load(file, sets, os.Environ())
	}
	return runner.ConfigOf(dir, sets, os.Environ())
}
