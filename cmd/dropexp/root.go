package main

import (
	"fmt"
	"runtime"

	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/train"
	"github.com/spf13/cobra"
)

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "dropexp",
		Short:         "Find out which pass of dropout makes a network generalise",
		Long:          "dropexp trains ConvNet-Quick on CIFAR-10, MNIST or an image folder with plain, standard,\nforward, backward and augmented dropout and writes accuracy and loss curves.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newSweepCmd(), newReportCmd())
	root.AddCommand(newDataCmd())
	root.AddCommand(newDumpStepCmd())
	root.AddCommand(newTrainCmd(), newBenchCmd(), &cobra.Command{
		Use:   "version",
		Short: "Print the dropexp version, Go version and matrix-multiply backend",
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "dropexp %s (%s, %s/%s, blas %s, vector %s, conv %s)\n", train.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, kernels.Backend, kernels.Vector(), kernels.ConvImpl())
		},
	})
	return root
}
