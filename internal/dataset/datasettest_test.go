package dataset

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
)

// TestDatasettest loads what the exported fixture writers produce and
// checks that labels are learnable from the pixels: each image is nearer to
// its own class's mean than to any other class's.
func TestDatasettest(t *testing.T) {
	dir := t.TempDir()
	if err := datasettest.WriteCIFAR10(filepath.Join(dir, "cifar"), 23, 10, 1); err != nil {
		t.Fatal(err)
	}
	if err := datasettest.WriteMNIST(filepath.Join(dir, "mnist"), 20, 10, 1); err != nil {
		t.Fatal(err)
	}
	classes := []string{"b", "a", "c"}
	if err := datasettest.WriteImageFolder(filepath.Join(dir, "folder"), classes, 4, 6, 5, 1); err != nil {
		t.Fatal(err)
	}
	if err := datasettest.WriteTar(filepath.Join(dir, "folder.tar.xz"), filepath.Join(dir, "folder"), "top"); err != nil {
		t.Fatal(err)
	}
	if err := datasettest.WriteTar(filepath.Join(dir, "cifar.tgz", "cifar-10-binary.tar.gz"), filepath.Join(dir, "cifar"), ""); err != nil {
		t.Fatal(err)
	}
	if err := datasettest.WriteCIFAR100(filepath.Join(dir, "cifar100"), 200, 30, 1); err != nil {
		t.Fatal(err)
	}
	if err := datasettest.WriteTar(filepath.Join(dir, "c100", "cifar-100-binary.tar.gz"), filepath.Join(dir, "cifar100"), ""); err != nil {
		t.Fatal(err)
	}
	for i, opt := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		if err := datasettest.WriteSVHN(filepath.Join(dir, "svhn", fmt.Sprint(i)), 30, 10, 1, opt[0], opt[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, path       string
		nTrain, nTest    int
		c, h, w, classes int
	}{
		{"cifar10", filepath.Join(dir, "cifar"), 23, 10, 3, 32, 32, 10},
		{"cifar10", filepath.Join(dir, "cifar.tgz"), 23, 10, 3, 32, 32, 10},
		{"mnist", filepath.Join(dir, "mnist"), 20, 10, 1, 28, 28, 10},
		{"imagefolder", filepath.Join(dir, "folder"), 12, 12, 3, 6, 5, 3},
		{"imagefolder", filepath.Join(dir, "folder.tar.xz"), 12, 12, 3, 6, 5, 3},
		{"cifar100", filepath.Join(dir, "cifar100"), 200, 30, 3, 32, 32, 100},
		{"cifar100", filepath.Join(dir, "c100"), 200, 30, 3, 32, 32, 100},
		{"cifar100-coarse", filepath.Join(dir, "c100", "cifar-100-binary.tar.gz"), 200, 30, 3, 32, 32, 20},
		{"svhn", filepath.Join(dir, "svhn", "0"), 30, 10, 3, 32, 32, 10},
		{"svhn", filepath.Join(dir, "svhn", "1"), 30, 10, 3, 32, 32, 10},
		{"svhn", filepath.Join(dir, "svhn", "2"), 30, 10, 3, 32, 32, 10},
		{"svhn", filepath.Join(dir, "svhn", "3"), 30, 10, 3, 32, 32, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := Load(tc.name, tc.path)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []*Set{sp.Train, sp.Test} {
				if s.C != tc.c || s.H != tc.h || s.W != tc.w || len(s.Classes) != tc.classes {
					t.Fatalf("%d×%d×%d with %d classes, want %d×%d×%d with %d", s.C, s.H, s.W, len(s.Classes), tc.c, tc.h, tc.w, tc.classes)
				}
			}
			if sp.Train.Len() != tc.nTrain || sp.Test.Len() != tc.nTest {
				t.Errorf("%d train, %d test, want %d, %d", sp.Train.Len(), sp.Test.Len(), tc.nTrain, tc.nTest)
			}
			if tc.name == "imagefolder" && !slices.Equal(sp.Train.Classes, []string{"a", "b", "c"}) {
				t.Errorf("classes %v, want sorted [a b c]", sp.Train.Classes)
			}
			if tc.name == "cifar100" && (sp.Train.Classes[7] != "fine07" || sp.Test.Labels[7] != 7) ||
				tc.name == "cifar100-coarse" && (sp.Train.Classes[19] != "coarse19" || sp.Test.Labels[7] != int32(datasettest.CIFAR100Coarse(7))) {
				t.Errorf("classes %v, labels %v", sp.Train.Classes, sp.Test.Labels)
			}
			if tc.name == "svhn" && (sp.Test.Labels[0] != 0 || sp.Test.Labels[3] != 3) {
				t.Errorf("labels %v, want the digits 0, 1, 2, ...", sp.Test.Labels)
			}
			checkSeparable(t, sp)
		})
	}
}

// checkSeparable fails unless every test image is nearest (squared
// distance) to the mean training image of its own class.
func checkSeparable(t *testing.T, sp *Split) {
	t.Helper()
	sz := sp.Train.Size()
	means := make([][]float64, len(sp.Train.Classes))
	counts := make([]int, len(means))
	for i := range means {
		means[i] = make([]float64, sz)
	}
	for i := range sp.Train.Len() {
		l := sp.Train.Labels[i]
		counts[l]++
		for j, v := range sp.Train.Image(i) {
			means[l][j] += float64(v)
		}
	}
	for l := range means {
		for j := range means[l] {
			means[l][j] /= float64(max(counts[l], 1))
		}
	}
	for i := range sp.Test.Len() {
		best, bestD := -1, 0.0
		for l := range means {
			if counts[l] == 0 {
				continue
			}
			d := 0.0
			for j, v := range sp.Test.Image(i) {
				d += (float64(v) - means[l][j]) * (float64(v) - means[l][j])
			}
			if best < 0 || d < bestD {
				best, bestD = l, d
			}
		}
		if int32(best) != sp.Test.Labels[i] {
			t.Errorf("test image %d of class %d is nearest to class %d's mean", i, sp.Test.Labels[i], best)
		}
	}
}

// TestWriteSVHNExact checks that the SVHN files WriteSVHN writes, in either
// byte order, plain or compressed, load as exactly the images and labels
// SVHNImages makes.
func TestWriteSVHNExact(t *testing.T) {
	for _, opt := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		dir := t.TempDir()
		if err := datasettest.WriteSVHN(dir, 13, 4, 5, opt[0], opt[1]); err != nil {
			t.Fatal(err)
		}
		sp, err := LoadSVHN(dir)
		if err != nil {
			t.Fatal(err)
		}
		for k, s := range []*Set{sp.Train, sp.Test} {
			digits := make([]int, s.Len())
			for i := range digits {
				digits[i] = i % 10
			}
			pix, _ := datasettest.SVHNImages(digits, 5+int64(k))
			want := &Set{C: 3, H: 32, W: 32, Classes: SVHNClasses, Images: pix}
			for _, d := range digits {
				want.Labels = append(want.Labels, int32(d))
			}
			equalSets(t, fmt.Sprintf("compressed %v, big-endian %v, file %d", opt[0], opt[1], k), s, want)
		}
	}
}
