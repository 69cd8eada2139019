package dataset

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// readSized opens the file name (a regular file: see openRegular) and
// passes read a buffered reader of it and its size. Open and stat errors
// are prefixed with what, the loader.
func (ld *loader) readSized(what, name string, read func(r *bufio.Reader, size int64) error) error {
	f, fi, err := openRegular(what, name)
	if err != nil {
		return err
	}
	defer f.Close()
	ld.files++
	return read(bufio.NewReaderSize(f, 1<<20), fi.Size())
}

// openRegular opens name for reading if it is a regular file or a link to
// one. Anything else is refused before it is opened: opening a FIFO blocks
// until a writer comes, and a device such as /dev/zero never ends. The
// open does not block even so (O_NONBLOCK), and the file opened is checked
// again, so that one swapped for a FIFO in between is refused too. Errors
// start with what.
func openRegular(what, name string) (*os.File, os.FileInfo, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := checkRegular(what, name, fi); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	if fi, err = f.Stat(); err == nil {
		err = checkRegular(what, name, fi)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// readSmall returns the content of the regular file name, which must hold
// at most limit bytes.
func readSmall(what, name string, limit int64) ([]byte, error) {
	f, fi, err := openRegular(what, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s: %s: %d bytes, want at most %d (not the file it is named after? replace or remove it)", what, name, fi.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return data, nil
}

// ReadSmall returns the content of name, which must be a regular file (or
// a link to one) of at most limit bytes: a FIFO, a device or a runaway
// file is refused before it is read. Errors start with what.
func ReadSmall(what, name string, limit int64) ([]byte, error) { return readSmall(what, name, limit) }

// OpenRegular opens name for reading as the loaders do: only a regular
// file or a link to one, never blocking on a FIFO. Errors start with what.
func OpenRegular(what, name string) (*os.File, error) {
	f, _, err := openRegular(what, name)
	return f, err
}

// checkRegular returns an error naming the kind of file fi is unless it is
// a regular file.
func checkRegular(what, name string, fi os.FileInfo) error {
	m := fi.Mode()
	if m.IsRegular() {
		return nil
	}
	kind := "not a regular file"
	switch {
	case m.IsDir():
		kind = "a directory"
	case m&os.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		kind = "a socket"
	case m&os.ModeCharDevice != 0:
		kind = "a character device"
	case m&os.ModeDevice != 0:
		kind = "a block device"
	}
	return fmt.Errorf("%s: %s is %s, not a regular file; only regular files and links to them are read (replace it with the data file, or remove it)", what, name, kind)
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
		if err := checkRegular(what, filepath.Join(dir, n), fi); err != nil {
			return nil, err
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
	// size is the most bytes the archive may expand to: the official
	// archive's content and some room. A stream that expands further is a
	// compression bomb or another archive, and is refused.
	size int64
	ld   *loader
}

// walk streams the regular members of the archive to fn, in archive order:
// member is the member's name for messages (the archive's, a colon and the
// member's path), base its base name, and r its content.
func (a *tarGz) walk(fn func(member, base string, hdr *tar.Header, r io.Reader) error) error {
	f, _, err := openRegular(a.what, a.name)
	if err != nil {
		return err
	}
	defer f.Close()
	a.ld.files++
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: %s: not a gzip file: %v (want %s from %s)", a.what, a.name, err, a.archive, a.url)
	}
	limit := a.size
	if a.ld.expandCap > 0 {
		limit = a.ld.expandCap
	}
	tr := tar.NewReader(&capReader{r: zr, n: limit})
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return a.fail(a.name, err, limit)
		}
		if !hdr.FileInfo().Mode().IsRegular() {
			continue
		}
		a.ld.members++
		member := a.name + ":" + hdr.Name
		if hdr.Size > limit {
			return a.fail(member, fmt.Errorf("member of %d bytes: %w", hdr.Size, errExpands), limit)
		}
		if err := fn(member, path.Base(hdr.Name), hdr, tr); err != nil {
			return a.fail(member, err, limit)
		}
	}
}

// fail returns err, met reading where out of the archive: an error of the
// member function as it is, and a read error as a corrupt archive or, past
// limit bytes, as one that expands too far.
func (a *tarGz) fail(where string, err error, limit int64) error {
	switch {
	case errors.Is(err, errExpands):
		return fmt.Errorf("%s: %s: %w: more than %s, the size of the %s's content (a compression bomb, or not the official %s? for your own data in this format, extract the archive and give the directory)",
			a.what, where, errExpands, formatBytes(limit), a.kind, a.archive)
	case strings.HasPrefix(err.Error(), a.what+":"):
		return err
	}
	return a.corrupt(where, err)
}

// corrupt is the error for err, met reading where out of the archive.
func (a *tarGz) corrupt(where string, err error) error {
	return fmt.Errorf("%s: %s: %v (archive corrupt or truncated; download %s again)", a.what, where, err, a.url)
}

// errExpands marks compressed data that expands past its format's size.
var errExpands = errors.New("expands past its format's size")

// capReader reads at most n bytes from r and fails with errExpands if r
// holds more.
type capReader struct {
	r io.Reader
	n int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		var b [1]byte
		k, err := c.r.Read(b[:])
		if k > 0 {
			return 0, errExpands
		}
		return 0, err
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	k, err := c.r.Read(p)
	c.n -= int64(k)
	return k, err
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
