package dataset

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cifar100File returns the records i = first..first+n-1 of a CIFAR-100
// file, fine label (7i+3) mod 100 and coarse label i mod 20, and the split
// halves they load as with fine or coarse labels.
func cifar100File(first, n int) (data []byte, fine, coarse *Set) {
	fine, coarse = newCIFARSet(nil), newCIFARSet(nil)
	for i := first; i < first+n; i++ {
		f, c := (7*i+3)%100, i%20
		data = append(data, byte(c), byte(f))
		for ch := range 3 {
			for y := range 32 {
				for x := range 32 {
					data = append(data, cifarPixel(i, ch, y, x))
				}
			}
		}
		fine.Labels = append(fine.Labels, int32(f))
		coarse.Labels = append(coarse.Labels, int32(c))
	}
	for _, s := range []*Set{fine, coarse} {
		for k := range n {
			s.Images = append(s.Images, data[k*cifar100Record+2:(k+1)*cifar100Record]...)
		}
	}
	return data, fine, coarse
}

// writeCIFAR100 writes train.bin (nTrain records), test.bin (nTest) and,
// if names, both class name files into dir, and returns the expected fine
// and coarse splits.
func writeCIFAR100(t *testing.T, dir string, nTrain, nTest int, names bool) (fine, coarse *Split) {
	t.Helper()
	trainData, fineTrain, coarseTrain := cifar100File(0, nTrain)
	testData, fineTest, coarseTest := cifar100File(nTrain, nTest)
	writeFile(t, filepath.Join(dir, cifar100TrainFile), trainData)
	writeFile(t, filepath.Join(dir, cifar100TestFile), testData)
	fineNames, coarseNames := numberNames(100), numberNames(20)
	if names {
		for i := range fineNames {
			fineNames[i] = fmt.Sprintf("f%d", i)
		}
		for i := range coarseNames {
			coarseNames[i] = fmt.Sprintf("c%d", i)
		}
		writeFile(t, filepath.Join(dir, cifar100FineNames), []byte(strings.Join(fineNames, "\n")+"\n\n"))
		writeFile(t, filepath.Join(dir, cifar100CoarseNames), []byte(strings.Join(coarseNames, "\r\n")))
	}
	for _, s := range []*Set{fineTrain, fineTest} {
		s.Classes = fineNames
	}
	for _, s := range []*Set{coarseTrain, coarseTest} {
		s.Classes = coarseNames
	}
	return &Split{Train: fineTrain, Test: fineTest}, &Split{Train: coarseTrain, Test: coarseTest}
}

func TestLoadCIFAR100(t *testing.T) {
	dir := t.TempDir()
	fine, coarse := writeCIFAR100(t, filepath.Join(dir, "x", cifar100DirName), 5, 3, true)
	writeTar(t, filepath.Join(dir, "y", cifar100ArchiveName), filepath.Join(dir, "x"), "")
	nfine, ncoarse := writeCIFAR100(t, filepath.Join(dir, "plain"), 5, 3, false)
	writeTar(t, filepath.Join(dir, "z", cifar100ArchiveName), filepath.Join(dir, "plain"), cifar100DirName)
	for _, tc := range []struct {
		name, path   string
		fine, coarse *Split
	}{
		{"directory", filepath.Join(dir, "x", cifar100DirName), fine, coarse},
		{"parent of directory", filepath.Join(dir, "x"), fine, coarse},
		{"archive", filepath.Join(dir, "y", cifar100ArchiveName), fine, coarse},
		{"directory holding archive", filepath.Join(dir, "y"), fine, coarse},
		{"no class names", filepath.Join(dir, "plain"), nfine, ncoarse},
		{"archive without class names", filepath.Join(dir, "z", cifar100ArchiveName), nfine, ncoarse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []struct {
				name string
				want *Split
			}{{"cifar100", tc.fine}, {"cifar100-coarse", tc.coarse}} {
				got, err := Load(c.name, tc.path)
				if err != nil {
					t.Fatal(err)
				}
				equalSets(t, c.name+" train", got.Train, c.want.Train)
				equalSets(t, c.name+" test", got.Test, c.want.Test)
			}
		})
	}
}

