package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadCIFAR10(t *testing.T) {
	dir := t.TempDir()
	want := writeCIFARBatches(t, filepath.Join(dir, "x", cifarDirName), 3, 4)
	writeTar(t, filepath.Join(dir, "y", cifarArchiveName), filepath.Join(dir, "x"), "")
	for _, tc := range []struct{ name, path string }{
		{"batch directory", filepath.Join(dir, "x", cifarDirName)},
		{"parent of batch directory", filepath.Join(dir, "x")},
		{"archive", filepath.Join(dir, "y", cifarArchiveName)},
		{"directory holding archive", filepath.Join(dir, "y")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load("cifar10", tc.path)
			if err != nil {
				t.Fatal(err)
			}
			equalSets(t, "train", got.Train, want.Train)
			equalSets(t, "test", got.Test, want.Test)
			if got.Train.Len() != 15 || got.Test.Len() != 4 {
				t.Errorf("%d train, %d test, want 15, 4", got.Train.Len(), got.Test.Len())
			}
		})
	}
}

// TestCIFAR10Layout checks single pixels against the file format: label
// byte, then R, G and B planes of 32 rows of 32 columns.
func TestCIFAR10Layout(t *testing.T) {
	rec := make([]byte, 2*cifarRecord)
	rec[0], rec[cifarRecord] = 7, 2
	rec[1+0] = 11                         // record 0: R at (0,0)
	rec[1+1024+31*32+5] = 22              // record 0: G at (31,5)
	rec[1+2048+1*32+0] = 33               // record 0: B at (1,0)
	rec[cifarRecord+1+2048+31*32+31] = 44 // record 1: B at (31,31)
	s := newCIFARSet(CIFAR10Classes)
	if err := readCIFARRecords(bytes.NewReader(rec), int64(len(rec)), "mem", s); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		img, c, y, x int
		want         uint8
	}{
		{0, 0, 0, 0, 11}, {0, 1, 31, 5, 22}, {0, 2, 1, 0, 33}, {1, 2, 31, 31, 44}, {1, 0, 0, 0, 0},
	} {
		if got := s.Image(tc.img)[(tc.c*32+tc.y)*32+tc.x]; got != tc.want {
			t.Errorf("image %d channel %d (%d,%d) = %d, want %d", tc.img, tc.c, tc.y, tc.x, got, tc.want)
		}
	}
	if s.Labels[0] != 7 || s.Labels[1] != 2 {
		t.Errorf("labels %v, want [7 2]", s.Labels)
	}
}

func TestLoadCIFAR10Errors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, dir string) string // returns the path to load
		errHas []string
	}{
		{"truncated", func(t *testing.T, dir string) string {
			writeCIFARBatches(t, dir, 2, 2)
			f := filepath.Join(dir, "data_batch_3.bin")
			data, _ := os.ReadFile(f)
			writeFile(t, f, data[:len(data)-5])
			return dir
		}, []string{"data_batch_3.bin", "size 6141", "multiple of the record size 3073", "re-extract"}},
		{"bad label", func(t *testing.T, dir string) string {
			writeCIFARBatches(t, dir, 2, 2)
			f := filepath.Join(dir, "test_batch.bin")
			data, _ := os.ReadFile(f)
			data[cifarRecord] = 10
			writeFile(t, f, data)
			return dir
		}, []string{"test_batch.bin", "record 1", "label 10", "0..9"}},
		{"missing test batch", func(t *testing.T, dir string) string {
			writeCIFARBatches(t, dir, 2, 2)
			os.Remove(filepath.Join(dir, "test_batch.bin"))
			return dir
		}, []string{"missing test_batch.bin", CIFAR10URL}},
		{"nothing there", func(t *testing.T, dir string) string { return dir },
			[]string{" is empty (run `dropexp data fetch cifar10 --dir", CIFAR10URL, "by hand"}},
		{"only an interrupted download", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, cifarArchiveName+".part"), []byte{1, 2})
			return dir
		}, []string{"holds only the interrupted download " + cifarArchiveName + ".part", "run the fetch again", "dropexp data fetch cifar10 --dir"}},
		{"other files there", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "notes.txt"), []byte("x"))
			return dir
		}, []string{"no CIFAR-10 files found", "data_batch_1.bin", cifarDirName, cifarArchiveName, CIFAR10URL, "dropexp data fetch cifar10 --dir", "by hand"}},
		{"no such path", func(t *testing.T, dir string) string { return filepath.Join(dir, "data", "cifar10") },
			[]string{"no such file", "dropexp data fetch cifar10 --dir ", filepath.Join("data", "cifar10") + "`", CIFAR10URL}},
		{"empty test set", func(t *testing.T, dir string) string {
			writeCIFARBatches(t, dir, 2, 0)
			return dir
		}, []string{"test_batch.bin is empty (0 records)", "re-extract"}},
		{"archive lacks test batch", func(t *testing.T, dir string) string {
			writeCIFARBatches(t, filepath.Join(dir, "src", cifarDirName), 1, 1)
			os.Remove(filepath.Join(dir, "src", cifarDirName, "test_batch.bin"))
			a := filepath.Join(dir, cifarArchiveName)
			writeTar(t, a, filepath.Join(dir, "src"), "")
			return a
		}, []string{cifarArchiveName, "lacks", "test_batch.bin"}},
		{"truncated archive", func(t *testing.T, dir string) string {
			writeCIFARBatches(t, filepath.Join(dir, "src", cifarDirName), 1, 1)
			a := filepath.Join(dir, cifarArchiveName)
			writeTar(t, a, filepath.Join(dir, "src"), "")
			data, _ := os.ReadFile(a)
			writeFile(t, a, data[:len(data)/2])
			return a
		}, []string{cifarArchiveName, "download"}},
		{"corrupt gzip", func(t *testing.T, dir string) string {
			writeCIFARBatches(t, filepath.Join(dir, "src", cifarDirName), 1, 1)
			a := filepath.Join(dir, cifarArchiveName)
			writeTar(t, a, filepath.Join(dir, "src"), "")
			data, _ := os.ReadFile(a)
			for i := len(data) / 2; i < len(data)/2+16; i++ {
				data[i] ^= 0xa5
			}
			writeFile(t, a, data)
			return a
		}, []string{cifarArchiveName, "archive corrupt or truncated", "download " + CIFAR10URL + " again"}},
		{"not gzip", func(t *testing.T, dir string) string {
			a := filepath.Join(dir, cifarArchiveName)
			writeFile(t, a, []byte("<html>moved</html>"))
			return a
		}, []string{cifarArchiveName, "not a gzip file", CIFAR10URL}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadCIFAR10(tc.setup(t, t.TempDir()))
			checkErr(t, err, tc.errHas...)
		})
	}
}

func TestReadCIFARRecordsShortReader(t *testing.T) {
	data := make([]byte, cifarRecord+100)
	err := readCIFARRecords(bytes.NewReader(data), 2*cifarRecord, "member", newCIFARSet(CIFAR10Classes))
	checkErr(t, err, "member", "data ends in record 1 of 2")
}
