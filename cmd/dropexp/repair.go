package main

import (
	"github.com/dropexp/dropexp/internal/runner"
	"github.com/spf13/cobra"
)

// newRepairCmd is dropexp repair; runF, when not nil, gets the options in
// place of runner.RepairCommand (tests see what the arguments parse to).
func newRepairCmd(runF func(*runner.RepairOptions) error) *cobra.Command {
	o := &runner.RepairOptions{}
	return &cobra.Command{
		Use:   "repair RUN_DIR",
		Short: "Rebuild a run's damaged or missing summary.json from its other files",
		Long: `Rebuild the summary.json of the run directory RUN_DIR from its config.yaml,
metrics.csv and model.gob (or, for an unfinished run, its checkpoint.gob),
written atomically under the run's lock. A run whose model.gob or last
metrics row says it finished is never trained again, whatever its
summary.json says; train, sweep, status and report name a damaged
summary.json and this command.

What the other files cannot tell (the dropexp and Go versions and kernels
that computed the run, when the old file is unreadable) is left empty, and
the file's "repaired" field says what was rebuilt from what. A summary.json
that reads and agrees with the other files is left as it is.`,
		Example: `  dropexp repair results/standard-p0.3-layer-s1
  dropexp repair results/table1/runs/forward-p0.3-layer-s2`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Dir, o.Stdout = args[0], cmd.OutOrStdout()
			if runF != nil {
				return runF(o)
			}
			return runner.RepairCommand(*o)
		},
	}
}
