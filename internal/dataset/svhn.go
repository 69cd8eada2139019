package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dropexp/dropexp/internal/matfile"
)

// SVHN's official downloads (the cropped digits, "format 2") and their
// published md5s.
const (
	SVHNTrainURL = "http://ufldl.stanford.edu/housenumbers/train_32x32.mat"
	SVHNTrainMD5 = "e26dedcc434d2e4c54c9b2d4a06d8373"
	SVHNTestURL  = "http://ufldl.stanford.edu/housenumbers/test_32x32.mat"
	SVHNTestMD5  = "eb5a983be6a315427106f1b164d9cef3"
)

// SVHNClasses are the SVHN class names in label order: the digits.
var SVHNClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

const (
	svhnTrainFile = "train_32x32.mat"
	svhnTestFile  = "test_32x32.mat"
	svhnSide      = 32
	svhnPixels    = 3 * svhnSide * svhnSide
)

var svhnFiles = []string{svhnTrainFile, svhnTestFile}

// LoadSVHN reads the SVHN cropped digits from the directory path holding
// train_32x32.mat and test_32x32.mat (extra_32x32.mat is not read). Label
// 10 of the files, which marks the digit 0, becomes label 0, so that label
// d is digit d.
func LoadSVHN(path string) (*Split, error) { return loadSVHN(path, defaultLoader()) }

func loadSVHN(path string, ld *loader) (*Split, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("svhn: %w (%s)", err, fetchHint("svhn", path, SVHNTrainURL, SVHNTestURL))
	}
	dir := path
	if !fi.IsDir() {
		// A path to one of the two files names their directory.
		if b := filepath.Base(path); b != svhnTrainFile && b != svhnTestFile {
			return nil, fmt.Errorf("svhn: %s is a file; want the directory holding %s", path, strings.Join(svhnFiles, " and "))
		}
		dir = filepath.Dir(path)
	}
	var missing []string
	for _, n := range svhnFiles {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			missing = append(missing, n)
		}
	}
	switch len(missing) {
	case 0:
	case len(svhnFiles):
		if note := emptyDir(dir); note != "" {
			return nil, fmt.Errorf("svhn: %s (%s)", note, fetchHint("svhn", dir, SVHNTrainURL, SVHNTestURL))
		}
		return nil, fmt.Errorf("svhn: no SVHN files found; looked for %s (%s)",
			filepath.Join(dir, "{"+strings.Join(svhnFiles, ",")+"}"), fetchHint("svhn", dir, SVHNTrainURL, SVHNTestURL))
	default:
		url := SVHNTrainURL
		if missing[0] == svhnTestFile {
			url = SVHNTestURL
		}
		return nil, fmt.Errorf("svhn: %s: missing %s (%s)", dir, missing[0], fetchHint("svhn", dir, url))
	}
	train, err := readSVHNFile(filepath.Join(dir, svhnTrainFile), ld)
	if err != nil {
		return nil, err
	}
	test, err := readSVHNFile(filepath.Join(dir, svhnTestFile), ld)
	if err != nil {
		return nil, err
	}
	return &Split{Train: train, Test: test}, nil
}

// readSVHNFile reads one SVHN MAT file. No variable may take more than
// the memory ld has left, which bounds a compressed element as it expands.
func readSVHNFile(name string, ld *loader) (*Set, error) {
	var s *Set
	err := ld.readSized("svhn", name, func(r *bufio.Reader, size int64) (err error) {
		limit := int64(0)
		if left := ld.remaining(); left >= 0 && left < matfile.DefaultLimit {
			limit = max(left, 1)
		}
		s, err = readSVHN(r, size, name, limit)
		if limit > 0 && errors.Is(err, matfile.ErrLimit) {
			return fmt.Errorf("svhn: %s: %w: a variable of it takes more than the %s available (%s; %v; use a smaller data set, free memory, or run where there is more)",
				name, errTooBig, formatBytes(limit), ld.memFrom, err)
		}
		if err != nil {
			return err
		}
		n := int64(len(s.Images) + 4*s.Len())
		return ld.reserve("svhn", name, n, fmt.Sprintf("%d images of 32×32×3", s.Len()))
	})
	return s, err
}

