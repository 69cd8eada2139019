package main

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/dropexp/dropexp/internal/report"
	"github.com/spf13/cobra"
)

func newReportCmd() *cobra.Command {
	var opt report.Options
	cmd := &cobra.Command{
		Use:   "report --in SWEEPDIR [--in DIR ...] [--out DIR] [--ratio 0.3] [--partial]",
		Short: "Write the paper's tables and figures from finished run directories",
		Long: `Read the run directories of one or more sweeps (or results roots of dropexp
train) and write, into --out (default: the first --in):

  table1.md, table1.csv   Table 1 from the ConvNet-Quick runs
  table2.md, table2.csv   Table 2 from the ResNet-20 runs: standard vs augmented p/q
  comparisons.csv         every comparison of the tables: paired or Welch t-test,
                          difference, 95 % interval, p and Holm-adjusted p
  findings.md             the poster's claims, each checked against the runs
  figure1.png, .svg       training loss, test loss and test accuracy against
                          iteration per variant at --ratio: the mean over seeds
                          with a band of ± 1 std
  accuracy_vs_ratio.png, .svg  final test accuracy against ratio per variant
                          (± 1 std bars), the paper's values dashed
  curves_by_setting.png, .svg  when runs differ in other settings (a sweep over
                          train.lr, say): each cell's curves side by side, one
                          per setting, the setting in the legend
  runs.csv                every run's curves in long form, one row per run,
                          iteration and metric: run,status,<swept keys>,
                          iteration,metric,value (pandas: pd.read_csv)
  index.html              all of it on one self-contained page (inline SVG and
                          CSS, nothing loaded from elsewhere), with each run's
                          curves and its config's differences from its base

A figure with nothing to draw (no finished run at --ratio, say) is not
written; a warning says why and which ratios the runs have.

and, when runs recorded gradient diagnostics (diagnostics.every > 0):

  diagnostics.png, .svg   deviation from the clean gradient and gradient noise
                          against iteration per variant at --ratio
  diagnostics_vs_ratio.png, .svg  the same at the end of training against ratio
  gradient_noise.md, .csv per variant and ratio: the noise beside the
                          generalisation gap (final test − final training loss)

A table cell holds the seeds of one run: runs whose config.yaml differs in
anything but the seed (and threads, out, checkpoint_every, dataset.path) are
reported in separate sections, titled with what differs. Each cell gives n,
mean, sample std and the 95 % Student-t interval of the final test accuracy.
The paper's values stand beside the cells only for the full data set under
the paper's protocol. Only finished runs count; report never trains and can
run while a sweep is still going. With --partial the curves of unfinished runs
are drawn too, dashed and labelled "at iteration N of M", in Figure 1, the
settings figure, runs.csv (status running or interrupted) and index.html;
they never enter a table, a comparison or the accuracy-against-ratio figure.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			files, c, err := report.Write(opt)
			if err != nil && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.ENOTDIR)) {
				return fmt.Errorf("%w; write the report elsewhere with --out DIR", err)
			}
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, c.Note(opt.In))
			for _, p := range c.Problems {
				fmt.Fprintln(cmd.ErrOrStderr(), "report: skipped:", p)
			}
			for _, warn := range c.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "report: warning:", warn)
			}
			for _, f := range files {
				fmt.Fprintln(w, "wrote", f)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opt.In, "in", nil, "sweep directory to read (repeatable; results roots and run directories work too)")
	f.StringVar(&opt.Out, "out", "", "directory for the tables and figures (default: the first --in)")
	f.BoolVar(&opt.Partial, "partial", false, "draw unfinished runs' curves too, dashed and marked with their iteration (never in the statistics)")
	f.StringSliceVar(&opt.FigRatios, "ratio", []string{report.DefaultFigRatio}, "dropout ratio(s) of Figure 1, e.g. 0.3 or 0.2,0.05,0.005 (one row each)")
	cmd.MarkFlagRequired("in")
	return cmd
}
