package main

import (
	"time"

	"github.com/dropexp/dropexp/internal/progress"
	"github.com/dropexp/dropexp/internal/status"
	"github.com/spf13/cobra"
)

// newStatusCmd is dropexp status; runF, when not nil, gets the options in
// place of status.RunCommand (tests see what the flags parse to).
func newStatusCmd(runF func(*status.CommandOptions) error) *cobra.Command {
	o := &status.CommandOptions{}
	cmd := &cobra.Command{
		Use:   "status DIR",
		Short: "Show how far a sweep or a run has got: state, iteration, losses, accuracy, img/s and ETA",
		Long: `Show the state of every run in DIR (a sweep directory, a results root of
dropexp train, or one run directory): its iteration, the latest training loss
(mean since the last evaluation) and the test loss and accuracy of the last
evaluation, its wall-clock images/s and ETA, and for a sweep the share of
iterations done and the time until its last run ends.

It only reads: summary.json, metrics.csv, timing.csv and config.yaml of each
run, the progress.json heartbeat a training process rewrites every few
seconds, and a sweep's index.json and lock files. A run that says running but
whose process is gone is shown as stalled, with the command that continues it.`,
		Example: `  dropexp status results/table1                 # a sweep
  dropexp status results/demo/forward-p0.3-layer-s1   # one run
  dropexp status --watch results/table1         # refresh every 5 s until nothing runs
  dropexp status --watch --interval 1m results/table1 >> status.log`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Dir, o.Stdout = args[0], cmd.OutOrStdout()
			o.TTY = progress.IsTerminal(o.Stdout)
			if runF != nil {
				return runF(o)
			}
			return status.RunCommand(cmd.Context(), *o)
		},
	}
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "refresh until no run is running (redraws on a terminal, appends a timestamped block elsewhere)")
	cmd.Flags().DurationVar(&o.Interval, "interval", 5*time.Second, "time between refreshes with --watch")
	return cmd
}
