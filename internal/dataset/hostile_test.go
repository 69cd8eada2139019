package dataset

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
)

func symlink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, name); err != nil {
		t.Skip("no symlinks here:", err)
	}
}

// TestNotRegularFiles checks that a FIFO, a device or a link to either in
// place of a data file is refused by name, and that none is opened (an
// open FIFO would hang the test; /dev/zero would never end).
func TestNotRegularFiles(t *testing.T) {
	png := tinyPNG(t, 0, 2, 3)
	folder := func(t *testing.T, dir string) {
		writeFile(t, filepath.Join(dir, "train", "a", "1.png"), png)
		writeFile(t, filepath.Join(dir, "test", "a", "1.png"), png)
	}
	for _, tc := range []struct {
		name   string
		load   string // data set name
		setup  func(t *testing.T, dir string) string
		errHas []string
	}{
		{"FIFO image", "imagefolder", func(t *testing.T, dir string) string {
			folder(t, dir)
			mkfifo(t, filepath.Join(dir, "train", "a", "2.png"))
			return dir
		}, []string{filepath.Join("train", "a", "2.png"), "is a named pipe (FIFO), not a regular file", "remove it"}},
		{"link to a FIFO", "imagefolder", func(t *testing.T, dir string) string {
			folder(t, dir)
			mkfifo(t, filepath.Join(dir, "pipe"))
			symlink(t, filepath.Join(dir, "pipe"), filepath.Join(dir, "test", "a", "2.jpg"))
			return dir
		}, []string{filepath.Join("test", "a", "2.jpg"), "named pipe (FIFO)"}},
		{"link to /dev/zero", "imagefolder", func(t *testing.T, dir string) string {
			folder(t, dir)
			symlink(t, "/dev/zero", filepath.Join(dir, "train", "a", "0.png"))
			return dir
		}, []string{filepath.Join("train", "a", "0.png"), "is a character device"}},
		{"FIFO test directory", "imagefolder", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "train", "a", "1.png"), png)
			mkfifo(t, filepath.Join(dir, "test"))
			return dir
		}, []string{"cannot list the test set", "not a directory"}},
		{"FIFO archive", "imagefolder", func(t *testing.T, dir string) string {
			mkfifo(t, filepath.Join(dir, "set.tar.xz"))
			return filepath.Join(dir, "set.tar.xz")
		}, []string{"set.tar.xz is a named pipe (FIFO)"}},
		{"FIFO CIFAR batch", "cifar10", func(t *testing.T, dir string) string {
			writeCIFARBatches(t, dir, 1, 1)
			os.Remove(filepath.Join(dir, "data_batch_2.bin"))
			mkfifo(t, filepath.Join(dir, "data_batch_2.bin"))
			return dir
		}, []string{"data_batch_2.bin is a named pipe (FIFO)"}},
		{"CIFAR batch linked to /dev/zero", "cifar10", func(t *testing.T, dir string) string {
			writeCIFARBatches(t, dir, 1, 1)
			os.Remove(filepath.Join(dir, "test_batch.bin"))
			symlink(t, "/dev/zero", filepath.Join(dir, "test_batch.bin"))
			return dir
		}, []string{"test_batch.bin is a character device"}},
		{"FIFO CIFAR archive", "cifar10", func(t *testing.T, dir string) string {
			mkfifo(t, filepath.Join(dir, cifarArchiveName))
			return filepath.Join(dir, cifarArchiveName)
		}, []string{cifarArchiveName + " is a named pipe (FIFO)"}},
		{"FIFO CIFAR-100 names file", "cifar100", func(t *testing.T, dir string) string {
			writeCIFAR100(t, dir, 2, 2, false)
			mkfifo(t, filepath.Join(dir, cifar100FineNames))
			return dir
		}, []string{cifar100FineNames + " is a named pipe (FIFO)"}},
		{"FIFO MNIST file", "mnist", func(t *testing.T, dir string) string {
			if err := datasettest.WriteMNIST(dir, 10, 10, 1); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
			mkfifo(t, filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
			return dir
		}, []string{"t10k-labels-idx1-ubyte.gz is a named pipe (FIFO)"}},
		{"FIFO SVHN file", "svhn", func(t *testing.T, dir string) string {
			if err := datasettest.WriteSVHN(dir, 10, 10, 1, true, false); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(dir, svhnTestFile))
			mkfifo(t, filepath.Join(dir, svhnTestFile))
			return dir
		}, []string{svhnTestFile + " is a named pipe (FIFO)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.load, tc.setup(t, t.TempDir()))
			checkErr(t, err, tc.errHas...)
		})
	}
	t.Run("FIFO, device and link members of an archive", func(t *testing.T) {
		// Skipped as not regular, and never opened: they are not files here.
		file := filepath.Join(t.TempDir(), "set.tar")
		writeFile(t, file, imageFolderSeeds(t)[6])
		sp, err := LoadImageFolder(file)
		if err != nil {
			t.Fatal(err)
		}
		if sp.Train.Len() != 1 || sp.Test.Len() != 1 {
			t.Errorf("%d train, %d test images, want the 1 and 1 regular ones", sp.Train.Len(), sp.Test.Len())
		}
	})
	t.Run("VerifyMD5 of a FIFO", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), cifarArchiveName)
		mkfifo(t, f)
		checkErr(t, VerifyMD5(f, CIFAR10MD5), cifarArchiveName+" is a named pipe (FIFO)")
	})
}

