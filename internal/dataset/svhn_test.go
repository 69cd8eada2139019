package dataset

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
	"github.com/dropexp/dropexp/internal/matfile"
)

// svhnVars returns the X and y of an SVHN file of n images, image i of
// digit (first+i) mod 10 with pixels cifarPixel(first+i, ...), y stored as
// yType, and the set they load as.
func svhnVars(first, n int, yType matfile.DataType) ([]datasettest.MATVar, *Set) {
	want := &Set{C: 3, H: 32, W: 32, Classes: SVHNClasses}
	var labels []float64
	for i := first; i < first+n; i++ {
		d := i % 10
		want.Labels = append(want.Labels, int32(d))
		l := float64(d)
		if d == 0 {
			l = 10
		}
		labels = append(labels, l)
		for c := range 3 {
			for y := range 32 {
				for x := range 32 {
					want.Images = append(want.Images, cifarPixel(i, c, y, x))
				}
			}
		}
	}
	return datasettest.SVHNVars(want.Images, labels, int(yType)), want
}

func writeMAT(t *testing.T, file string, vars []datasettest.MATVar, compressed, big bool) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := datasettest.WriteMAT(file, vars, compressed, big); err != nil {
		t.Fatal(err)
	}
}

func TestLoadSVHN(t *testing.T) {
	for _, tc := range []struct {
		name            string
		big, compressed bool
		yType           matfile.DataType
	}{
		{"little-endian", false, false, matfile.Double},
		{"little-endian compressed", false, true, matfile.Double},
		{"big-endian", true, false, matfile.Double},
		{"big-endian compressed", true, true, matfile.Double},
		{"y as miUINT8", false, true, matfile.Uint8},
		{"y as miUINT8 big-endian", true, false, matfile.Uint8},
		{"y as miINT16", false, false, matfile.Int16},
		{"y as miSINGLE", true, true, matfile.Single},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			trainVars, train := svhnVars(0, 12, tc.yType)
			testVars, test := svhnVars(12, 3, tc.yType)
			// Other variables are ignored, wherever they are.
			extra := datasettest.MATVar{Name: "note", Class: int(matfile.DoubleClass), Type: int(matfile.Double), Dims: []int{1, 2}, Values: []float64{1, 2}}
			trainVars = append([]datasettest.MATVar{extra}, trainVars...)
			writeMAT(t, filepath.Join(dir, svhnTrainFile), trainVars, tc.compressed, tc.big)
			writeMAT(t, filepath.Join(dir, svhnTestFile), append(testVars, extra), tc.compressed, tc.big)
			writeFile(t, filepath.Join(dir, "extra_32x32.mat"), []byte("not read"))
			for _, path := range []string{dir, filepath.Join(dir, svhnTestFile)} {
				got, err := Load("svhn", path)
				if err != nil {
					t.Fatal(err)
				}
				equalSets(t, "train", got.Train, train)
				equalSets(t, "test", got.Test, test)
			}
		})
	}
}

// TestSVHNLayout checks single pixels against the MAT layout: X(r, c, ch, n)
// at r + 32c + 1024ch + 3072n, column-major, becomes pixel (ch, r, c) of
// image n.
func TestSVHNLayout(t *testing.T) {
	x := make([]float64, 2*3072)
	x[0] = 11                      // image 0, R at (0,0)
	x[31+32*5+1024*1] = 22         // image 0, G at row 31, column 5
	x[5+32*31+1024*1] = 23         // image 0, G at row 5, column 31
	x[1+32*0+1024*2+3072*1] = 33   // image 1, B at row 1, column 0
	x[31+32*31+1024*2+3072*1] = 44 // image 1, B at (31,31)
	vars := []datasettest.MATVar{
		{Name: "X", Class: int(matfile.Uint8Class), Type: int(matfile.Uint8), Dims: []int{32, 32, 3, 2}, Values: x},
		{Name: "y", Class: int(matfile.DoubleClass), Type: int(matfile.Uint8), Dims: []int{2, 1}, Values: []float64{10, 7}},
	}
	file := filepath.Join(t.TempDir(), svhnTrainFile)
	writeMAT(t, file, vars, true, false)
	s, err := readSVHNFile(file, newLoader(-1))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		img, c, y, x int
		want         uint8
	}{{0, 0, 0, 0, 11}, {0, 1, 31, 5, 22}, {0, 1, 5, 31, 23}, {1, 2, 1, 0, 33}, {1, 2, 31, 31, 44}, {1, 2, 0, 1, 0}} {
		if got := s.Image(tc.img)[(tc.c*32+tc.y)*32+tc.x]; got != tc.want {
			t.Errorf("image %d channel %d (%d,%d) = %d, want %d", tc.img, tc.c, tc.y, tc.x, got, tc.want)
		}
	}
	if s.Labels[0] != 0 || s.Labels[1] != 7 {
		t.Errorf("labels %v, want [0 7] (10 is the digit 0)", s.Labels)
	}
}

// TestSVHNOneImage checks a file of one image, whose trailing dimension 1
// MATLAB drops: X is 32×32×3.
func TestSVHNOneImage(t *testing.T) {
	vars, want := svhnVars(3, 1, matfile.Double)
	vars[0].Dims = []int{32, 32, 3}
	file := filepath.Join(t.TempDir(), svhnTestFile)
	writeMAT(t, file, vars, false, false)
	s, err := readSVHNFile(file, newLoader(-1))
	if err != nil {
		t.Fatal(err)
	}
	equalSets(t, "one image", s, want)
}

