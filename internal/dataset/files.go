package dataset

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// readSized opens the file name and passes read a buffered reader of it
// and its size. Open and stat errors are prefixed with what, the loader.
func readSized(what, name string, read func(r *bufio.Reader, size int64) error) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return read(bufio.NewReaderSize(f, 1<<20), fi.Size())
}

// statFiles returns the sizes of the files of dir, in the order of files,
// after passing each to check with its path, so that a wrong size is
// reported before it is used to allocate. A check error is returned at
// once; missing files, after all the others are checked, in one error that
// says to re-extract archive, from url, the official archive of what, the
// loader.
func statFiles(what, dir, archive, url string, files []string, check func(file string, size int64) error) ([]int64, error) {
	var missing []string
	sizes := make([]int64, len(files))
	for i, n := range files {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			missing = append(missing, n)
			continue
		}
		if err := check(filepath.Join(dir, n), fi.Size()); err != nil {
			return nil, err
		}
		sizes[i] = fi.Size()
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: %s: missing %s (re-extract %s from %s)",
			what, dir, strings.Join(missing, ", "), archive, url)
	}
	return sizes, nil
}

// tarGz is a gzip-compressed tar archive of a data set, with what its
// messages name.
type tarGz struct {
	what    string // the loader, which starts each message: "cifar10"
	name    string // the file read
	dir     string // the directory of the official archive the members are in
	archive string // the official archive's file name
	url     string // where the official archive is downloaded
	kind    string // what the official archive is: "CIFAR-10 binary version"
}

// walk streams the regular members of the archive to fn, in archive order:
// member is the member's name for messages (the archive's, a colon and the
// member's path), base its base name, and r its content.
func (a *tarGz) walk(fn func(member, base string, hdr *tar.Header, r io.Reader) error) error {
	f, err := os.Open(a.name)
	if err != nil {
		return fmt.Errorf("%s: %w", a.what, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: %s: not a gzip file: %v (want %s from %s)", a.what, a.name, err, a.archive, a.url)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return a.corrupt(a.name, err)
		}
		if !hdr.FileInfo().Mode().IsRegular() {
			continue
		}
		if err := fn(a.name+":"+hdr.Name, path.Base(hdr.Name), hdr, tr); err != nil {
			return err
		}
	}
}

// corrupt is the error for err, met reading where out of the archive.
func (a *tarGz) corrupt(where string, err error) error {
	return fmt.Errorf("%s: %s: %v (archive corrupt or truncated; download %s again)", a.what, where, err, a.url)
}

// addPart files s in parts under base, the member member of the archive, and
// reserves room in s for the records that hdr announces, each of record
// bytes of which s.Size() are the image; the header is trusted no further
// than most records, the official file's count, so a lying one cannot
// reserve much. An archive holding base twice is refused.
func (a *tarGz) addPart(parts map[string]*Set, member, base string, hdr *tar.Header, record, most int64, s *Set) error {
	if _, dup := parts[base]; dup {
		return fmt.Errorf("%s: %s: archive holds %s twice (want the single directory %s/ of %s)", a.what, member, base, a.dir, a.archive)
	}
	n := int(min(max(hdr.Size, 0)/record, most))
	s.Images = make([]uint8, 0, n*s.Size())
	s.Labels = make([]int32, 0, n)
	parts[base] = s
	return nil
}

// missingFiles returns the names of want that parts lacks, in order.
func missingFiles(parts map[string]*Set, want []string) []string {
	var missing []string
	for _, n := range want {
		if parts[n] == nil {
			missing = append(missing, n)
		}
	}
	return missing
}

// lacks returns an error naming the files of want that parts lacks, if any.
func (a *tarGz) lacks(parts map[string]*Set, want []string) error {
	if missing := missingFiles(parts, want); len(missing) > 0 {
		return fmt.Errorf("%s: %s: archive lacks %s/%s (not the %s? download %s)",
			a.what, a.name, a.dir, strings.Join(missing, ", "), a.kind, a.url)
	}
	return nil
}
