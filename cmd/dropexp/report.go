package main

import (
	"fmt"

	"github.com/dropexp/dropexp/internal/report"
	"github.com/spf13/cobra"
)

func newReportCmd() *cobra.Command {
	var opt report.Options
	cmd := &cobra.Command{
		Use:   "report --in SWEEPDIR [--in DIR ...] [--out DIR] [--ratio 0.3]",
		Short: "Write the paper's tables and figures from finished run directories",
		Long: `Read the run directories of one or more sweeps (or results roots of dropexp
train) and write, into --out (default: the first --in):

  table1.md, table1.csv   Table 1 from the ConvNet-Quick runs: variants × ratios
  table2.md, table2.csv   Table 2 from the ResNet-20 runs: standard vs augmented p/q
  figure1.png, .svg       training and test loss against iteration per variant at --ratio
  accuracy_vs_ratio.png, .svg  test accuracy against ratio per variant

Each table cell is the mean ± sample std of the final test accuracy over
seeds with n, the paper's value and the difference. Only finished runs count;
report never trains and can run while a sweep is still going.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			files, c, err := report.Write(opt)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, c.Note(opt.In))
			for _, p := range c.Problems {
				fmt.Fprintln(cmd.ErrOrStderr(), "report: skipped:", p)
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
	f.StringSliceVar(&opt.FigRatios, "ratio", []string{report.DefaultFigRatio}, "dropout ratio(s) of Figure 1, e.g. 0.3 or 0.2,0.05,0.005 (one row each)")
	cmd.MarkFlagRequired("in")
	return cmd
}