// flatPNG returns a w×h PNG of one colour: a few kilobytes on disk that
// decode to w·h·4 bytes.
func flatPNG(t *testing.T, w, h int) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, datasettest.PlanesToImage(flatImage(10, 20, 30, h, w), 3, h, w)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImageFolderSizesBeforeDecoding is the tester's case in small: large
// training images and a test image of another size. Every header is read
// before any image is decoded, so the size error comes before the
// megabytes the large images decode to are allocated.
func TestImageFolderSizesBeforeDecoding(t *testing.T) {
	dir := t.TempDir()
	big := flatPNG(t, 2048, 2048) // 16 MiB as RGBA, 12 MiB as planes
	for i := range 4 {
		writeFile(t, filepath.Join(dir, "train", "a", string(rune('0'+i))+".png"), big)
	}
	writeFile(t, filepath.Join(dir, "test", "a", "1.png"), tinyPNG(t, 0, 32, 32))
	archive := filepath.Join(t.TempDir(), "set.tar.gz")
	writeTar(t, archive, dir, "")
	for _, path := range []string{dir, archive} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := LoadImageFolder(path)
		runtime.ReadMemStats(&after)
		checkErr(t, err, filepath.Join("test", "a", "1.png"), "image is 32×32 (width×height), want 2048×2048")
		// Decoding one of the training images alone allocates 28 MiB.
		if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
			t.Errorf("%s: the load allocated %s before refusing, want the headers only", path, formatBytes(int64(got)))
		}
	}
}

