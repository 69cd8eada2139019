package dataset

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers the JPEG decoder with image.Decode
	_ "image/png"  // registers the PNG decoder with image.Decode
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/ulikunitz/xz"
)

// splitDirs are the directory names of the training and test sets in an
// image folder, indexed by imageEntry.split.
var splitDirs = [2]string{"train", "test"}

const folderLayout = "ROOT/{train,test}/CLASS/*.{png,jpg,jpeg}"

// Limits that keep a hostile archive or file from exhausting memory; real
// data-set images are far below both. An image's size is read from its
// header before it is decoded, as decoding allocates for the size the
// header claims.
const (
	maxImageFileBytes = 1 << 26
	maxImageSide      = 4096
)

// LoadImageFolder reads the images of ROOT/train/CLASS/* and ROOT/test/CLASS/*
// (extensions .png, .jpg, .jpeg, any case). path is ROOT, a directory whose
// only subdirectory is ROOT, or a .tar, .tar.gz/.tgz, .tar.bz2 or .tar.xz
// archive of either, which is read by streaming without extracting it.
//
// The sorted class names give the label order, and the test classes must
// equal the training classes. All images must have one size. The first
// folder is read as colour (C=3) if any image is colour, its grey images
// expanded (the load line counts them), and as grey (C=1) only if every
// image is grey; a colour image is never made grey. Images are stored
// sorted by class, then file name.
//
// Hostile input is refused before it costs much: an image file must be a
// regular file (or a link to one: never a FIFO or a device); every image's
// size is read from its header before any image is decoded, so that one of
// the wrong size, or more pixels than the memory available, is an error
// at once; and the images are then decoded in parallel straight into the
// sets.
func LoadImageFolder(path string) (*Split, error) { return loadImageFolder(path, defaultLoader()) }

func loadImageFolder(path string, ld *loader) (*Split, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("imagefolder: %w (want a directory %s or a .tar, .tar.gz, .tgz or .tar.xz archive of one)", err, folderLayout)
	}
	var (
		entries []*imageEntry
		classes [2][]string
	)
	if fi.IsDir() {
		entries, classes, err = listFolder(path)
		if err == nil {
			ld.files += len(entries)
			ld.exec.Each(len(entries), func(i int) { entries[i].readHeader() })
		}
	} else {
		entries, classes, err = streamArchive(path, ld)
	}
	if err != nil {
		return nil, err
	}
	return assembleFolder(path, entries, classes, ld)
}

// imageEntry is one image file.
type imageEntry struct {
	split int    // index into splitDirs
	class string // class directory name
	file  string // base name; with split and class, the sort key
	name  string // shown in errors: a path, or archive:member
	data  []byte // encoded bytes when read from an archive; nil means read name from disk

	w, h int   // from the header
	grey bool  // from the header: a grey image (decoded as one plane)
	err  error // the first problem met with the file
}

// readHeader reads the image's size from its header, from data or from
// the file.
func (e *imageEntry) readHeader() {
	var r io.Reader
	if e.data != nil {
		r = bytes.NewReader(e.data)
	} else {
		f, err := openImage(e.name)
		if err != nil {
			e.err = err
			return
		}
		defer f.Close()
		r = bufio.NewReaderSize(f, 4096)
	}
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		e.err = notAnImage(e.name, err)
		return
	}
	if cfg.Width > maxImageSide || cfg.Height > maxImageSide || cfg.Width < 1 || cfg.Height < 1 {
		e.err = fmt.Errorf("imagefolder: %s: image is %d×%d (width×height), want 1 to %d pixels a side (resize it; the networks train on small images such as 32×32)",
			e.name, cfg.Width, cfg.Height, maxImageSide)
		return
	}
	e.w, e.h = cfg.Width, cfg.Height
	e.grey = cfg.ColorModel == color.GrayModel || cfg.ColorModel == color.Gray16Model
}

func notAnImage(name string, err error) error {
	return fmt.Errorf("imagefolder: %s: %v (not a valid PNG or JPEG image; replace or delete the file)", name, err)
}

// openImage opens an image file on disk: a regular file of at most
// maxImageFileBytes.
func openImage(name string) (*os.File, error) {
	f, fi, err := openRegular("imagefolder", name)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxImageFileBytes {
		f.Close()
		return nil, fmt.Errorf("imagefolder: %s: %d bytes is too large for an image file, want at most %d (resize or remove it)", name, fi.Size(), int64(maxImageFileBytes))
	}
	return f, nil
}

