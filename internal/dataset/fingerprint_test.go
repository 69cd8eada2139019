package dataset

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
)

// tinySplit is a fixed two-class split of 2×2 RGB images: 3 training and 2 test images.
func tinySplit() *Split {
	set := func(n int, base uint8) *Set {
		s := &Set{C: 3, H: 2, W: 2, Classes: []string{"cat", "dog"}}
		for i := range n {
			for j := range s.Size() {
				s.Images = append(s.Images, base+uint8(i*12+j))
			}
			s.Labels = append(s.Labels, int32(i%2))
		}
		return s
	}
	return &Split{Train: set(3, 0), Test: set(2, 100)}
}

// firstN is a view of the first n images of s.
func firstN(s *Set, n int) *Set {
	sz := s.Size()
	return &Set{C: s.C, H: s.H, W: s.W, Classes: s.Classes, Images: s.Images[:n*sz], Labels: s.Labels[:n]}
}

func cloneSplit(sp *Split) *Split {
	c := func(s *Set) *Set {
		return &Set{C: s.C, H: s.H, W: s.W, Classes: slices.Clone(s.Classes), Images: slices.Clone(s.Images), Labels: slices.Clone(s.Labels)}
	}
	return &Split{Train: c(sp.Train), Test: c(sp.Test)}
}

// TestFingerprintIsStable pins the fingerprint of a fixed split (the value
// was also computed independently, by hand from the documented layout): run
// identities contain it, so a change here would make every finished run
// look like a new one.
func TestFingerprintIsStable(t *testing.T) {
	const want = "56adebe1b9bc44cbf736c2de283aee9e9e13445ab4dc8638287939e51e6e1a65"
	if got := Fingerprint(tinySplit()); got != want {
		t.Errorf("Fingerprint of the fixed split = %s, want %s (the fingerprint format changed: every recorded run identity would no longer match)", got, want)
	}
}

// Every part of the data changes the fingerprint; nothing else does.
func TestFingerprintCoversTheData(t *testing.T) {
	base := Fingerprint(tinySplit())
	for _, tc := range []struct {
		name string
		edit func(*Split)
	}{
		{"one training pixel", func(sp *Split) { sp.Train.Images[5]++ }},
		{"one test pixel", func(sp *Split) { sp.Test.Images[len(sp.Test.Images)-1]++ }},
		{"one label", func(sp *Split) { sp.Train.Labels[2] = 1 }},
		{"a class name", func(sp *Split) { sp.Test.Classes[1] = "wolf" }},
		{"class names regrouped", func(sp *Split) { sp.Train.Classes = []string{"ca", "tdog"} }},
		{"shape", func(sp *Split) { sp.Train.H, sp.Train.W = 1, 4 }},
		{"channels", func(sp *Split) { sp.Train.C, sp.Train.W = 1, 12 }},
		{"a training image fewer", func(sp *Split) { sp.Train = firstN(sp.Train, 2) }},
		{"an image moved from train to test", func(sp *Split) {
			sz := sp.Train.Size()
			sp.Test.Images = append(slices.Clone(sp.Train.Images[2*sz:]), sp.Test.Images...)
			sp.Test.Labels = append([]int32{sp.Train.Labels[2]}, sp.Test.Labels...)
			sp.Train = firstN(sp.Train, 2)
		}},
		{"train and test swapped", func(sp *Split) { sp.Train, sp.Test = sp.Test, sp.Train }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := cloneSplit(tinySplit())
			tc.edit(sp)
			if Fingerprint(sp) == base {
				t.Errorf("fingerprint unchanged")
			}
		})
	}
	// Equal data in fresh memory, and a view that keeps every image, are the same data.
	sp := cloneSplit(tinySplit())
	sp.Train = firstN(sp.Train, sp.Train.Len())
	if Fingerprint(sp) != base {
		t.Errorf("a copy of the same data has another fingerprint")
	}
}

// The same images read from two places (a directory and a tar archive of
// it) are the same data.
func TestFingerprintIgnoresWhereTheDataCameFrom(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "folder")
	if err := datasettest.WriteImageFolder(root, []string{"a", "b"}, 3, 4, 4, 1); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "elsewhere", "folder.tar.gz")
	if err := datasettest.WriteTar(archive, root, "top"); err != nil {
		t.Fatal(err)
	}
	a, err := LoadImageFolder(root)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadImageFolder(archive)
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(a) != Fingerprint(b) {
		t.Errorf("the directory and its tar archive give different fingerprints")
	}
}

// BenchmarkFingerprint hashes a split of CIFAR-10's size (50,000 + 10,000
// images of 3×32×32).
func BenchmarkFingerprint(b *testing.B) {
	set := func(n int) *Set {
		s := &Set{C: 3, H: 32, W: 32, Classes: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}, Images: make([]uint8, n*3072), Labels: make([]int32, n)}
		for i := range s.Images {
			s.Images[i] = uint8(i * 7)
		}
		return s
	}
	sp := &Split{Train: set(50000), Test: set(10000)}
	b.SetBytes(int64(len(sp.Train.Images) + len(sp.Test.Images)))
	for b.Loop() {
		Fingerprint(sp)
	}
}
