// Package dataset reads the image data sets of docs/DESIGN.md §4 from their official
// file formats (CIFAR-10 and CIFAR-100 binary files, plain or inside the
// official tar.gz, SVHN's MATLAB files, MNIST IDX files, and image folders
// of PNG/JPEG files, plain or inside a tar archive) into labelled uint8 images,
// computes the preprocessing statistics the training protocols need (Caffe's
// mean image, per-channel mean and standard deviation), and produces the
// deterministic, resumable, epoch-reshuffled example order used by training.
//
// Images are stored channel-major (C×H×W) as raw 0..255 bytes; conversion to
// float and normalisation are left to the caller so that the same Set serves
// both the Caffe protocol (minus the mean image) and the He et al. protocol
// (per-channel mean/std).
//
// Each data set is declared once, as an Info in the table of registry.go:
// its name, report title, class count, image shape, full sizes, official
// files with their md5s and what dataset.path must be, beside its loader.
// Config validation, `dropexp data fetch|verify|info`, help and completion
// of --set dataset.name= and report titles read that table (Names, Lookup,
// Infos), so a new data set is its loader and one entry there. The table
// lives here because an entry holds its loader; dataset imports no package
// that reads it.
package dataset

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Set is a labelled image set stored as uint8, each image C×H×W (channel-major, CHW).
type Set struct {
	C, H, W int
	Classes []string // class names; len = number of classes
	Images  []uint8  // N*C*H*W
	Labels  []int32  // N
}

// Len returns the number of images in s.
func (s *Set) Len() int { return len(s.Labels) }

// Size returns the number of bytes of one image, C*H*W.
func (s *Set) Size() int { return s.C * s.H * s.W }

// Image returns a view of image i; it shares memory with s.Images.
func (s *Set) Image(i int) []uint8 {
	sz := s.Size()
	// The capacity is clipped so that an append by the caller cannot
	// overwrite image i+1.
	return s.Images[i*sz : (i+1)*sz : (i+1)*sz]
}

// Split is a data set's training and test sets.
type Split struct {
	Train, Test *Set

	loaded   [2]int   // sizes before Limit cut the sets; 0: never cut
	warnings []string // see Warnings
}

// CIFAR10URL is the official download of the CIFAR-10 binary version.
const CIFAR10URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"

// CIFAR10MD5 is the published md5 of the file at CIFAR10URL.
const CIFAR10MD5 = "c32a1d4ab5d03f1284b67883e8d87530"

// fetchHint tells how to put the official files of data set name (as
// dropexp data fetch names it) where path expects them: with the fetch
// command, or by hand from urls.
func fetchHint(name, path string, urls ...string) string {
	dir := path
	if strings.HasSuffix(path, ".tar.gz") || strings.HasSuffix(path, ".mat") {
		dir = filepath.Dir(path)
	}
	return fmt.Sprintf("run `dropexp data fetch %s --dir %s`, or download %s by hand into %s", name, dir, strings.Join(urls, " and "), dir)
}

// emptyDir says so when dir holds nothing, or only the .part files of an
// interrupted download, which the list of files looked for would bury; ""
// otherwise.
func emptyDir(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	var parts []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".part") {
			return ""
		}
		parts = append(parts, e.Name())
	}
	if len(parts) == 0 {
		return dir + " is empty"
	}
	return fmt.Sprintf("%s holds only the interrupted download %s (run the fetch again to resume it)", dir, strings.Join(parts, ", "))
}

// VerifyMD5 returns an error unless the md5 of file is want (hex, any case).
func VerifyMD5(file, want string) error {
	f, _, err := openRegular("dataset", file)
	if err != nil {
		return fmt.Errorf("%w (download the file first)", err)
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("dataset: %s: %w", file, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if !strings.EqualFold(got, strings.TrimSpace(want)) {
		return fmt.Errorf("dataset: %s: md5 is %s, want %s (corrupt or incomplete download; delete the file and download it again)", file, got, want)
	}
	return nil
}
