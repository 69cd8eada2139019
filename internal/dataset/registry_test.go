package dataset

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
)

// What the registry declares of each data set (class count, image shape)
// is what its loader reads from files in the official format, and its
// entry is complete: a data set with official files says how the loader
// takes them, one without says what dataset.path must be.
func TestRegistryMatchesLoaders(t *testing.T) {
	dir := t.TempDir()
	write := map[string]func(string) error{
		"cifar10":         func(d string) error { return datasettest.WriteCIFAR10(d, 20, 10, 1) },
		"mnist":           func(d string) error { return datasettest.WriteMNIST(d, 20, 10, 1) },
		"cifar100":        func(d string) error { return datasettest.WriteCIFAR100(d, 200, 100, 1) },
		"cifar100-coarse": func(d string) error { return datasettest.WriteCIFAR100(d, 200, 100, 1) },
		"svhn":            func(d string) error { return datasettest.WriteSVHN(d, 30, 10, 1, false, false) },
		"imagefolder":     func(d string) error { return datasettest.WriteImageFolder(d, []string{"a", "b"}, 3, 6, 5, 1) },
	}
	if !slices.Equal(slices.Sorted(maps.Keys(write)), slices.Sorted(slices.Values(Names()))) {
		t.Fatalf("the test writes %d data sets, the registry has %v: add a fixture", len(write), Names())
	}
	for _, d := range Infos() {
		t.Run(d.Name, func(t *testing.T) {
			path := filepath.Join(dir, d.Name)
			if err := write[d.Name](path); err != nil {
				t.Fatal(err)
			}
			sp, err := Load(d.Name, path)
			if err != nil {
				t.Fatal(err)
			}
			if d.Classes == 0 {
				if d.C != 0 || d.Train != 0 || d.Files != nil {
					t.Errorf("a data set whose files decide its classes declares a shape, sizes or files: %+v", d)
				}
				return
			}
			for _, s := range []*Set{sp.Train, sp.Test} {
				if len(s.Classes) != d.Classes || s.C != d.C || s.H != d.H || s.W != d.W {
					t.Errorf("loaded %d classes of %d×%d×%d, declared %d of %d×%d×%d", len(s.Classes), s.C, s.H, s.W, d.Classes, d.C, d.H, d.W)
				}
			}
			src := d.Source()
			if d.Title == "" || d.PathHelp == "" && src.Module == "" || len(src.Files) == 0 || src.Use == "" || d.Train <= 0 || d.Test <= 0 {
				t.Errorf("incomplete entry %+v (files from %+v)", d, src)
			}
			for _, f := range src.Files {
				if len(f.MD5) != 32 || (f.URL == "") != (src.Module != "") {
					t.Errorf("file %+v", f)
				}
			}
		})
	}
}

func TestLookupRegistry(t *testing.T) {
	if d, err := Lookup("CIFAR10"); err != nil || d.Name != "cifar10" {
		t.Errorf("Lookup(CIFAR10) = %v, %v", d.Name, err)
	}
	if _, err := Lookup("imagenet"); err == nil || !strings.Contains(err.Error(), "cifar10, mnist, imagefolder, cifar100, cifar100-coarse, svhn") {
		t.Errorf("Lookup(imagenet) = %v, want an error naming the data sets", err)
	}
	if d, _ := Lookup("cifar100-coarse"); d.Source().Name != "cifar100" || len(d.Files) != 0 {
		t.Errorf("cifar100-coarse reads the files of %s and has %d of its own", d.Source().Name, len(d.Files))
	}
	Infos()[0].Files[0].MD5 = "changed"
	if d, _ := Lookup("cifar10"); d.Files[0].MD5 != CIFAR10MD5 {
		t.Error("Infos hands out the registry's slices")
	}
}
