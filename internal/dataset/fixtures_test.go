package dataset

import (
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
)

// cifarPixel is the value written at channel c, row y, column x of record
// i, chosen so that a misplaced plane, row or record shows as a wrong value.
func cifarPixel(i, c, y, x int) uint8 { return uint8(i*31 + c*85 + y*7 + x) }

// cifarRecords returns n labels and their 32×32×3 planes.
func cifarRecords(first, n int) ([]uint8, []uint8) {
	labels := make([]uint8, n)
	pix := make([]uint8, 0, n*cifarPixels)
	for k := range n {
		i := first + k
		labels[k] = uint8((i * 3) % 10)
		for c := range 3 {
			for y := range 32 {
				for x := range 32 {
					pix = append(pix, cifarPixel(i, c, y, x))
				}
			}
		}
	}
	return labels, pix
}

// writeCIFARBatches writes the six batch files into dir, with perBatch
// training records in each of the five data batches and nTest test records,
// and returns the expected split.
func writeCIFARBatches(t *testing.T, dir string, perBatch, nTest int) *Split {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	want := &Split{Train: newCIFARSet(CIFAR10Classes), Test: newCIFARSet(CIFAR10Classes)}
	for b, name := range cifarFiles {
		s, n := want.Train, perBatch
		if name == cifarTestFile {
			s, n = want.Test, nTest
		}
		labels, pix := cifarRecords(b*perBatch, n)
		if err := datasettest.WriteCIFARBatch(filepath.Join(dir, name), labels, pix); err != nil {
			t.Fatal(err)
		}
		for _, l := range labels {
			s.Labels = append(s.Labels, int32(l))
		}
		s.Images = append(s.Images, pix...)
	}
	return want
}

// writeTar packs src into archive with members under prefix.
func writeTar(t *testing.T, archive, src, prefix string) {
	t.Helper()
	if err := datasettest.WriteTar(archive, src, prefix); err != nil {
		t.Fatal(err)
	}
}

// writeFile writes data to dir/name, creating directories.
func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// folderImage is the h×w colour image k of a folder fixture, as planes.
func folderImage(k, h, w int) []uint8 {
	pix := make([]uint8, 3*h*w)
	for c := range 3 {
		for y := range h {
			for x := range w {
				pix[(c*h+y)*w+x] = uint8(k*40 + c*70 + y*9 + x*3)
			}
		}
	}
	return pix
}

// flatImage is an h×w colour image of one colour, which survives JPEG
// compression nearly unchanged.
func flatImage(r, g, b uint8, h, w int) []uint8 {
	pix := make([]uint8, 3*h*w)
	for i := range h * w {
		pix[i], pix[h*w+i], pix[2*h*w+i] = r, g, b
	}
	return pix
}

func writePNG(t *testing.T, name string, pix []uint8, c, h, w int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := datasettest.WritePNG(name, datasettest.PlanesToImage(pix, c, h, w)); err != nil {
		t.Fatal(err)
	}
}

func writeJPEG(t *testing.T, name string, pix []uint8, c, h, w int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, datasettest.PlanesToImage(pix, c, h, w), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
}

// pngFolder writes ROOT/{train,test}/{cat,ant}/ with PNGs whose file names
// are out of order with respect to creation, and returns the expected split:
// classes sorted (ant=0, cat=1) and images sorted by class then name.
func pngFolder(t *testing.T, root string) *Split {
	t.Helper()
	const h, w = 5, 4
	want := &Split{
		Train: &Set{C: 3, H: h, W: w, Classes: []string{"ant", "cat"}},
		Test:  &Set{C: 3, H: h, W: w, Classes: []string{"ant", "cat"}},
	}
	files := []struct {
		split, class, name string
		k                  int
	}{
		// Listed in expected order; written below in reverse.
		{"train", "ant", "a.png", 0},
		{"train", "ant", "b.png", 1},
		{"train", "cat", "0001.png", 2},
		{"train", "cat", "0002.PNG", 3},
		{"train", "cat", "0010.png", 4},
		{"test", "ant", "x.png", 5},
		{"test", "cat", "y.png", 6},
	}
	for i := len(files) - 1; i >= 0; i-- {
		f := files[i]
		writePNG(t, filepath.Join(root, f.split, f.class, f.name), folderImage(f.k, h, w), 3, h, w)
	}
	for _, f := range files {
		s := want.Train
		if f.split == "test" {
			s = want.Test
		}
		s.Images = append(s.Images, folderImage(f.k, h, w)...)
		label := int32(0)
		if f.class == "cat" {
			label = 1
		}
		s.Labels = append(s.Labels, label)
	}
	// Files that are not images, or hidden, must be ignored.
	writeFile(t, filepath.Join(root, "train", "cat", "notes.txt"), []byte("not an image"))
	writeFile(t, filepath.Join(root, "train", "cat", "._0001.png"), []byte("macOS metadata"))
	return want
}

// jpegFolder writes ROOT/{train,test}/{red,green,blue}/ with n flat-colour
// JPEGs per class and set.
func jpegFolder(t *testing.T, root string, n int) {
	t.Helper()
	cols := map[string][3]uint8{"red": {220, 20, 30}, "green": {20, 200, 40}, "blue": {30, 40, 210}}
	for _, split := range []string{"train", "test"} {
		for class, c := range cols {
			for k := range n {
				name := filepath.Join(root, split, class, string(rune('a'+k))+".jpg")
				writeJPEG(t, name, flatImage(c[0], c[1], c[2], 8, 8), 3, 8, 8)
			}
		}
	}
}