// TestCIFAR100Layout checks single bytes against the file format: coarse
// label, fine label, then R, G and B planes of 32 rows of 32 columns.
func TestCIFAR100Layout(t *testing.T) {
	rec := make([]byte, 2*cifar100Record)
	rec[0], rec[1] = 19, 99
	rec[cifar100Record], rec[cifar100Record+1] = 3, 42
	rec[2+0] = 11                            // record 0: R at (0,0)
	rec[2+1024+31*32+5] = 22                 // record 0: G at (31,5)
	rec[cifar100Record+2+2048+31*32+31] = 44 // record 1: B at (31,31)
	for _, coarse := range []bool{false, true} {
		s := newCIFARSet(nil)
		if err := readCIFAR100Records(bytes.NewReader(rec), int64(len(rec)), "mem", s, newCIFAR100Labels(coarse), "fix"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			img, c, y, x int
			want         uint8
		}{{0, 0, 0, 0, 11}, {0, 1, 31, 5, 22}, {1, 2, 31, 31, 44}, {1, 0, 0, 0, 0}} {
			if got := s.Image(tc.img)[(tc.c*32+tc.y)*32+tc.x]; got != tc.want {
				t.Errorf("image %d channel %d (%d,%d) = %d, want %d", tc.img, tc.c, tc.y, tc.x, got, tc.want)
			}
		}
		want := []int32{99, 42}
		if coarse {
			want = []int32{19, 3}
		}
		if s.Labels[0] != want[0] || s.Labels[1] != want[1] {
			t.Errorf("coarse %v: labels %v, want %v", coarse, s.Labels, want)
		}
	}
}