func TestLoadSVHNErrors(t *testing.T) {
	// file writes dir/train_32x32.mat with n images, after edit changes its
	// variables, and a valid test file.
	file := func(t *testing.T, dir string, edit func(v []datasettest.MATVar) []datasettest.MATVar) string {
		v, _ := svhnVars(0, 4, matfile.Double)
		writeMAT(t, filepath.Join(dir, svhnTrainFile), edit(v), true, false)
		v, _ = svhnVars(0, 2, matfile.Double)
		writeMAT(t, filepath.Join(dir, svhnTestFile), v, true, false)
		return dir
	}
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, dir string) string
		errHas []string
	}{
		{"nothing there", func(t *testing.T, dir string) string { return dir },
			[]string{" is empty (run `dropexp data fetch svhn --dir", SVHNTrainURL, SVHNTestURL}},
		{"only an interrupted download", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, svhnTrainFile+".part"), []byte{1, 2})
			return dir
		}, []string{"holds only the interrupted download " + svhnTrainFile + ".part", "dropexp data fetch svhn --dir"}},
		{"other files there", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "notes.txt"), []byte("x"))
			return dir
		}, []string{"no SVHN files found", svhnTrainFile, svhnTestFile, SVHNTrainURL, SVHNTestURL, "dropexp data fetch svhn --dir"}},
		{"no such directory", func(t *testing.T, dir string) string { return filepath.Join(dir, "data", "svhn") },
			[]string{"no such file", "dropexp data fetch svhn --dir ", filepath.Join("data", "svhn") + "`", SVHNTrainURL, SVHNTestURL, "by hand into"}},
		{"test file missing", func(t *testing.T, dir string) string {
			file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar { return v })
			os.Remove(filepath.Join(dir, svhnTestFile))
			return dir
		}, []string{"missing " + svhnTestFile, SVHNTestURL, "dropexp data fetch svhn"}},
		{"some other file", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "x.mat"), nil)
			return filepath.Join(dir, "x.mat")
		}, []string{"x.mat is a file", "want the directory"}},
		{"not a MAT file", func(t *testing.T, dir string) string {
			file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar { return v })
			writeFile(t, filepath.Join(dir, svhnTrainFile), make([]byte, 300))
			return dir
		}, []string{svhnTrainFile, "endian indicator", SVHNTrainURL}},
		{"truncated", func(t *testing.T, dir string) string {
			file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar { return v })
			f := filepath.Join(dir, svhnTrainFile)
			data, _ := os.ReadFile(f)
			writeFile(t, f, data[:len(data)-100])
			return dir
		}, []string{svhnTrainFile, "truncated"}},
		{"no X", func(t *testing.T, dir string) string {
			return file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar { return v[1:] })
		}, []string{svhnTrainFile, "no variable X", "32×32×3×N", SVHNTrainURL}},
		{"no y", func(t *testing.T, dir string) string {
			return file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar { return v[:1] })
		}, []string{svhnTrainFile, "no variable y", "N×1"}},
		{"two X", func(t *testing.T, dir string) string {
			return file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar { return append(v, v[0]) })
		}, []string{svhnTrainFile, "two variables named X"}},
		{"X without channels", func(t *testing.T, dir string) string {
			return file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar { v[0].Dims = []int{32, 32, 12}; return v })
		}, []string{svhnTrainFile, "X has dimensions 32×32×12", "want 32×32×3×N"}},
		{"X of 28x28 images", func(t *testing.T, dir string) string {
			return file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar {
				v[0].Dims, v[0].Values = []int{28, 28, 3, 4}, v[0].Values[:28*28*3*4]
				return v
			})
		}, []string{"X has dimensions 28×28×3×4", "want 32×32×3×N"}},
		{"y as a row", func(t *testing.T, dir string) string {
			return file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar { v[1].Dims = []int{1, 4}; return v })
		}, []string{svhnTrainFile, "y has dimensions 1×4", "want N×1"}},
		{"N mismatch", func(t *testing.T, dir string) string {
			return file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar {
				v[1].Dims, v[1].Values = []int{3, 1}, v[1].Values[:3]
				return v
			})
		}, []string{svhnTrainFile, "X holds 4 images but y 3 labels"}},
		{"label 0", func(t *testing.T, dir string) string {
			return file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar { v[1].Values[2] = 0; return v })
		}, []string{svhnTrainFile, "y(3) is 0", "want an integer 1..10", "10 marks the digit 0"}},
		{"label 11", func(t *testing.T, dir string) string {
			return file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar { v[1].Values[0] = 11; return v })
		}, []string{"y(1) is 11", "1..10"}},
		{"label 2.5", func(t *testing.T, dir string) string {
			return file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar { v[1].Values[3] = 2.5; return v })
		}, []string{"y(4) is 2.5", "1..10"}},
		{"pixel 300", func(t *testing.T, dir string) string {
			return file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar {
				v[0].Class, v[0].Type, v[0].Values[7] = int(matfile.DoubleClass), int(matfile.Double), 300
				return v
			})
		}, []string{svhnTrainFile, `variable "X"`, "element 7 is 300", "0..255"}},
		{"y is a string", func(t *testing.T, dir string) string {
			return file(t, dir, func(v []datasettest.MATVar) []datasettest.MATVar { v[1].Class = int(matfile.CellClass); return v })
		}, []string{svhnTrainFile, `variable "y" is a cell array`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadSVHN(tc.setup(t, t.TempDir()))
			checkErr(t, err, tc.errHas...)
		})
	}
}
