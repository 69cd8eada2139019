package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"syscall"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/report"
	"github.com/spf13/cobra"
)

// reportOptions are what dropexp report is given.
type reportOptions struct {
	report.Options // --in, --out, --partial, --ratio
	Stdout, Stderr io.Writer
}

// newReportCmd is dropexp report; runF, when not nil, gets the options in
// place of runReport (tests see what the flags parse to).
func newReportCmd(runF func(*reportOptions) error) *cobra.Command {
	o := &reportOptions{}
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
anything but the seed (and the keys
` + experiment.NotIdentityText() + `)
are reported in separate sections, titled with what differs. Each cell gives n,
mean, sample std and the 95 % Student-t interval of the final test accuracy.
The paper's values stand beside the cells only for the full data set under
the paper's protocol. Only finished runs count; report never trains and can
run while a sweep is still going. With --partial the curves of unfinished runs
are drawn too, dashed and labelled "at iteration N of M", in Figure 1, the
settings figure, runs.csv (status running or interrupted) and index.html;
they never enter a table, a comparison or the accuracy-against-ratio figure.`,
		Example: `  dropexp report --in results/table1
  dropexp report --in results/table1 --in results/table2 --out paper/
  dropexp report --in results/table1 --ratio 0.3,0.1,0.05     # one Figure 1 row per ratio
  dropexp report --in results/demo --ratio 0.5                # the demo's curves`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Stdout, o.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			if runF != nil {
				return runF(o)
			}
			return runReport(*o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.In, "in", nil, "sweep directory to read (repeatable; results roots and run directories work too)")
	f.StringVar(&o.Out, "out", "", "directory for the tables and figures (default: the first --in)")
	f.BoolVar(&o.Partial, "partial", false, "draw unfinished runs' curves too, dashed and marked with their iteration (never in the statistics)")
	f.StringSliceVar(&o.FigRatios, "ratio", []string{report.DefaultFigRatio}, "dropout ratio(s) of Figure 1, e.g. 0.3 or 0.2,0.05,0.005 (one row each)")
	cmd.MarkFlagRequired("in")
	return cmd
}

// runReport writes the report o asks for and names what it wrote, and
// what it skipped and why.
func runReport(o reportOptions) error {
	files, c, err := report.Write(o.Options)
	if err != nil && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.ENOTDIR)) {
		return fmt.Errorf("%w; write the report elsewhere with --out DIR", err)
	}
	if err != nil {
		return err
	}
	w := o.Stdout
	fmt.Fprintln(w, c.Note(o.In))
	for _, p := range c.Problems {
		fmt.Fprintln(o.Stderr, "report: skipped:", p)
	}
	for _, warn := range c.Warnings {
		fmt.Fprintln(o.Stderr, "report: warning:", warn)
	}
	for _, f := range files {
		fmt.Fprintln(w, "wrote", f)
	}
	return nil
}
