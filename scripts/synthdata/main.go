// Command synthdata writes small synthetic data sets in the official file
// formats into one directory, so that smoke runs, CI and the Slurm test need
// neither the network nor the real data: DIR/cifar-10-batches-bin/,
// DIR/cifar-100-binary/, DIR/{train,test}_32x32.mat (SVHN), the MNIST IDX
// files and, on request, an image folder DIR/{train,test}/CLASS/NNNN.png of
// the ten CIFAR-10 classes, sorted by class as image folders are. Each
// loader finds its own files there, so one dataset.path=DIR serves every
// data set. The images depend on the label, so a network can learn them.
//
//	go run ./scripts/synthdata --out results/smoke/data [--train 2000] [--test 500] [--sets cifar10,imagefolder]
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
)

func main() {
	out := flag.String("out", "", "directory to write the data sets into (required)")
	nTrain := flag.Int("train", 2000, "training images per data set")
	nTest := flag.Int("test", 500, "test images per data set")
	seed := flag.Int64("seed", 1, "seed of the pixel noise")
	sets := flag.String("sets", "cifar10,cifar100,svhn,mnist", "comma-separated data sets to write (also: imagefolder)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: synthdata --out DIR [--train N] [--test N] [--seed S] [--sets cifar10,cifar100,svhn,mnist,imagefolder]")
		os.Exit(2)
	}
	type writer struct {
		name  string
		write func() error
	}
	writers := []writer{
		{"cifar10", func() error { return datasettest.WriteCIFAR10(*out, *nTrain, *nTest, *seed) }},
		{"cifar100", func() error { return datasettest.WriteCIFAR100(*out, *nTrain, *nTest, *seed) }},
		// Compressed little-endian, as the official SVHN files are.
		{"svhn", func() error { return datasettest.WriteSVHN(*out, *nTrain, *nTest, *seed, true, false) }},
		{"mnist", func() error { return datasettest.WriteMNIST(*out, *nTrain, *nTest, *seed) }},
		// One PNG a file: --train and --test are rounded down to whole classes.
		{"imagefolder", func() error {
			return datasettest.WriteImageFolderSplit(*out, datasettest.CIFAR10Classes, *nTrain/10, *nTest/10, 32, 32, *seed)
		}},
	}
	want := strings.Split(*sets, ",")
	for i := range want {
		want[i] = strings.TrimSpace(want[i])
	}
	for _, w := range want {
		if !slices.ContainsFunc(writers, func(x writer) bool { return x.name == w }) {
			fmt.Fprintf(os.Stderr, "synthdata: unknown data set %q in --sets (known: cifar10, cifar100, svhn, mnist, imagefolder)\n", w)
			os.Exit(2)
		}
	}
	for _, w := range writers {
		if !slices.Contains(want, w.name) {
			continue
		}
		if err := w.write(); err != nil {
			fmt.Fprintf(os.Stderr, "synthdata: %s: %v\n", w.name, err)
			os.Exit(1)
		}
		fmt.Printf("synthdata: wrote %s (%d train / %d test images) into %s\n", w.name, *nTrain, *nTest, *out)
	}
}
