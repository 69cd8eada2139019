// Package datafetch gets the official files of the data sets package
// dataset reads, as its registry lists them (URL, md5): it downloads them
// (resuming a partial download, checking the published md5, moving the
// file into place only when it is whole), verifies files already present,
// and summarises what a directory holds.
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
type File = dataset.File

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

// Names returns the data set names Lookup knows: those of package
// dataset's registry with official files, and those reading another's
// files (cifar100-coarse) after them.
func Names() []string {
	var own, shared []string
	for _, d := range dataset.Infos() {
		switch {
		case d.FilesOf != "":
			shared = append(shared, d.Name)
		case len(d.Files) > 0:
			own = append(own, d.Name)
		}
	}
	return append(own, shared...)
}

// Lookup returns the source of data set name. A data set that reads
// another's files under another labelling (cifar100-coarse) shares that
// one's source (cifar100).
func Lookup(name string) (Source, error) {
	d, err := dataset.Lookup(name)
	if err != nil {
		return Source{}, fmt.Errorf("datafetch: unknown data set %q (want one of %s)", name, strings.Join(Names(), ", "))
	}
	src := d.Source()
	if len(src.Files) == 0 {
		return Source{}, fmt.Errorf("datafetch: %s has no official download; it reads your own files: %s (pass that as --dir)", d.Name, d.PathHelp)
	}
	return Source{Name: src.Name, Files: src.Files, Module: src.Module, Use: src.Use}, nil
}

// DefaultDir returns the directory used for data set name when none is
// given: data/NAME of the data set whose files it reads (cifar100-coarse
// shares data/cifar100). For a data set shipped in a Go module (mnist) it
// is empty: the module's copy.
func DefaultDir(name string) string {
	name = strings.ToLower(name)
	if d, err := dataset.Lookup(name); err == nil {
		src := d.Source()
		if src.Module != "" {
			return ""
		}
		name = src.Name
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
