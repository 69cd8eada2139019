package dataset

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CIFAR10Classes are the CIFAR-10 class names in label order.
var CIFAR10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

const (
	cifarSide   = 32
	cifarPixels = 3 * cifarSide * cifarSide
	cifarRecord = 1 + cifarPixels
	cifarBatch  = 10000 // records in each official batch file
)

// cifarTrainFiles and cifarTestFile are the batch files of cifar-10-batches-bin/,
// in the order their records are concatenated.
var (
	cifarTrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	cifarTestFile   = "test_batch.bin"
	cifarFiles      = append(append([]string(nil), cifarTrainFiles...), cifarTestFile)
)

const (
	cifarDirName     = "cifar-10-batches-bin"
	cifarArchiveName = "cifar-10-binary.tar.gz"
)

// LoadCIFAR10 reads the CIFAR-10 binary version. path is one of: the
// directory holding data_batch_{1..5}.bin and test_batch.bin; a directory
// containing cifar-10-batches-bin/; the cifar-10-binary.tar.gz file itself;
// or a directory containing that file. The archive is read by streaming,
// without extracting it.
func LoadCIFAR10(path string) (*Split, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cifar10: %w (%s; it may stay packed)", err, fetchHint("cifar10", path, CIFAR10URL))
	}
	if !fi.IsDir() {
		return loadCIFARArchive(path)
	}
	var looked []string
	for _, dir := range []string{path, filepath.Join(path, cifarDirName)} {
		looked = append(looked, filepath.Join(dir, "{"+strings.Join(cifarFiles, ",")+"}"))
		if anyExists(dir, cifarFiles) {
			return loadCIFARDir(dir)
		}
	}
	archive := filepath.Join(path, cifarArchiveName)
	looked = append(looked, archive)
	if _, err := os.Stat(archive); err == nil {
		return loadCIFARArchive(archive)
	}
	return nil, fmt.Errorf("cifar10: no CIFAR-10 files found; looked for %s (%s; it may stay packed)",
		strings.Join(looked, ", "), fetchHint("cifar10", path, CIFAR10URL))
}

func anyExists(dir string, names []string) bool {
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

// loadCIFARDir reads the six batch files of dir.
func loadCIFARDir(dir string) (*Split, error) {
	// Sizes are checked before they are used to allocate, so that a wrong
	// multi-gigabyte file is reported instead of reserved for.
	sizes, err := statFiles("cifar10", dir, cifarArchiveName, CIFAR10URL, cifarFiles, func(file string, size int64) error {
		if size%cifarRecord != 0 {
			return fmt.Errorf("cifar10: %s: size %d is not a multiple of the record size %d (file truncated? re-extract %s)",
				file, size, cifarRecord, cifarArchiveName)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var trainBytes int64
	for i, n := range cifarFiles {
		if n != cifarTestFile {
			trainBytes += sizes[i]
		}
	}
	train, test := newCIFARSet(CIFAR10Classes), newCIFARSet(CIFAR10Classes)
	// The sizes are those of real files, so preallocating from them is safe
	// and avoids a second copy of the 150 MB training set.
	nTrain := int(trainBytes / cifarRecord)
	train.Images = make([]uint8, 0, nTrain*cifarPixels)
	train.Labels = make([]int32, 0, nTrain)
	for _, n := range cifarFiles {
		s := train
		if n == cifarTestFile {
			s = test
		}
		if err := readCIFARFile(filepath.Join(dir, n), s); err != nil {
			return nil, err
		}
	}
	return finishCIFAR(dir, &Split{Train: train, Test: test})
}

func readCIFARFile(name string, s *Set) error {
	return readSized("cifar10", name, func(r *bufio.Reader, size int64) error {
		return readCIFARRecords(r, size, name, s)
	})
}

// loadCIFARArchive reads the batch files out of cifar-10-binary.tar.gz.
func loadCIFARArchive(name string) (*Split, error) {
	a := &tarGz{"cifar10", name, cifarDirName, cifarArchiveName, CIFAR10URL, "CIFAR-10 binary version"}
	// Members come in archive order, not batch order, so each is read into
	// its own set and the training batches are concatenated at the end.
	parts := map[string]*Set{}
	err := a.walk(func(member, base string, hdr *tar.Header, r io.Reader) error {
		if !isCIFARFile(base) {
			return nil
		}
		s := newCIFARSet(CIFAR10Classes)
		if err := a.addPart(parts, member, base, hdr, cifarRecord, cifarBatch, s); err != nil {
			return err
		}
		return readCIFARRecords(r, hdr.Size, member, s)
	})
	if err == nil {
		err = a.lacks(parts, cifarFiles)
	}
	if err != nil {
		return nil, err
	}
	train := newCIFARSet(CIFAR10Classes)
	n := 0
	for _, f := range cifarTrainFiles {
		n += parts[f].Len()
	}
	train.Images = make([]uint8, 0, n*cifarPixels)
	train.Labels = make([]int32, 0, n)
	for _, f := range cifarTrainFiles {
		train.Images = append(train.Images, parts[f].Images...)
		train.Labels = append(train.Labels, parts[f].Labels...)
		parts[f] = nil
	}
	return finishCIFAR(name, &Split{Train: train, Test: parts[cifarTestFile]})
}

func isCIFARFile(base string) bool {
	for _, n := range cifarFiles {
		if base == n {
			return true
		}
	}
	return false
}

// newCIFARSet returns an empty 3×32×32 set with the given class names
// (CIFAR-10 and CIFAR-100 share the image layout).
func newCIFARSet(classes []string) *Set {
	return &Set{C: 3, H: cifarSide, W: cifarSide, Classes: classes}
}

func finishCIFAR(where string, sp *Split) (*Split, error) {
	if sp.Train.Len() == 0 || sp.Test.Len() == 0 {
		return nil, fmt.Errorf("cifar10: %s: the batch files hold %d training and %d test records, want both non-zero (re-extract %s)",
			where, sp.Train.Len(), sp.Test.Len(), cifarArchiveName)
	}
	return sp, nil
}

// readCIFARRecords appends to s the records of the CIFAR-10 batch file name,
// whose content of size bytes is read from r. A record is one label byte
// followed by the 1024-byte R, G and B planes of a 32×32 image, which is
// already the C×H×W layout of Set, so pixels are copied unchanged.
func readCIFARRecords(r io.Reader, size int64, name string, s *Set) error {
	if size < 0 || size%cifarRecord != 0 {
		return fmt.Errorf("cifar10: %s: size %d is not a multiple of the record size %d (file truncated? re-extract %s)",
			name, size, cifarRecord, cifarArchiveName)
	}
	// size may come from a tar header, which could lie, so nothing is
	// reserved from it: the slices grow with the records actually read.
	n := size / cifarRecord
	var rec [cifarRecord]byte
	for i := int64(0); i < n; i++ {
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("cifar10: %s: data ends in record %d of %d (file truncated? re-extract %s)",
					name, i, n, cifarArchiveName)
			}
			return fmt.Errorf("cifar10: %s: record %d: %w", name, i, err)
		}
		if rec[0] >= 10 {
			return fmt.Errorf("cifar10: %s: record %d has label %d, want 0..9 (not a CIFAR-10 batch? CIFAR-100 records have two label bytes and need the cifar100 loader)",
				name, i, rec[0])
		}
		s.Labels = append(s.Labels, int32(rec[0]))
		s.Images = append(s.Images, rec[1:]...)
	}
	return nil
}
