package dataset

import (
	"fmt"
	"slices"
	"strings"
)

// Info declares one data set Load reads: its name, how reports title it,
// its official files and what it holds. Config validation, `dropexp data`,
// shell completion, help and reports read it here, so a new data set is
// its loader and one entry in infos.
type Info struct {
	Name  string // the value of the config key dataset.name, e.g. cifar10
	Title string // as papers name it, for reports: CIFAR-10
	Note  string // what the title leaves out, e.g. "20 coarse classes"; empty if nothing
	// Classes is the number of classes, C, H and W the image shape; 0
	// where the files decide (imagefolder).
	Classes, C, H, W int
	// Train and Test are the image counts of the whole data set, by which a
	// report tells the full set from part of it; 0 where the files decide.
	Train, Test int
	// Files are the official downloads, for `dropexp data fetch|verify`;
	// nil when there are none (imagefolder).
	Files []File
	// FilesOf names the data set whose files this one reads under another
	// labelling (cifar100-coarse: cifar100); empty: its own.
	FilesOf string
	// Module is the Go module that ships the files instead of a download
	// (mnist); with an empty dataset.path the loader reads that copy.
	Module string
	// Use says how the loader takes the files once they are in a directory.
	Use string
	// PathHelp says what dataset.path names, for the error of a config
	// that leaves it empty.
	PathHelp string
	load     func(path string, ld *loader) (*Split, error)
}

// File is one official download of a data set.
type File struct {
	Name string // file name in the data directory, e.g. cifar-10-binary.tar.gz
	URL  string // official download; empty if the file comes another way
	MD5  string // published md5, hex
	Size int64  // the official file's bytes, which a download may not exceed; 0 if not downloaded
}

// infos are the data sets Load reads, in the order help lists them.
var infos = [...]Info{
	{
		Name: "cifar10", Title: "CIFAR-10", Classes: 10, C: 3, H: 32, W: 32, Train: 50000, Test: 10000,
		Files:    []File{{"cifar-10-binary.tar.gz", CIFAR10URL, CIFAR10MD5, 170052171}},
		Use:      "the cifar10 loader reads the archive without extracting it",
		PathHelp: "the directory of the binary version or cifar-10-binary.tar.gz, e.g. data/cifar10 after `dropexp data fetch cifar10`",
		load:     loadCIFAR10,
	},
	{
		// The md5s are those published with the files of
		// yann.lecun.com/exdb/mnist, which the module ships unchanged.
		Name: "mnist", Title: "MNIST", Classes: 10, C: 1, H: 28, W: 28, Train: 60000, Test: 10000,
		Files: []File{
			{"train-images-idx3-ubyte.gz", "", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 0},
			{"train-labels-idx1-ubyte.gz", "", "d53e105ee54ea40749a09fcbcd1e9432", 0},
			{"t10k-images-idx3-ubyte.gz", "", "9fb629c4189551a2d022fa330f9573f3", 0},
			{"t10k-labels-idx1-ubyte.gz", "", "ec29112dd5afa0611ce80d1b7f02629c", 0},
		},
		Module: mnistModule,
		Use:    "the mnist loader reads them; with no dataset.path it uses the module's copy",
		load:   loadMNIST,
	},
	{
		Name: "imagefolder", Title: "image folder",
		PathHelp: "the root of train/CLASS/*.png and test/CLASS/*.png",
		load:     loadImageFolder,
	},
	{
		Name: "cifar100", Title: "CIFAR-100", Classes: 100, C: 3, H: 32, W: 32, Train: 50000, Test: 10000,
		Files:    []File{{"cifar-100-binary.tar.gz", CIFAR100URL, CIFAR100MD5, 168513733}},
		Use:      "the cifar100 and cifar100-coarse loaders read the archive without extracting it",
		PathHelp: "the directory of the binary version or cifar-100-binary.tar.gz, e.g. data/cifar100 after `dropexp data fetch cifar100`",
		load:     func(path string, ld *loader) (*Split, error) { return loadCIFAR100(path, false, ld) },
	},
	{
		Name: "cifar100-coarse", Title: "CIFAR-100", Note: "20 coarse classes",
		Classes: 20, C: 3, H: 32, W: 32, Train: 50000, Test: 10000,
		FilesOf:  "cifar100",
		PathHelp: "the directory of the CIFAR-100 binary version or cifar-100-binary.tar.gz, e.g. data/cifar100 after `dropexp data fetch cifar100`",
		load:     func(path string, ld *loader) (*Split, error) { return loadCIFAR100(path, true, ld) },
	},
	{
		Name: "svhn", Title: "SVHN", Classes: 10, C: 3, H: 32, W: 32, Train: 73257, Test: 26032,
		Files: []File{
			{"train_32x32.mat", SVHNTrainURL, SVHNTrainMD5, 182040794},
			{"test_32x32.mat", SVHNTestURL, SVHNTestMD5, 64275384},
		},
		Use:      "the svhn loader reads train_32x32.mat and test_32x32.mat",
		PathHelp: "the directory of train_32x32.mat and test_32x32.mat, e.g. data/svhn after `dropexp data fetch svhn`",
		load:     loadSVHN,
	},
}

// Infos returns every data set Load reads, in order.
func Infos() []Info {
	out := slices.Clone(infos[:])
	for i := range out {
		out[i].Files = slices.Clone(out[i].Files)
	}
	return out
}

// Names returns the names of the data sets, the allowed values of dataset.name.
func Names() []string {
	names := make([]string, len(infos))
	for i, d := range infos {
		names[i] = d.Name
	}
	return names
}

// Lookup returns the data set called name (any case), or an error naming the allowed ones.
func Lookup(name string) (Info, error) {
	for _, d := range infos {
		if strings.EqualFold(d.Name, name) {
			d.Files = slices.Clone(d.Files)
			return d, nil
		}
	}
	return Info{}, fmt.Errorf("dataset: unknown data set %q (want one of %s)", name, strings.Join(Names(), ", "))
}

// Source returns the data set whose official files d reads: d itself, or
// the one named by FilesOf.
func (d Info) Source() Info {
	if d.FilesOf == "" {
		return d
	}
	s, err := Lookup(d.FilesOf)
	if err != nil {
		// The table is tested; a dangling FilesOf is a build defect.
		panic("dataset: " + d.Name + ".FilesOf: " + err.Error())
	}
	return s
}
