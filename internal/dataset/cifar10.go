package dataset

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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
//
// The official batches hold 10,000 records each. If a training batch
// holds that many, the data is taken as (a copy of) the official CIFAR-10,
// and a batch with another count is an error: it is damaged. If none does,
// it is CIFAR-format data of one's own (the project's synthetic sets, a
// subset), and other counts are a warning of the Split. An empty batch
// is always an error.
func LoadCIFAR10(path string) (*Split, error) { return loadCIFAR10(path, defaultLoader()) }

func loadCIFAR10(path string, ld *loader) (*Split, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cifar10: %w (%s; it may stay packed)", err, fetchHint("cifar10", path, CIFAR10URL))
	}
	if !fi.IsDir() {
		return loadCIFARArchive(path, ld)
	}
	if note := emptyDir(path); note != "" {
		return nil, fmt.Errorf("cifar10: %s (%s; it may stay packed)", note, fetchHint("cifar10", path, CIFAR10URL))
	}
	var looked []string
	for _, dir := range []string{path, filepath.Join(path, cifarDirName)} {
		looked = append(looked, filepath.Join(dir, "{"+strings.Join(cifarFiles, ",")+"}"))
		if anyExists(dir, cifarFiles) {
			return loadCIFARDir(dir, ld)
		}
	}
	archive := filepath.Join(path, cifarArchiveName)
	looked = append(looked, archive)
	if _, err := os.Stat(archive); err == nil {
		return loadCIFARArchive(archive, ld)
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

// cifar10Counts is the record-count rule of CIFAR-10: five training
// batches and a test batch of 10,000 records each.
var cifar10Counts = countRule{what: "cifar10", kind: "CIFAR-10", files: cifarFiles, train: 5,
	official: []int64{cifarBatch, cifarBatch, cifarBatch, cifarBatch, cifarBatch, cifarBatch},
	fix:      "re-extract " + cifarArchiveName + ", or download " + CIFAR10URL + " again"}

// loadCIFARDir reads the six batch files of dir.
func loadCIFARDir(dir string, ld *loader) (*Split, error) {
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
	counts := make([]int64, len(sizes))
	var records int64
	for i, sz := range sizes {
		counts[i] = sz / cifarRecord
		records += counts[i]
	}
	if err := cifar10Counts.check(ld, dir, counts); err != nil {
		return nil, err
	}
	if err := ld.reserve("cifar10", dir, records*(cifarPixels+4), fmt.Sprintf("%d records of 32×32×3", records)); err != nil {
		return nil, err
	}
	train, test := newCIFARSet(CIFAR10Classes), newCIFARSet(CIFAR10Classes)
	// The sizes are those of real files, checked against the memory there
	// is, so preallocating from them is safe and avoids a second copy of
	// the 150 MB training set.
	nTrain := int(records - counts[len(counts)-1])
	train.Images = make([]uint8, 0, nTrain*cifarPixels)
	train.Labels = make([]int32, 0, nTrain)
	for _, n := range cifarFiles {
		s := train
		if n == cifarTestFile {
			s = test
		}
		if err := readCIFARFile(filepath.Join(dir, n), s, ld); err != nil {
			return nil, err
		}
	}
	return finishCIFAR(dir, &Split{Train: train, Test: test})
}

func readCIFARFile(name string, s *Set, ld *loader) error {
	return ld.readSized("cifar10", name, func(r *bufio.Reader, size int64) error {
		return readCIFARRecords(r, size, name, s)
	})
}

// loadCIFARArchive reads the batch files out of cifar-10-binary.tar.gz.
func loadCIFARArchive(name string, ld *loader) (*Split, error) {
	a := &tarGz{what: "cifar10", name: name, dir: cifarDirName, archive: cifarArchiveName, url: CIFAR10URL,
		kind: "CIFAR-10 binary version", size: int64(len(cifarFiles))*cifarBatch*cifarRecord + archiveSlack, ld: ld}
	// Members come in archive order, not batch order, so each is read into
	// its own set and the training batches are concatenated at the end.
	parts := map[string]*Set{}
	err := a.walk(func(member, base string, hdr *tar.Header, r io.Reader) error {
		if !isCIFARFile(base) {
			return nil
		}
		// A member is reserved for before it is read, and the training
		// batches once more for their concatenation.
		n := max(hdr.Size, 0) / cifarRecord
		mult := int64(2)
		if base == cifarTestFile {
			mult = 1
		}
		if err := ld.reserve("cifar10", member, mult*n*(cifarPixels+4), fmt.Sprintf("%d records of 32×32×3", n)); err != nil {
			return err
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
	counts := make([]int64, len(cifarFiles))
	for i, f := range cifarFiles {
		counts[i] = int64(parts[f].Len())
	}
	if err := cifar10Counts.check(ld, name, counts); err != nil {
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

// archiveSlack is room for the tar headers and the small files (class
// names, a readme) beside the data in an official archive.
const archiveSlack = 1 << 20

// countRule is the record-count rule of a CIFAR format: the official
// count of each file, the first train of which are the training files.
type countRule struct {
	what, kind string // the loader and the data set: "cifar10", "CIFAR-10"
	files      []string
	train      int
	official   []int64
	fix        string // how to get the official files again
}

// check applies the rule to the record counts of r.files, read from where:
// an empty file is an error; if a training file holds its official count,
// the data is taken as the official data set and any other count is an
// error, and if none does, other counts are a warning.
func (r countRule) check(ld *loader, where string, counts []int64) error {
	for i, n := range counts {
		if n == 0 {
			return fmt.Errorf("%s: %s: %s is empty (0 records), want %d (file truncated or extraction failed? %s)",
				r.what, where, r.files[i], r.official[i], r.fix)
		}
	}
	official := -1
	for i := range r.train {
		if counts[i] == r.official[i] {
			official = i
			break
		}
	}
	var odd []string
	for i, n := range counts {
		if n == r.official[i] {
			continue
		}
		if official >= 0 {
			return fmt.Errorf("%s: %s: %s holds %d records, want the official %d (%s holds the official count, so this is taken as a copy of %s, and a damaged one: %s)",
				r.what, where, r.files[i], n, r.official[i], r.files[official], r.kind, r.fix)
		}
		odd = append(odd, fmt.Sprintf("%s %d", r.files[i], n))
	}
	if len(odd) > 0 {
		want := make([]string, len(r.official))
		for i, n := range r.official {
			want[i] = fmt.Sprint(n)
		}
		ld.warn("%s: %s: not the official %s: %s records (official: %s); used as it is", r.what, where, r.kind,
			strings.Join(odd, ", "), strings.Join(slices.Compact(want), "/"))
	}
	return nil
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