// readSVHN reads one SVHN MAT file of size bytes from r: X, uint8
// 32×32×3×N in column-major order, and y, N×1 labels 1..10. limit is the
// matfile.Reader.Limit (0: its default).
func readSVHN(r io.Reader, size int64, name string, limit int64) (*Set, error) {
	url := SVHNTrainURL
	if filepath.Base(name) == svhnTestFile {
		url = SVHNTestURL
	}
	mr, err := matfile.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("svhn: %s: %v (want %s from %s)", name, err, filepath.Base(url), url)
	}
	mr.Limit = limit
	var x, y *matfile.Var
	for {
		v, err := mr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("svhn: %s: %w", name, err)
		}
		switch v.Name {
		case "X", "y":
			if v.Name == "X" && x != nil || v.Name == "y" && y != nil {
				return nil, fmt.Errorf("svhn: %s: two variables named %s (not an SVHN file? download %s)", name, v.Name, url)
			}
			if v.Name == "X" {
				x = v
			} else {
				y = v
			}
		}
	}
	for _, v := range []struct {
		name string
		v    *matfile.Var
		want string
	}{{"X", x, "the 32×32×3×N uint8 images"}, {"y", y, "the N×1 labels"}} {
		if v.v == nil {
			return nil, fmt.Errorf("svhn: %s: no variable %s (%s; not an SVHN cropped-digits file? download %s)", name, v.name, v.want, url)
		}
	}
	// MATLAB drops trailing singleton dimensions, so one image is 32×32×3.
	xd := x.Dims
	if len(xd) == 3 {
		xd = append(xd, 1)
	}
	if len(xd) != 4 || xd[0] != svhnSide || xd[1] != svhnSide || xd[2] != 3 || xd[3] == 0 {
		return nil, fmt.Errorf("svhn: %s: X has dimensions %s, want 32×32×3×N with N > 0 (not the cropped digits? download %s)", name, dimString(x.Dims), url)
	}
	n := xd[3]
	if len(y.Dims) != 2 || y.Dims[1] != 1 {
		return nil, fmt.Errorf("svhn: %s: y has dimensions %s, want N×1 (not an SVHN file? download %s)", name, dimString(y.Dims), url)
	}
	if y.Dims[0] != n {
		return nil, fmt.Errorf("svhn: %s: X holds %d images but y %d labels, want one label per image (file damaged? download %s again)", name, n, y.Dims[0], url)
	}
	labels, err := y.Float64()
	if err != nil {
		return nil, fmt.Errorf("svhn: %s: %v (want y numeric; not an SVHN file? download %s)", name, err, url)
	}
	s := &Set{C: 3, H: svhnSide, W: svhnSide, Classes: SVHNClasses, Labels: make([]int32, n)}
	for i, l := range labels {
		if !(l >= 1 && l <= 10) || l != float64(int(l)) {
			return nil, fmt.Errorf("svhn: %s: y(%d) is %v, want an integer 1..10 (10 marks the digit 0; file damaged? download %s again)", name, i+1, l, url)
		}
		s.Labels[i] = int32(l) % 10
	}
	pix, err := x.Uint8()
	if err != nil {
		return nil, fmt.Errorf("svhn: %s: %v (want X to hold 0..255 pixel values; not an SVHN file? download %s)", name, err, url)
	}
	svhnToCHW(pix, n)
	s.Images = pix
	return s, nil
}

// svhnToCHW reorders in place n column-major 32×32×3 images, in which pixel
// (row r, column c, channel ch) is at r + 32c + 1024ch, into the C×H×W
// layout of Set, where it is at 1024ch + 32r + c: each channel plane is
// transposed. Working in place spares a second copy of the 225 MB
// training set.
func svhnToCHW(pix []uint8, n int) {
	var tmp [svhnPixels]uint8
	for i := range n {
		img := pix[i*svhnPixels : (i+1)*svhnPixels]
		copy(tmp[:], img)
		for ch := range 3 {
			plane := ch * svhnSide * svhnSide
			for c := range svhnSide {
				for r := range svhnSide {
					img[plane+svhnSide*r+c] = tmp[plane+r+svhnSide*c]
				}
			}
		}
	}
}

// dimString formats dimensions as MATLAB's size does, e.g. 32×32×3×100.
func dimString(d []int) string {
	s := make([]string, len(d))
	for i, v := range d {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, "×")
}
