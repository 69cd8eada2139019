// Package datasettest writes small data sets in the official file formats
// read by package dataset, so that tests anywhere in the project can run
// without the network or the real data. Pixel values depend on the label,
// so a tiny network can learn the generated sets.
package datasettest

import (
	"archive/tar"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/ulikunitz/xz"
)

// CIFAR10Classes are the CIFAR-10 class names in label order.
var CIFAR10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// classColour is the mean colour of class l; the colours differ in every
// channel so that the class can be read from any one of them.
func classColour(l int) [3]int {
	return [3]int{20 + 23*l, 230 - 21*l, 40 + 97*(l%3) + 9*(l/3)}
}

func clamp(v int) uint8 { return uint8(min(max(v, 0), 255)) }

// colourImage returns a C×H×W (C=3) image of class l: the class colour, a
// class-dependent gradient and uniform noise.
func colourImage(rng *rand.Rand, l, h, w int) []uint8 {
	pix := make([]uint8, 3*h*w)
	col := classColour(l)
	for c := range 3 {
		for y := range h {
			for x := range w {
				grad := (x*(l%4) + y*(l/4)) * 8 / max(w, 1)
				pix[(c*h+y)*w+x] = clamp(col[c] + grad + rng.IntN(49) - 24)
			}
		}
	}
	return pix
}

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// WriteCIFAR10 writes dir/cifar-10-batches-bin/ with data_batch_1.bin to
// data_batch_5.bin (nTrain records spread over them in turn), test_batch.bin
// (nTest records) and batches.meta.txt. Labels cycle through 0..9.
func WriteCIFAR10(dir string, nTrain, nTest int, seed int64) error {
	bdir := filepath.Join(dir, "cifar-10-batches-bin")
	if err := os.MkdirAll(bdir, 0o755); err != nil {
		return err
	}
	rng := newRand(seed, 10)
	var batches [6][]byte
	for i := range nTrain + nTest {
		b := i % 5
		if i >= nTrain {
			b = 5
		}
		l := i % 10
		batches[b] = append(batches[b], byte(l))
		batches[b] = append(batches[b], colourImage(rng, l, 32, 32)...)
	}
	for b, data := range batches {
		name := fmt.Sprintf("data_batch_%d.bin", b+1)
		if b == 5 {
			name = "test_batch.bin"
		}
		if err := os.WriteFile(filepath.Join(bdir, name), data, 0o644); err != nil {
			return err
		}
	}
	meta := strings.Join(CIFAR10Classes, "\n") + "\n\n"
	return os.WriteFile(filepath.Join(bdir, "batches.meta.txt"), []byte(meta), 0o644)
}

// WriteCIFARBatch writes a CIFAR-10 batch file: for each label, one label
// byte and the next 3072 bytes of pixels (R, G, B planes of 32×32).
func WriteCIFARBatch(file string, labels []uint8, pixels []uint8) error {
	if len(pixels) != 3072*len(labels) {
		return fmt.Errorf("datasettest: %d pixel bytes for %d labels, want %d", len(pixels), len(labels), 3072*len(labels))
	}
	data := make([]byte, 0, 3073*len(labels))
	for i, l := range labels {
		data = append(data, l)
		data = append(data, pixels[3072*i:3072*(i+1)]...)
	}
	return os.WriteFile(file, data, 0o644)
}

// WriteMNIST writes the four MNIST IDX files, gzipped as officially
// distributed, into dir: nTrain and nTest 28×28 images whose bright square
// sits at a place given by the label, and their labels (cycling 0..9).
func WriteMNIST(dir string, nTrain, nTest int, seed int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rng := newRand(seed, 28)
	for _, set := range []struct {
		prefix string
		n      int
	}{{"train", nTrain}, {"t10k", nTest}} {
		pix := make([]byte, set.n*28*28)
		lbl := make([]byte, set.n)
		for i := range set.n {
			l := i % 10
			lbl[i] = byte(l)
			img := pix[i*784 : (i+1)*784]
			y0, x0 := 4+12*(l/5), 1+5*(l%5)
			for y := range 28 {
				for x := range 28 {
					v := rng.IntN(40)
					if y >= y0 && y < y0+8 && x >= x0 && x < x0+5 {
						v += 180
					}
					img[y*28+x] = clamp(v)
				}
			}
		}
		if err := WriteIDX(filepath.Join(dir, set.prefix+"-images-idx3-ubyte.gz"), []int{set.n, 28, 28}, pix, true); err != nil {
			return err
		}
		if err := WriteIDX(filepath.Join(dir, set.prefix+"-labels-idx1-ubyte.gz"), []int{set.n}, lbl, true); err != nil {
			return err
		}
	}
	return nil
}