// TestMemoryLimit checks that data needing more memory than there is, is
// refused before it is read, by name, with what it needs and what there is.
func TestMemoryLimit(t *testing.T) {
	const limit = 1 << 20
	headerOnly := func(t *testing.T, dir string) {
		// 31 images of 4096×4096: 1.5 GiB of pixels, 2 kB of files.
		for i := range 30 {
			writeFile(t, filepath.Join(dir, "train", "a", string(rune('A'+i))+".png"), pngHeader(4096, 4096))
		}
		writeFile(t, filepath.Join(dir, "test", "a", "1.png"), pngHeader(4096, 4096))
	}
	for _, tc := range []struct {
		name   string
		load   string
		setup  func(t *testing.T, dir string) string
		errHas []string
	}{
		{"image folder", "imagefolder", func(t *testing.T, dir string) string {
			headerOnly(t, dir)
			return dir
		}, []string{"needs 1.5 GiB", "decoding its 31 images of 4096×4096", "more than the 1.0 MiB available (the given limit"}},
		{"image folder archive", "imagefolder", func(t *testing.T, dir string) string {
			headerOnly(t, filepath.Join(dir, "src"))
			writeTar(t, filepath.Join(dir, "set.tar"), filepath.Join(dir, "src"), "")
			return filepath.Join(dir, "set.tar")
		}, []string{"set.tar", "decoding its 31 images of 4096×4096"}},
		{"CIFAR directory", "cifar10", func(t *testing.T, dir string) string {
			writeCIFARBatches(t, dir, 100, 100) // 600 records, 1.8 MiB
			return dir
		}, []string{"600 records of 32×32×3 needs 1.8 MiB"}},
		{"CIFAR archive", "cifar10", func(t *testing.T, dir string) string {
			writeCIFARBatches(t, filepath.Join(dir, "src", cifarDirName), 100, 100)
			writeTar(t, filepath.Join(dir, cifarArchiveName), filepath.Join(dir, "src"), "")
			return filepath.Join(dir, cifarArchiveName)
		}, []string{cifarArchiveName + ":" + cifarDirName + "/data_batch_", "100 records of 32×32×3"}},
		{"CIFAR-100", "cifar100", func(t *testing.T, dir string) string {
			writeCIFAR100(t, dir, 400, 10, false)
			return dir
		}, []string{"410 records of 32×32×3 needs 1.2 MiB"}},
		{"MNIST", "mnist", func(t *testing.T, dir string) string {
			// The header announces 2000 images of 28×28; the gzip holds them.
			if err := datasettest.WriteMNIST(dir, 2000, 10, 1); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{"train-images-idx3-ubyte.gz", "its header announces 2000 images of 28×28, which needs 1.5 MiB"}},
		{"SVHN", "svhn", func(t *testing.T, dir string) string {
			if err := datasettest.WriteSVHN(dir, 400, 10, 1, true, false); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{svhnTrainFile, "not enough memory", "the given limit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadWith(tc.load, tc.setup(t, t.TempDir()), Options{MemLimit: limit})
			checkErr(t, err, append(tc.errHas, "not enough memory")...)
			if !errors.Is(err, errTooBig) {
				t.Errorf("error %v is not errTooBig", err)
			}
		})
	}
	// Within the limit, the same data loads.
	dir := t.TempDir()
	writeCIFARBatches(t, dir, 100, 100)
	if _, err := LoadWith("cifar10", dir, Options{MemLimit: 2 << 20}); err != nil {
		t.Errorf("600 records within 2 MiB: %v", err)
	}
}

func TestAvailableMemory(t *testing.T) {
	dir := t.TempDir()
	meminfo := filepath.Join(dir, "meminfo")
	writeFile(t, meminfo, []byte("MemTotal:       24684024 kB\nMemFree:        21384868 kB\nMemAvailable:   23639708 kB\n"))
	if n, err := memInfoAvailable(meminfo); err != nil || n != 23639708<<10 {
		t.Errorf("memInfoAvailable = %d, %v, want %d", n, err, 23639708<<10)
	}
	writeFile(t, meminfo, []byte("MemTotal: 1 kB\n"))
	if _, err := memInfoAvailable(meminfo); err == nil {
		t.Error("no MemAvailable line, no error")
	}
	cg := filepath.Join(dir, "cg")
	writeFile(t, filepath.Join(cg, "memory.max"), []byte("max\n"))
	if _, ok := cgroupAvailable(cg); ok {
		t.Error(`memory.max "max" read as a limit`)
	}
	writeFile(t, filepath.Join(cg, "memory.max"), []byte("4294967296\n"))
	writeFile(t, filepath.Join(cg, "memory.current"), []byte("1073741824\n"))
	if n, ok := cgroupAvailable(cg); !ok || n != 3<<30 {
		t.Errorf("cgroupAvailable = %d, %v, want 3 GiB", n, ok)
	}
	if n, from := AvailableMemory(); runtime.GOOS == "linux" && (n <= 0 || from == "") {
		t.Errorf("AvailableMemory() = %d, %q on Linux, want MemAvailable", n, from)
	}
}

// sparseFile makes name a file of size bytes that takes no disk space.
func sparseFile(t *testing.T, name string, size int64) {
	t.Helper()
	writeFile(t, name, nil)
	if err := os.Truncate(name, size); err != nil {
		t.Fatal(err)
	}
}

// TestCIFARRecordCounts checks the record-count rule: official counts,
// or else a copy of the official data set that is damaged (an error), or
// data of one's own in the format (a warning).
func TestCIFARRecordCounts(t *testing.T) {
	// Training batches of the official size, one short: a damaged copy.
	// The files are sparse and refused from their sizes, before reading.
	dir := t.TempDir()
	for _, f := range cifarFiles {
		sparseFile(t, filepath.Join(dir, f), cifarBatch*cifarRecord)
	}
	sparseFile(t, filepath.Join(dir, "data_batch_4.bin"), (cifarBatch-1)*cifarRecord)
	_, err := LoadWith("cifar10", dir, Options{MemLimit: -1})
	checkErr(t, err, "data_batch_4.bin holds 9999 records, want the official 10000", "data_batch_1.bin holds the official count",
		"a copy of CIFAR-10, and a damaged one", "re-extract "+cifarArchiveName)
	sparseFile(t, filepath.Join(dir, "data_batch_4.bin"), cifarBatch*cifarRecord)
	sparseFile(t, filepath.Join(dir, "test_batch.bin"), 5*cifarRecord)
	_, err = LoadWith("cifar10", dir, Options{MemLimit: -1})
	checkErr(t, err, "test_batch.bin holds 5 records, want the official 10000")

	// Data of one's own: loads, with a warning naming the counts.
	dir = t.TempDir()
	writeCIFARBatches(t, dir, 3, 4)
	var log bytes.Buffer
	sp, err := LoadWith("cifar10", dir, Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(sp.Warnings(), "\n")
	for _, has := range []string{"not the official CIFAR-10", "data_batch_1.bin 3", "test_batch.bin 4", "official: 10000"} {
		if !strings.Contains(w, has) {
			t.Errorf("warnings %q lack %q", w, has)
		}
	}
	if !strings.Contains(log.String(), "warning: cifar10: ") {
		t.Errorf("log %q lacks the warning", log.String())
	}

	// An empty batch is an error even then.
	writeFile(t, filepath.Join(dir, "data_batch_5.bin"), nil)
	_, err = Load("cifar10", dir)
	checkErr(t, err, "data_batch_5.bin is empty (0 records), want 10000", "re-extract")

	// CIFAR-100: train.bin of the official size makes test.bin's count an error.
	dir = t.TempDir()
	sparseFile(t, filepath.Join(dir, cifar100TrainFile), cifar100TrainLen*cifar100Record)
	sparseFile(t, filepath.Join(dir, cifar100TestFile), 7*cifar100Record)
	_, err = LoadWith("cifar100", dir, Options{MemLimit: -1})
	checkErr(t, err, "test.bin holds 7 records, want the official 10000", "a copy of CIFAR-100")
	dir = t.TempDir()
	writeCIFAR100(t, dir, 20, 7, false)
	sp, err = Load("cifar100", dir)
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(sp.Warnings(), "\n"); !strings.Contains(w, "train.bin 20, test.bin 7 records (official: 50000/10000)") {
		t.Errorf("warnings %q, want the CIFAR-100 counts", w)
	}
}

// gzipTar returns a tar.gz holding one member name of size zero bytes.
func gzipTar(t *testing.T, name string, size int64) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	zero := make([]byte, 1<<16)
	for left := size; left > 0; left -= int64(len(zero)) {
		tw.Write(zero[:min(left, int64(len(zero)))])
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// TestArchiveExpansion checks that a compressed archive that expands past
// its format's size (here lowered to 1 MiB) is refused as it expands.
func TestArchiveExpansion(t *testing.T) {
	const limit = 1 << 20
	for _, tc := range []struct {
		name, load, file string
		data             []byte
		errHas           []string
	}{
		{"CIFAR member past the archive's size", "cifar10", cifarArchiveName,
			gzipTar(t, cifarDirName+"/data_batch_1.bin", 400*cifarRecord),
			[]string{cifarArchiveName + ":" + cifarDirName + "/data_batch_1.bin", "expands past its format's size: more than 1.0 MiB", "compression bomb"}},
		{"CIFAR-100 member past the archive's size", "cifar100", cifar100ArchiveName,
			gzipTar(t, cifar100DirName+"/train.bin", 400*cifar100Record),
			[]string{cifar100ArchiveName, "expands past its format's size"}},
		{"image folder of zeros", "imagefolder", "set.tar.gz",
			gzipTar(t, "train/a/readme.txt", 2<<20),
			[]string{"set.tar.gz", "expands past its format's size", "compression bomb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), tc.file)
			writeFile(t, file, tc.data)
			ld := newLoader(-1)
			ld.expandCap = limit
			_, err := ld.load(tc.load, file)
			checkErr(t, err, tc.errHas...)
		})
	}
	// The default caps: the official archive's content, and 100 times an
	// image archive's size.
	a := &tarGz{size: int64(len(cifarFiles))*cifarBatch*cifarRecord + archiveSlack}
	if a.size < 184_380_000 || a.size > 190_000_000 {
		t.Errorf("CIFAR-10 cap %d, want a little over the 184,380,000 data bytes", a.size)
	}
}

// TestLoadLog checks the lines a load writes: what, how many files, how
// long, and the class counts.
func TestLoadLog(t *testing.T) {
	dir := t.TempDir()
	if err := datasettest.WriteImageFolder(dir, []string{"cat", "dog"}, 5, 4, 4, 1); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	sp, err := LoadWith("imagefolder", dir, Options{TrainLimit: 4, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if sp.Train.Len() != 4 || sp.Test.Len() != 10 {
		t.Errorf("%d train, %d test, want 4, 10", sp.Train.Len(), sp.Test.Len())
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	want := []string{"data: loading imagefolder from " + dir, "data: imagefolder: 20 files, 10 train / 10 test images of 3×4×4 (960 B), in ",
		"train: 4 images (stratified subset of 10), 2 classes × 2", "test: 10 images, 2 classes × 5"}
	if len(lines) != len(want) {
		t.Fatalf("log:\n%s\nwant %d lines", log.String(), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("log line %d = %q, want it to start %q", i, lines[i], w)
		}
	}
}
