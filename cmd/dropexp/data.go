package main

import (
	"strings"

	"github.com/dropexp/dropexp/internal/datafetch"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/spf13/cobra"
)

func newDataCmd() *cobra.Command {
	data := &cobra.Command{
		Use:   "data",
		Short: "Download, verify and describe the data sets",
		Long: `Get the official files of the data sets (docs/DESIGN.md §4) into a directory, check
them against their published md5s, and describe what a directory holds.
Without --dir the directory is data/NAME (data/cifar100 for cifar100-coarse;
for mnist the copy shipped in the GoMNIST Go module). Then train on it with
--set dataset.name=NAME --set dataset.path=DIR.`,
		Example: `  dropexp data fetch cifar10
  dropexp data verify cifar10 --dir data/cifar10
  dropexp data info imagefolder --dir data/cifar10-jpeg.tar.xz`,
	}
	dirHelp := "data directory (default data/NAME)"
	names := strings.Join(datafetch.Names(), ", ")

	var fetchDir string
	fetch := &cobra.Command{
		Use:   "fetch NAME [--dir DIR]",
		Short: "Download the official files of a data set (" + names + ")",
		Long: `Download the official files of NAME into DIR, resuming a partial download
(DIR/FILE.part), check their md5 and move each into place only when it is
whole. Files already there with the right md5 are kept. The archives of
cifar10 and cifar100 are not extracted: the loaders read them packed.
Without network fetch fails at once and says which file to put where by hand.`,
		Example:   "  dropexp data fetch cifar10\n  dropexp data fetch svhn --dir /scratch/svhn",
		Args:      cobra.ExactArgs(1),
		ValidArgs: datafetch.Names(),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := datafetch.Lookup(args[0])
			if err != nil {
				return err
			}
			f := &datafetch.Fetcher{Out: cmd.OutOrStdout(), Progress: cmd.ErrOrStderr()}
			return f.Fetch(cmd.Context(), src, dirOr(fetchDir, args[0]))
		},
	}
	fetch.Flags().StringVar(&fetchDir, "dir", "", dirHelp)

	var verifyDir string
	verify := &cobra.Command{
		Use:       "verify NAME [--dir DIR]",
		Short:     "Check the md5 of each official file of a data set",
		Example:   "  dropexp data verify cifar10\n  dropexp data verify cifar100 --dir /scratch/cifar100",
		Args:      cobra.ExactArgs(1),
		ValidArgs: datafetch.Names(),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := datafetch.Lookup(args[0])
			if err != nil {
				return err
			}
			return datafetch.Verify(src, dirOr(verifyDir, args[0]), cmd.OutOrStdout())
		},
	}
	verify.Flags().StringVar(&verifyDir, "dir", "", dirHelp)

	var infoDir string
	info := &cobra.Command{
		Use:       "info NAME [--dir DIR]",
		Short:     "Load a data set and print its sizes, classes, image shape and channel means",
		Example:   "  dropexp data info mnist\n  dropexp data info imagefolder --dir data/cifar10-jpeg.tar.xz",
		Args:      cobra.ExactArgs(1),
		ValidArgs: dataset.Names(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return datafetch.Info(args[0], dirOr(infoDir, args[0]), cmd.OutOrStdout())
		},
	}
	info.Flags().StringVar(&infoDir, "dir", "", dirHelp)

	data.AddCommand(fetch, verify, info)
	return data
}

func dirOr(dir, name string) string {
	if dir != "" {
		return dir
	}
	return datafetch.DefaultDir(name)
}