// WriteIDX writes an unsigned-byte IDX file with the given dimensions,
// gzipped if gz is true.
func WriteIDX(file string, dims []int, data []byte, gz bool) error {
	n := 1
	for _, d := range dims {
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("datasettest: dimensions %v need %d bytes, got %d", dims, n, len(data))
	}
	hdr := binary.BigEndian.AppendUint32(nil, 0x0800|uint32(len(dims)))
	for _, d := range dims {
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(d))
	}
	content := append(hdr, data...)
	if gz {
		return writeGzip(file, content)
	}
	return os.WriteFile(file, content, 0o644)
}

func writeGzip(file string, content []byte) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(content); err != nil {
		f.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteImageFolder writes dir/{train,test}/CLASS/NNNN.png: nPerClass RGB
// PNG images of h×w pixels per class in each set; image k of classes[l] has
// the colour pattern of label l.
func WriteImageFolder(dir string, classes []string, nPerClass, h, w int, seed int64) error {
	return WriteImageFolderSplit(dir, classes, nPerClass, nPerClass, h, w, seed)
}

// WriteImageFolderSplit is WriteImageFolder with nTrain training and nTest
// test images per class.
func WriteImageFolderSplit(dir string, classes []string, nTrain, nTest, h, w int, seed int64) error {
	rng := newRand(seed, 99)
	for _, split := range []string{"train", "test"} {
		nPerClass := nTrain
		if split == "test" {
			nPerClass = nTest
		}
		for l, class := range classes {
			cdir := filepath.Join(dir, split, class)
			if err := os.MkdirAll(cdir, 0o755); err != nil {
				return err
			}
			for k := range nPerClass {
				img := PlanesToImage(colourImage(rng, l, h, w), 3, h, w)
				if err := WritePNG(filepath.Join(cdir, fmt.Sprintf("%04d.png", k)), img); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// PlanesToImage returns the C×H×W pixels pix (C = 1 or 3) as an image.
func PlanesToImage(pix []uint8, c, h, w int) image.Image {
	if c == 1 {
		g := image.NewGray(image.Rect(0, 0, w, h))
		copy(g.Pix, pix)
		return g
	}
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	n := h * w
	for i := range n {
		m.SetNRGBA(i%w, i/w, color.NRGBA{pix[i], pix[n+i], pix[2*n+i], 255})
	}
	return m
}

// WritePNG writes img as a PNG file.
func WritePNG(file string, img image.Image) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteTar packs the tree src into archive, each member named prefix/REL
// (or REL if prefix is empty), compressed as the archive's name says:
// .tar, .tar.gz or .tgz, .tar.xz or .txz.
func WriteTar(archive, src, prefix string) error {
	if err := os.MkdirAll(filepath.Dir(archive), 0o755); err != nil {
		return err
	}
	f, err := os.Create(archive)
	if err != nil {
		return err
	}
	var (
		w       io.Writer = f
		closers []io.Closer
	)
	switch {
	case strings.HasSuffix(archive, ".tar.gz"), strings.HasSuffix(archive, ".tgz"):
		zw := gzip.NewWriter(f)
		w, closers = zw, append(closers, zw)
	case strings.HasSuffix(archive, ".tar.xz"), strings.HasSuffix(archive, ".txz"):
		xw, err := xz.NewWriter(f)
		if err != nil {
			f.Close()
			return err
		}
		w, closers = xw, append(closers, xw)
	case strings.HasSuffix(archive, ".tar"):
	default:
		f.Close()
		return fmt.Errorf("datasettest: %s: want a .tar, .tar.gz, .tgz, .tar.xz or .txz name", archive)
	}
	tw := tar.NewWriter(w)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		name := filepath.ToSlash(rel)
		if prefix != "" {
			name = prefix + "/" + name
		}
		if d.IsDir() {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755})
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	for _, c := range closers {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
