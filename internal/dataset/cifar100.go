package dataset

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CIFAR100URL is the official download of the CIFAR-100 binary version.
const CIFAR100URL = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"

// CIFAR100MD5 is the published md5 of the file at CIFAR100URL.
const CIFAR100MD5 = "03b5dce01913d631647c71ecec9e9cb8"

const (
	cifar100Record      = 2 + cifarPixels // coarse label, fine label, pixels
	cifar100DirName     = "cifar-100-binary"
	cifar100ArchiveName = "cifar-100-binary.tar.gz"
	cifar100TrainFile   = "train.bin"
	cifar100TestFile    = "test.bin"
	cifar100FineNames   = "fine_label_names.txt"
	cifar100CoarseNames = "coarse_label_names.txt"
	cifar100Fine        = 100
	cifar100Coarse      = 20
	cifar100TrainLen    = 50000 // records in the official train.bin
	cifar100TestLen     = 10000
	maxNamesBytes       = 1 << 16 // the official name files are below 1 kB
)

var cifar100Files = []string{cifar100TrainFile, cifar100TestFile}

// reextract100 and redownload100 are the fixes for a damaged file
// extracted from the archive, and for a damaged archive.
const (
	reextract100  = "re-extract " + cifar100ArchiveName
	redownload100 = "download " + CIFAR100URL + " again"
)

// LoadCIFAR100 reads the CIFAR-100 binary version, labelled with the 100
// fine classes, or with the 20 coarse (superclass) ones if coarse is true.
// path is one of: the directory holding train.bin and test.bin; a directory
// containing cifar-100-binary/; the cifar-100-binary.tar.gz file itself; or
// a directory containing that file. The archive is read by streaming,
// without extracting it. Class names come from fine_label_names.txt or
// coarse_label_names.txt beside the data; without them the classes are
// named by their numbers. Record counts follow the rule of LoadCIFAR10,
// with the official 50,000 training and 10,000 test records.
func LoadCIFAR100(path string, coarse bool) (*Split, error) {
	return loadCIFAR100(path, coarse, defaultLoader())
}

// cifar100Counts is the record-count rule of CIFAR-100.
var cifar100Counts = countRule{what: "cifar100", kind: "CIFAR-100", files: cifar100Files, train: 1,
	official: []int64{cifar100TrainLen, cifar100TestLen}, fix: reextract100 + ", or " + redownload100}

func loadCIFAR100(path string, coarse bool, ld *loader) (*Split, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cifar100: %w (%s; it may stay packed)", err, fetchHint("cifar100", path, CIFAR100URL))
	}
	if !fi.IsDir() {
		return loadCIFAR100Archive(path, coarse, ld)
	}
	if note := emptyDir(path); note != "" {
		return nil, fmt.Errorf("cifar100: %s (%s; it may stay packed)", note, fetchHint("cifar100", path, CIFAR100URL))
	}
	var looked []string
	for _, dir := range []string{path, filepath.Join(path, cifar100DirName)} {
		looked = append(looked, filepath.Join(dir, "{"+strings.Join(cifar100Files, ",")+"}"))
		if anyExists(dir, cifar100Files) {
			return loadCIFAR100Dir(dir, coarse, ld)
		}
	}
	archive := filepath.Join(path, cifar100ArchiveName)
	looked = append(looked, archive)
	if _, err := os.Stat(archive); err == nil {
		return loadCIFAR100Archive(archive, coarse, ld)
	}
	return nil, fmt.Errorf("cifar100: no CIFAR-100 files found; looked for %s (%s; it may stay packed)",
		strings.Join(looked, ", "), fetchHint("cifar100", path, CIFAR100URL))
}

// cifar100Labels describes the labels a load uses.
type cifar100Labels struct {
	coarse    bool
	n         int    // number of classes
	namesFile string // the file naming them
}

func newCIFAR100Labels(coarse bool) cifar100Labels {
	if coarse {
		return cifar100Labels{true, cifar100Coarse, cifar100CoarseNames}
	}
	return cifar100Labels{false, cifar100Fine, cifar100FineNames}
}

// numberNames returns the class names "0", "1", ... of n classes.
func numberNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	return names
}

// parseClassNames reads the class names of file, one a line; trailing
// blank lines, as the official files have, are ignored.
func parseClassNames(data []byte, file string, lb cifar100Labels, fix string) ([]string, error) {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
		if lines[i] == "" {
			return nil, fmt.Errorf("cifar100: %s: line %d is blank, want one class name a line (file damaged? %s)",
				file, i+1, fix)
		}
	}
	if len(lines) != lb.n {
		return nil, fmt.Errorf("cifar100: %s: %d class names, want %d, one a line (file damaged? %s)",
			file, len(lines), lb.n, fix)
	}
	return lines, nil
}

