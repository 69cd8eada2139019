package main

import (
	"fmt"
	"strings"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/spf13/cobra"
)

// variantList names the variants of the variant table: "plain, standard, … and augmented".
func variantList() string {
	names := experiment.VariantNames()
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "dropexp",
		Short: "Find out which pass of dropout makes a network generalise",
		Long: `dropexp trains ConvNet-Quick (Caffe's cifar10_quick) and ResNet-20 (or the deeper
CIFAR ResNets: 32, 44, 56, 110) on CIFAR-10, CIFAR-100, SVHN, MNIST or any
image folder with the dropout variants
` + variantList() + `
(those of "Demystifying Dropout", ICML 2019, and more), sweeps grids of
variants, ratios, seeds and data sets, and writes the paper's tables and figures.

  train    one run, or without --config the demo (four variants on MNIST)
  sweep    a grid of runs into one sweep directory; rerunning skips finished runs
  status   how far a sweep or run has got: iteration, losses, img/s, ETA
  report   Table 1, Table 2 and the figures from finished runs
  repair   rebuild a run's damaged summary.json from its other files
  data     fetch, verify and describe the data sets`,
		Example: `  dropexp train                                   # the demo: 4 variants on MNIST, a few minutes
  dropexp sweep --config configs/sweeps/table1.yaml --ratios 0.3 --seeds 1,2 \
      --set dataset.name=imagefolder --set dataset.path=data/cifar10-jpeg.tar.xz
  dropexp status --watch results/table1             # how far it has got, ETA
  dropexp report --in results/table1                # tables and figures`,
		Version:       versionLine(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(newSweepCmd(nil), newReportCmd(nil), newStatusCmd(nil), newEvalCmd(nil), newRepairCmd(nil))
	root.AddCommand(newDataCmd())
	root.AddCommand(newDumpStepCmd())
	root.AddCommand(newTrainCmd(nil), newBenchCmd(), &cobra.Command{
		Use:     "version",
		Short:   "Print the dropexp version, Go version and matrix-multiply backend",
		Example: "  dropexp version\n  dropexp --version",
		Args:    cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
		},
	})
	root.InitDefaultCompletionCmd() // now, so that finish gives it examples too
	finish(root)
	return root
}