// decode returns the channel count (1 grey, 3 colour) and the planes of
// the image.
func (e *imageEntry) decode() (int, []uint8, error) {
	data := e.data
	e.data = nil // the encoded bytes are no longer needed once decoded
	if data == nil {
		f, err := openImage(e.name)
		if err != nil {
			return 0, nil, err
		}
		data, err = io.ReadAll(f)
		f.Close()
		if err != nil {
			return 0, nil, fmt.Errorf("imagefolder: %w", err)
		}
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return 0, nil, notAnImage(e.name, err)
	}
	if b := img.Bounds(); b.Dx() != e.w || b.Dy() != e.h {
		return 0, nil, fmt.Errorf("imagefolder: %s: the image is %d×%d (width×height) but its header says %d×%d (file corrupt; replace or delete it)",
			e.name, b.Dx(), b.Dy(), e.w, e.h)
	}
	c, pix := toCHW(img)
	return c, pix, nil
}

// decodeInto decodes the image into dst, converted to c planes.
func (e *imageEntry) decodeInto(dst []uint8, c int) error {
	ch, pix, err := e.decode()
	if err != nil {
		return err
	}
	appendChannels(dst[:0], pix, ch, c)
	return nil
}

// toCHW returns the channel count (1 grey, 3 colour) and the pixels of img
// as planes. Alpha is dropped without premultiplying, as image libraries do
// when converting to RGB, so that the stored colour is the file's colour.
func toCHW(img image.Image) (int, []uint8) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	n := w * h
	switch m := img.(type) {
	case *image.Gray:
		pix := make([]uint8, n)
		for y := 0; y < h; y++ {
			copy(pix[y*w:(y+1)*w], m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):])
		}
		return 1, pix
	case *image.YCbCr:
		pix := make([]uint8, 3*n)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi, ci := m.YOffset(b.Min.X+x, b.Min.Y+y), m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				i := y*w + x
				pix[i], pix[n+i], pix[2*n+i] = r, g, bl
			}
		}
		return 3, pix
	case *image.RGBA:
		return 3, rgbPlanes(m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y), w, h)
	case *image.NRGBA:
		return 3, rgbPlanes(m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y), w, h)
	}
	if cm := img.ColorModel(); cm == color.GrayModel || cm == color.Gray16Model {
		pix := make([]uint8, n)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				pix[y*w+x] = color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
			}
		}
		return 1, pix
	}
	pix := make([]uint8, 3*n)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			i := y*w + x
			pix[i], pix[n+i], pix[2*n+i] = c.R, c.G, c.B
		}
	}
	return 3, pix
}