func loadCIFAR100Dir(dir string, coarse bool, ld *loader) (*Split, error) {
	lb := newCIFAR100Labels(coarse)
	// Sizes are checked before they are used to allocate.
	sizes, err := statFiles("cifar100", dir, cifar100ArchiveName, CIFAR100URL, cifar100Files, func(file string, size int64) error {
		if size%cifar100Record != 0 {
			return cifar100SizeError(file, size, reextract100)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	counts := []int64{sizes[0] / cifar100Record, sizes[1] / cifar100Record}
	if err := cifar100Counts.check(ld, dir, counts); err != nil {
		return nil, err
	}
	records := counts[0] + counts[1]
	if err := ld.reserve("cifar100", dir, records*(cifarPixels+4), fmt.Sprintf("%d records of 32×32×3", records)); err != nil {
		return nil, err
	}
	classes := numberNames(lb.n)
	nf := filepath.Join(dir, lb.namesFile)
	if data, err := readSmall("cifar100", nf, maxNamesBytes); err == nil {
		if classes, err = parseClassNames(data, nf, lb, reextract100+", or delete the file to number the classes"); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	sp := &Split{Train: newCIFARSet(classes), Test: newCIFARSet(classes)}
	for i, n := range cifar100Files {
		s := sp.Train
		if i == 1 {
			s = sp.Test
		}
		if err := readCIFAR100File(filepath.Join(dir, n), s, lb, ld); err != nil {
			return nil, err
		}
	}
	return finishCIFAR100(dir, sp)
}

func readCIFAR100File(name string, s *Set, lb cifar100Labels, ld *loader) error {
	return ld.readSized("cifar100", name, func(r *bufio.Reader, size int64) error {
		// The size is that of a real file, so reserving for it is safe and
		// spares a copy of the 150 MB training set.
		n := int(size / cifar100Record)
		s.Images = make([]uint8, 0, n*cifarPixels)
		s.Labels = make([]int32, 0, n)
		return readCIFAR100Records(r, size, name, s, lb, reextract100)
	})
}

// loadCIFAR100Archive reads train.bin, test.bin and the class names out of
// cifar-100-binary.tar.gz.
func loadCIFAR100Archive(name string, coarse bool, ld *loader) (*Split, error) {
	lb := newCIFAR100Labels(coarse)
	a := &tarGz{what: "cifar100", name: name, dir: cifar100DirName, archive: cifar100ArchiveName, url: CIFAR100URL,
		kind: "CIFAR-100 binary version", size: (cifar100TrainLen+cifar100TestLen)*cifar100Record + archiveSlack, ld: ld}
	parts := map[string]*Set{}
	var classes []string
	err := a.walk(func(member, base string, hdr *tar.Header, r io.Reader) error {
		switch base {
		case lb.namesFile:
			data, err := io.ReadAll(io.LimitReader(r, maxNamesBytes))
			if err != nil {
				return a.corrupt(member, err)
			}
			classes, err = parseClassNames(data, member, lb, redownload100)
			return err
		case cifar100TrainFile, cifar100TestFile:
			// The header's size is trusted no further than the official
			// file sizes.
			most := int64(cifar100TrainLen)
			if base == cifar100TestFile {
				most = cifar100TestLen
			}
			n := max(hdr.Size, 0) / cifar100Record
			if err := ld.reserve("cifar100", member, n*(cifarPixels+4), fmt.Sprintf("%d records of 32×32×3", n)); err != nil {
				return err
			}
			s := newCIFARSet(nil) // named once the names file may have been read
			if err := a.addPart(parts, member, base, hdr, cifar100Record, most, s); err != nil {
				return err
			}
			return readCIFAR100Records(r, hdr.Size, member, s, lb, redownload100)
		}
		return nil
	})
	if err == nil {
		err = a.lacks(parts, cifar100Files)
	}
	if err != nil {
		return nil, err
	}
	if err := cifar100Counts.check(ld, name, []int64{int64(parts[cifar100TrainFile].Len()), int64(parts[cifar100TestFile].Len())}); err != nil {
		return nil, err
	}
	if classes == nil {
		classes = numberNames(lb.n)
	}
	sp := &Split{Train: parts[cifar100TrainFile], Test: parts[cifar100TestFile]}
	sp.Train.Classes, sp.Test.Classes = classes, classes
	return finishCIFAR100(name, sp)
}

func finishCIFAR100(where string, sp *Split) (*Split, error) {
	if sp.Train.Len() == 0 || sp.Test.Len() == 0 {
		return nil, fmt.Errorf("cifar100: %s: train.bin and test.bin hold %d and %d records, want both non-zero (re-extract %s)",
			where, sp.Train.Len(), sp.Test.Len(), cifar100ArchiveName)
	}
	return sp, nil
}

func cifar100SizeError(name string, size int64, fix string) error {
	hint := "file truncated? " + fix
	if size%cifarRecord == 0 {
		hint = "a CIFAR-10 batch? it needs the cifar10 loader; else " + fix
	}
	return fmt.Errorf("cifar100: %s: size %d is not a multiple of the record size %d (%s)", name, size, cifar100Record, hint)
}

// readCIFAR100Records appends to s the records of the CIFAR-100 file name,
// whose content of size bytes is read from r. A record is the coarse
// label byte, the fine label byte and the 1024-byte R, G and B planes of a
// 32×32 image, already the C×H×W layout of Set. Both labels are checked,
// whichever one is kept.
func readCIFAR100Records(r io.Reader, size int64, name string, s *Set, lb cifar100Labels, fix string) error {
	if size < 0 || size%cifar100Record != 0 {
		return cifar100SizeError(name, size, fix)
	}
	n := size / cifar100Record
	var rec [cifar100Record]byte
	for i := int64(0); i < n; i++ {
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("cifar100: %s: data ends in record %d of %d (file truncated? %s)",
					name, i, n, fix)
			}
			return fmt.Errorf("cifar100: %s: record %d: %w", name, i, err)
		}
		if rec[0] >= cifar100Coarse {
			return fmt.Errorf("cifar100: %s: record %d has coarse label %d, want 0..%d (not a CIFAR-100 file? %s)",
				name, i, rec[0], cifar100Coarse-1, fix)
		}
		if rec[1] >= cifar100Fine {
			return fmt.Errorf("cifar100: %s: record %d has fine label %d, want 0..%d (not a CIFAR-100 file? %s)",
				name, i, rec[1], cifar100Fine-1, fix)
		}
		l := rec[1]
		if lb.coarse {
			l = rec[0]
		}
		s.Labels = append(s.Labels, int32(l))
		s.Images = append(s.Images, rec[2:]...)
	}
	return nil
}