func TestLoadCIFAR100Errors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, dir string) string // returns the path to load
		errHas []string
	}{
		{"truncated", func(t *testing.T, dir string) string {
			writeCIFAR100(t, dir, 2, 2, false)
			f := filepath.Join(dir, cifar100TrainFile)
			data, _ := os.ReadFile(f)
			writeFile(t, f, data[:len(data)-5])
			return dir
		}, []string{"train.bin", "size 6143", "multiple of the record size 3074", "re-extract " + cifar100ArchiveName}},
		{"CIFAR-10 batch", func(t *testing.T, dir string) string {
			writeCIFAR100(t, dir, 2, 2, false)
			writeFile(t, filepath.Join(dir, cifar100TestFile), make([]byte, 3*cifarRecord))
			return dir
		}, []string{"test.bin", "size 9219", "CIFAR-10 batch", "cifar10 loader"}},
		{"bad coarse label", func(t *testing.T, dir string) string {
			writeCIFAR100(t, dir, 2, 2, false)
			f := filepath.Join(dir, cifar100TestFile)
			data, _ := os.ReadFile(f)
			data[cifar100Record] = 20
			writeFile(t, f, data)
			return dir
		}, []string{"test.bin", "record 1", "coarse label 20", "0..19"}},
		{"bad fine label", func(t *testing.T, dir string) string {
			writeCIFAR100(t, dir, 2, 2, false)
			f := filepath.Join(dir, cifar100TrainFile)
			data, _ := os.ReadFile(f)
			data[1] = 100
			writeFile(t, f, data)
			return dir
		}, []string{"train.bin", "record 0", "fine label 100", "0..99"}},
		{"missing test file", func(t *testing.T, dir string) string {
			writeCIFAR100(t, dir, 2, 2, false)
			os.Remove(filepath.Join(dir, cifar100TestFile))
			return dir
		}, []string{"missing test.bin", CIFAR100URL}},
		{"nothing there", func(t *testing.T, dir string) string { return dir },
			[]string{" is empty (run `dropexp data fetch cifar100 --dir", CIFAR100URL}},
		{"other files there", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "notes.txt"), []byte("x"))
			return dir
		}, []string{"no CIFAR-100 files found", "train.bin", cifar100DirName, cifar100ArchiveName, CIFAR100URL, "dropexp data fetch cifar100 --dir"}},
		{"no such path", func(t *testing.T, dir string) string { return filepath.Join(dir, "data", "cifar100") },
			[]string{"no such file", CIFAR100URL, "dropexp data fetch cifar100 --dir " + "", filepath.Join("data", "cifar100")}},
		{"no such archive", func(t *testing.T, dir string) string { return filepath.Join(dir, "d", cifar100ArchiveName) },
			[]string{"no such file", CIFAR100URL, "by hand into " + ""}},
		{"empty test set", func(t *testing.T, dir string) string {
			writeCIFAR100(t, dir, 2, 0, false)
			return dir
		}, []string{"test.bin is empty (0 records)"}},
		{"names: wrong count", func(t *testing.T, dir string) string {
			writeCIFAR100(t, dir, 2, 2, false)
			writeFile(t, filepath.Join(dir, cifar100FineNames), []byte("apple\nbaby\n"))
			return dir
		}, []string{cifar100FineNames, "2 class names, want 100", "delete the file"}},
		{"names: blank line", func(t *testing.T, dir string) string {
			writeCIFAR100(t, dir, 2, 2, false)
			writeFile(t, filepath.Join(dir, cifar100FineNames), []byte("apple\n\nbaby\n"))
			return dir
		}, []string{cifar100FineNames, "line 2 is blank"}},
		{"archive lacks test file", func(t *testing.T, dir string) string {
			writeCIFAR100(t, filepath.Join(dir, "src"), 1, 1, false)
			os.Remove(filepath.Join(dir, "src", cifar100TestFile))
			a := filepath.Join(dir, cifar100ArchiveName)
			writeTar(t, a, filepath.Join(dir, "src"), cifar100DirName)
			return a
		}, []string{cifar100ArchiveName, "lacks", "test.bin", CIFAR100URL}},
		{"archive with bad names", func(t *testing.T, dir string) string {
			writeCIFAR100(t, filepath.Join(dir, "src"), 1, 1, false)
			writeFile(t, filepath.Join(dir, "src", cifar100FineNames), []byte("x\n"))
			a := filepath.Join(dir, cifar100ArchiveName)
			writeTar(t, a, filepath.Join(dir, "src"), cifar100DirName)
			return a
		}, []string{cifar100ArchiveName + ":" + cifar100DirName + "/" + cifar100FineNames, "1 class names, want 100", "download " + CIFAR100URL + " again"}},
		{"truncated archive", func(t *testing.T, dir string) string {
			writeCIFAR100(t, filepath.Join(dir, "src"), 2, 1, false)
			a := filepath.Join(dir, cifar100ArchiveName)
			writeTar(t, a, filepath.Join(dir, "src"), "")
			data, _ := os.ReadFile(a)
			writeFile(t, a, data[:len(data)/2])
			return a
		}, []string{cifar100ArchiveName, "download " + CIFAR100URL + " again"}},
		{"not gzip", func(t *testing.T, dir string) string {
			a := filepath.Join(dir, cifar100ArchiveName)
			writeFile(t, a, []byte("<html>moved</html>"))
			return a
		}, []string{cifar100ArchiveName, "not a gzip file", CIFAR100URL}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadCIFAR100(tc.setup(t, t.TempDir()), false)
			checkErr(t, err, tc.errHas...)
		})
	}
}

func TestReadCIFAR100RecordsShortReader(t *testing.T) {
	data := make([]byte, cifar100Record+100)
	err := readCIFAR100Records(bytes.NewReader(data), 2*cifar100Record, "member", newCIFARSet(nil), newCIFAR100Labels(false), "fix")
	checkErr(t, err, "member", "data ends in record 1 of 2")
}