// rgbPlanes splits interleaved 4-byte pixels into R, G and B planes.
func rgbPlanes(src []uint8, stride, off, w, h int) []uint8 {
	n := w * h
	pix := make([]uint8, 3*n)
	for y := 0; y < h; y++ {
		row := src[off+y*stride:]
		for x := 0; x < w; x++ {
			i := y*w + x
			pix[i], pix[n+i], pix[2*n+i] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
	return pix
}

func isImageFile(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// isHidden reports whether name is a hidden file or macOS metadata, which
// archives made on a Mac contain beside every image (._0001.jpg, __MACOSX/).
func isHidden(name string) bool {
	return strings.HasPrefix(name, ".") || name == "__MACOSX"
}

func splitIndex(name string) int {
	for i, s := range splitDirs {
		if name == s {
			return i
		}
	}
	return -1
}

// listFolder lists the image files of a directory tree. An image file
// (by its extension) that is not a regular file or a link to one is an
// error.
func listFolder(dir string) ([]*imageEntry, [2][]string, error) {
	var classes [2][]string
	root, err := folderRoot(dir)
	if err != nil {
		return nil, classes, err
	}
	var entries []*imageEntry
	for si, split := range splitDirs {
		sdir := filepath.Join(root, split)
		// Listing opens the directory, and opening a FIFO would block.
		if !isDir(sdir) {
			return nil, classes, fmt.Errorf("imagefolder: %s: cannot list the %s set: %s is missing or not a directory (want %s)", root, split, sdir, folderLayout)
		}
		des, err := os.ReadDir(sdir)
		if err != nil {
			return nil, classes, fmt.Errorf("imagefolder: %s: cannot list the %s set: %v (want %s)", root, split, err, folderLayout)
		}
		for _, de := range des {
			if isHidden(de.Name()) || !isDirEntry(sdir, de) {
				continue
			}
			class := de.Name()
			cdir := filepath.Join(sdir, class)
			files, err := os.ReadDir(cdir)
			if err != nil {
				return nil, classes, fmt.Errorf("imagefolder: %w", err)
			}
			n := 0
			for _, f := range files {
				if f.IsDir() || isHidden(f.Name()) || !isImageFile(f.Name()) {
					continue
				}
				name := filepath.Join(cdir, f.Name())
				if !f.Type().IsRegular() {
					fi, err := os.Stat(name)
					if err != nil {
						return nil, classes, fmt.Errorf("imagefolder: %w (a broken link? fix or remove it)", err)
					}
					if fi.IsDir() {
						continue
					}
					if err := checkRegular("imagefolder", name, fi); err != nil {
						return nil, classes, err
					}
				}
				entries = append(entries, &imageEntry{split: si, class: class, file: f.Name(), name: name})
				n++
			}
			if n == 0 {
				return nil, classes, fmt.Errorf("imagefolder: %s: class %q has no .png, .jpg or .jpeg images (add images or remove the directory)", cdir, class)
			}
			classes[si] = append(classes[si], class)
		}
	}
	return entries, classes, nil
}

// folderRoot returns dir if it holds train/, or else its only subdirectory
// if that does, mirroring the one leading component archives may have.
func folderRoot(dir string) (string, error) {
	if isDir(filepath.Join(dir, splitDirs[0])) {
		return dir, nil
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("imagefolder: %w", err)
	}
	var subs []string
	for _, de := range des {
		if !isHidden(de.Name()) && isDirEntry(dir, de) {
			subs = append(subs, de.Name())
		}
	}
	if len(subs) == 1 && isDir(filepath.Join(dir, subs[0], splitDirs[0])) {
		return filepath.Join(dir, subs[0]), nil
	}
	return "", fmt.Errorf("imagefolder: %s: no train/ directory (want %s)", dir, folderLayout)
}

// isDirEntry reports whether de, listed in parent, is a directory or a
// symbolic link to one, as data directories are often linked into place.
func isDirEntry(parent string, de os.DirEntry) bool {
	if de.Type()&os.ModeSymlink != 0 {
		return isDir(filepath.Join(parent, de.Name()))
	}
	return de.IsDir()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// streamArchive reads the images of a tar archive and their headers. The
// archive may place train/ and test/ below leading directories; their
// level is taken from the image paths, which must all agree on it. The
// encoded images are kept for decoding, their bytes reserved from ld, and
// a compressed archive may expand to at most maxExpansion times its size
// (and at least minExpansionCap).
func streamArchive(name string, ld *loader) ([]*imageEntry, [2][]string, error) {
	var classes [2][]string
	f, fi, err := openRegular("imagefolder", name)
	if err != nil {
		return nil, classes, err
	}
	defer f.Close()
	ld.files++
	r, compressed, err := decompress(bufio.NewReaderSize(f, 1<<20), name)
	if err != nil {
		return nil, classes, err
	}
	limit := int64(math.MaxInt64) // a plain tar is bounded by its file's size
	if compressed {
		limit = max(minExpansionCap, maxExpansion*fi.Size())
		if ld.expandCap > 0 {
			limit = ld.expandCap
		}
	}
	tail := &zeroTail{r: &capReader{r: r, n: limit}}
	tr := tar.NewReader(tail)
	var (
		entries   []*imageEntry
		prefix    string
		prefixSet bool
		first     string        // the member that fixed prefix
		dirs      [2][][]string // class directories seen, as prefix components + class
		members   int
	)
	for {
		hdr, err := tr.Next()
		if err == io.EOF && tail.zeros < 2*512 {
			// archive/tar reports a clean EOF when the data stops at a
			// block boundary, so a cut there is only visible as the
			// missing end-of-archive marker of two zero blocks.
			err = io.ErrUnexpectedEOF
		}
		if err == io.EOF {
			break
		}
		if errors.Is(err, errExpands) {
			return nil, classes, expandsError(name, limit)
		}
		if err != nil {
			if members == 0 {
				return nil, classes, fmt.Errorf("imagefolder: %s: not a readable tar archive: %v (want a directory or a .tar, .tar.gz, .tgz or .tar.xz of %s; if it is one, it is corrupt: re-create or re-download it)", name, err, folderLayout)
			}
			return nil, classes, fmt.Errorf("imagefolder: %s: %v after %d members (archive truncated or corrupt; re-create or re-download it)", name, err, members)
		}
		members++
		clean := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		parts := strings.Split(clean, "/")
		if clean == "" || slices.ContainsFunc(parts, isHidden) {
			continue
		}
		if hdr.Typeflag == tar.TypeDir {
			if k := len(parts); k >= 2 {
				if si := splitIndex(parts[k-2]); si >= 0 {
					dirs[si] = append(dirs[si], append(parts[:k-2:k-2], parts[k-1]))
				}
			}
			continue
		}
		if !hdr.FileInfo().Mode().IsRegular() || !isImageFile(clean) {
			continue
		}
		member := name + ":" + hdr.Name
		k := len(parts)
		si := -1
		if k >= 3 {
			si = splitIndex(parts[k-3])
		}
		if si < 0 {
			return nil, classes, fmt.Errorf("imagefolder: %s: image is not at [DIR/]{train,test}/CLASS/FILE (want an archive of %s)", member, folderLayout)
		}
		p := strings.Join(parts[:k-3], "/")
		if !prefixSet {
			prefix, prefixSet, first = p, true, hdr.Name
		} else if p != prefix {
			return nil, classes, fmt.Errorf("imagefolder: %s: train/ and test/ are under %q here but under %q in %s (the archive must hold one data set)", member, p, prefix, first)
		}
		if hdr.Size < 0 || hdr.Size > maxImageFileBytes {
			return nil, classes, fmt.Errorf("imagefolder: %s: %d bytes is too large for an image file (corrupt archive?)", member, hdr.Size)
		}
		// Read as the bytes arrive: a corrupt header's size must not
		// allocate memory the archive does not hold.
		buf := bytes.NewBuffer(make([]byte, 0, min(hdr.Size, 1<<20)))
		if err := ld.reserve("imagefolder", member, hdr.Size, fmt.Sprintf("keeping the %d image files read so far and this one until they are decoded", len(entries))); err != nil {
			return nil, classes, err
		}
		if n, err := buf.ReadFrom(io.LimitReader(tr, hdr.Size)); err != nil || n != hdr.Size {
			if errors.Is(err, errExpands) {
				return nil, classes, expandsError(name, limit)
			}
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return nil, classes, fmt.Errorf("imagefolder: %s: %v (archive truncated or corrupt; re-create or re-download it)", member, err)
		}
		e := &imageEntry{split: si, class: parts[k-2], file: parts[k-1], name: member, data: buf.Bytes()}
		e.readHeader()
		entries = append(entries, e)
		ld.members++
	}
	if !prefixSet {
		return nil, classes, fmt.Errorf("imagefolder: %s: archive holds no images at [DIR/]{train,test}/CLASS/*.{png,jpg,jpeg} (want an archive of %s)", name, folderLayout)
	}
	seen := [2]map[string]bool{{}, {}}
	for _, e := range entries {
		seen[e.split][e.class] = true
	}
	for si := range splitDirs {
		for _, d := range dirs[si] {
			class := d[len(d)-1]
			if strings.Join(d[:len(d)-1], "/") == prefix && !seen[si][class] {
				return nil, classes, fmt.Errorf("imagefolder: %s:%s: class %q has no .png, .jpg or .jpeg images (add images or remove the directory)",
					name, path.Join(prefix, splitDirs[si], class), class)
			}
		}
		for c := range seen[si] {
			classes[si] = append(classes[si], c)
		}
	}
	return entries, classes, nil
}

// A compressed image-folder archive may expand to maxExpansion times its
// size, or minExpansionCap if that is more: images are compressed already,
// so a tar of them shrinks little (CIFAR-10 as JPEGs in a .tar.xz: 5
// times), and one that expands much further is a compression bomb.
const (
	maxExpansion    = 100
	minExpansionCap = 1 << 30
)

func expandsError(name string, limit int64) error {
	return fmt.Errorf("imagefolder: %s: %w: more than %s, %d times the archive's size (a compression bomb? images hardly compress; re-create the archive)",
		name, errExpands, formatBytes(limit), maxExpansion)
}

// zeroTail passes reads through and counts the zero bytes that end the
// data read so far.
type zeroTail struct {
	r     io.Reader
	zeros int
}

func (z *zeroTail) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	i := n
	for i > 0 && p[i-1] == 0 {
		i--
	}
	if i == 0 {
		z.zeros += n
	} else {
		z.zeros = n - i
	}
	return n, err
}

// decompress recognises the archive's compression from its first bytes
// rather than its name, so that a misnamed file still loads, and reports
// whether there was one.
func decompress(br *bufio.Reader, name string) (io.Reader, bool, error) {
	head, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, true, fmt.Errorf("imagefolder: %s: %v (corrupt gzip; re-create or re-download it)", name, err)
		}
		return zr, true, nil
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		xr, err := xz.NewReader(br)
		if err != nil {
			return nil, true, fmt.Errorf("imagefolder: %s: %v (corrupt xz; re-create or re-download it)", name, err)
		}
		return xr, true, nil
	case bytes.HasPrefix(head, []byte("BZh")):
		return bzip2.NewReader(br), true, nil
	}
	return br, false, nil
}

// assembleFolder sorts the entries, checks classes and sizes (from the
// headers) and the memory the pixels need, and then decodes the images
// into the training and test sets.
func assembleFolder(root string, entries []*imageEntry, classes [2][]string, ld *loader) (*Split, error) {
	for si := range classes {
		sort.Strings(classes[si])
	}
	train, test := classes[0], classes[1]
	if len(train) == 0 {
		return nil, fmt.Errorf("imagefolder: %s: no training classes (want %s)", root, folderLayout)
	}
	if !slices.Equal(train, test) {
		return nil, fmt.Errorf("imagefolder: %s: test classes %v differ from training classes %v (missing in test: %v; only in test: %v); both sets need the same class directories",
			root, test, train, minus(train, test), minus(test, train))
	}
	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.split != b.split {
			return a.split < b.split
		}
		if a.class != b.class {
			return a.class < b.class
		}
		return a.file < b.file
	})
	// Errors are reported in the sorted order so that the message does not
	// depend on which worker finished first.
	for i, e := range entries {
		if e.err != nil {
			return nil, e.err
		}
		if i > 0 && entryKey(entries[i-1]) == entryKey(e) {
			return nil, fmt.Errorf("imagefolder: %s: the archive holds this image twice (re-create the archive)", e.name)
		}
	}
	first := entries[0]
	H, W := first.h, first.w
	for _, e := range entries {
		if e.w != W || e.h != H {
			return nil, fmt.Errorf("imagefolder: %s: image is %d×%d (width×height), want %d×%d like %s (all images must have one size; resize or remove it)",
				e.name, e.w, e.h, W, H, first.name)
		}
	}
	// Colour if any header says so: one grey image, or a grey first one,
	// must not turn a colour folder grey.
	C, greys := 1, 0
	for _, e := range entries {
		if e.grey {
			greys++
		} else {
			C = 3
		}
	}
	if C == 3 {
		ld.expanded += greys
	}
	n := int64(len(entries))
	if err := ld.reserve("imagefolder", root, n*(int64(C)*int64(H)*int64(W)+4),
		fmt.Sprintf("decoding its %d images of %d×%d (width×height)", n, W, H)); err != nil {
		return nil, err
	}
	label := map[string]int32{}
	for i, c := range train {
		label[c] = int32(i)
	}
	var count [2]int
	for _, e := range entries {
		count[e.split]++
	}
	sz := C * H * W
	var sets [2]*Set
	for si := range sets {
		sets[si] = &Set{C: C, H: H, W: W, Classes: train,
			Images: make([]uint8, count[si]*sz), Labels: make([]int32, count[si])}
	}
	dst := make([][]uint8, len(entries))
	var pos [2]int
	for i, e := range entries {
		s, k := sets[e.split], pos[e.split]
		dst[i] = s.Images[k*sz : (k+1)*sz]
		s.Labels[k] = label[e.class]
		pos[e.split]++
	}
	errs := make([]error, len(entries))
	ld.exec.Each(len(entries), func(i int) {
		errs[i] = entries[i].decodeInto(dst[i], C)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return &Split{Train: sets[0], Test: sets[1]}, nil
}

func entryKey(e *imageEntry) [3]string { return [3]string{splitDirs[e.split], e.class, e.file} }

// appendChannels appends the planes pix (c of them) to dst converted to want
// planes: grey is replicated into colour, and colour becomes grey by the
// luma weights of color.GrayModel.
func appendChannels(dst, pix []uint8, c, want int) []uint8 {
	switch {
	case c == want:
		return append(dst, pix...)
	case c == 1 && want == 3:
		return append(append(append(dst, pix...), pix...), pix...)
	}
	n := len(pix) / 3
	r, g, b := pix[:n], pix[n:2*n], pix[2*n:]
	for i := range n {
		y := (19595*uint32(r[i]) + 38470*uint32(g[i]) + 7471*uint32(b[i]) + 1<<15) >> 16
		dst = append(dst, uint8(y))
	}
	return dst
}

// minus returns the elements of a that are not in b.
func minus(a, b []string) []string {
	var d []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			d = append(d, x)
		}
	}
	return d
}
