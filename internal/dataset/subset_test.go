package dataset

import (
	"slices"
	"strings"
	"testing"
)

// sortedSet returns a set sorted by class, as an image folder is: counts[c]
// images of class c, image i holding i in its two pixels (see indices).
func sortedSet(counts ...int) *Set {
	s := &Set{C: 1, H: 1, W: 2}
	for c, n := range counts {
		s.Classes = append(s.Classes, string(rune('a'+c)))
		for range n {
			i := len(s.Labels)
			s.Images = append(s.Images, uint8(i>>8), uint8(i))
			s.Labels = append(s.Labels, int32(c))
		}
	}
	return s
}

// indices returns the index in its sortedSet of each image of s.
func indices(s *Set) []int {
	idx := make([]int, s.Len())
	for i := range idx {
		p := s.Image(i)
		idx[i] = int(p[0])<<8 | int(p[1])
	}
	return idx
}

func TestLargestRemainder(t *testing.T) {
	for _, tc := range []struct {
		n      int
		counts []int
		want   []int
	}{
		{10, []int{50, 30, 20}, []int{5, 3, 2}},
		// Shares 3.5, 2.1, 1.4: floors 3+2+1, the one left to the largest remainder.
		{7, []int{50, 30, 20}, []int{4, 2, 1}},
		// Equal remainders: the lower labels first.
		{2, []int{1, 1, 1}, []int{1, 1, 0}},
		{5, []int{5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000}, []int{1, 1, 1, 1, 1, 0, 0, 0, 0, 0}},
		{2000, []int{5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000}, []int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
		// A class with no images gets none.
		{3, []int{4, 0, 2}, []int{2, 0, 1}},
	} {
		got := largestRemainder(tc.n, tc.counts)
		if !slices.Equal(got, tc.want) {
			t.Errorf("largestRemainder(%d, %v) = %v, want %v", tc.n, tc.counts, got, tc.want)
		}
	}
}

// TestStratified is the tester's case: an image folder is sorted by class,
// so the first N images (what the limits took before) are all of the
// first classes.
func TestStratified(t *testing.T) {
	s := sortedSet(100, 100, 100, 100, 100, 100, 100, 100, 100, 100)
	sub := s.Stratified(200, DefaultSubsetSeed)
	if got := sub.ClassCounts(); !slices.Equal(got, []int{20, 20, 20, 20, 20, 20, 20, 20, 20, 20}) {
		t.Fatalf("class counts %v, want 20 of each of the 10 classes", got)
	}
	// Original order: the indices into s increase.
	idx := indices(sub)
	if !slices.IsSorted(idx) {
		t.Errorf("subset not in the data's order: %v", idx)
	}
	for i, v := range idx {
		if s.Labels[v] != sub.Labels[i] {
			t.Fatalf("image %d (was %d) has label %d, want %d", i, v, sub.Labels[i], s.Labels[v])
		}
	}
	if again := s.Stratified(200, DefaultSubsetSeed); !slices.Equal(indices(again), idx) {
		t.Error("the same seed chose other images")
	}
	if other := s.Stratified(200, DefaultSubsetSeed+1); slices.Equal(indices(other), idx) {
		t.Error("another seed chose the same images")
	}
	// The first 20 of each class would be a choice too, but not a random one.
	if idx[19] == 19 {
		t.Errorf("took the first images of class a (%v), want a seeded draw", idx[:20])
	}
	for _, n := range []int{0, -1, 1000, 5000} {
		if got := s.Stratified(n, 1); got != s {
			t.Errorf("Stratified(%d) made a subset of %d, want the set itself", n, got.Len())
		}
	}
	// The subset is a copy: changing it leaves the set alone.
	before := slices.Clone(s.Images)
	clear(sub.Images)
	if !slices.Equal(s.Images, before) {
		t.Error("the subset shares memory with the set")
	}
}

// TestStratifiedPinned pins which images the default seed picks, so that a
// change to the draw (or to math/rand/v2's PCG) cannot move every limited
// run's data unnoticed.
func TestStratifiedPinned(t *testing.T) {
	// Shares 2.5, 1.5 and 1 of 5: the remainders tie, and the lower label wins.
	sub := sortedSet(10, 6, 4).Stratified(5, DefaultSubsetSeed)
	want := []int{2, 4, 5, 15, 17}
	if got := indices(sub); !slices.Equal(got, want) || !slices.Equal(sub.ClassCounts(), []int{3, 1, 1}) {
		t.Errorf("picked %v (counts %v), want %v (counts [3 1 1])", got, sub.ClassCounts(), want)
	}
}

func TestLimit(t *testing.T) {
	sp := &Split{Train: sortedSet(60, 30, 10), Test: sortedSet(10, 10, 10)}
	got := sp.Limit(20, 0, DefaultSubsetSeed)
	if c := got.Train.ClassCounts(); !slices.Equal(c, []int{12, 6, 2}) {
		t.Errorf("train counts %v, want [12 6 2]", c)
	}
	if got.Test != sp.Test {
		t.Error("test limit 0 cut the test set")
	}
	if tr, te := got.Loaded(); tr != 100 || te != 30 {
		t.Errorf("Loaded() = %d, %d, want 100, 30", tr, te)
	}
	if w := got.Warnings(); len(w) != 0 {
		t.Errorf("warnings %q, want none", w)
	}
	lines := got.CountLines()
	for i, want := range []string{"train: 20 images (stratified subset of 100): a=12, b=6, c=2", "test: 30 images, 3 classes × 10"} {
		if lines[i] != want {
			t.Errorf("count line %d = %q, want %q", i, lines[i], want)
		}
	}

	// Too few images for every class: a warning naming the missing ones.
	got = sp.Limit(2, 1, DefaultSubsetSeed)
	w := strings.Join(got.Warnings(), "\n")
	for _, has := range []string{"dataset.train_limit 2 leaves the training set without images of 1 of its 3 classes (c)",
		"raise dataset.train_limit", "dataset.test_limit 1 leaves the test set without images of 2 of its 3 classes (b, c)"} {
		if !strings.Contains(w, has) {
			t.Errorf("warnings %q lack %q", w, has)
		}
	}
	// A class missing from the loaded data, not cut by a limit.
	sp = &Split{Train: sortedSet(5, 5), Test: sortedSet(5, 0)}
	w = strings.Join(sp.Limit(0, 0, 1).Warnings(), "\n")
	if !strings.Contains(w, "the test set has no images of 1 of its 2 classes (b)") {
		t.Errorf("warnings %q, want one for the test set's missing class b", w)
	}
}

func TestCountLineManyClasses(t *testing.T) {
	counts := make([]int, 100)
	for i := range counts {
		counts[i] = 5
	}
	counts[7], counts[42] = 3, 9
	got := countLine("train", sortedSet(counts...), 0)
	if !strings.Contains(got, "100 classes, 3 (") || !strings.Contains(got, "to 9 (") || len(got) > 100 {
		t.Errorf("count line %q, want a short min/max summary of 100 classes", got)
	}
}

func TestCheckFit(t *testing.T) {
	img := func(n, h, w int) *Set {
		return &Set{C: 3, H: h, W: w, Classes: []string{"a"}, Images: make([]uint8, n*3*h*w), Labels: make([]int32, n)}
	}
	full := &Split{Train: img(100, 32, 32), Test: img(10, 32, 32)}
	for _, tc := range []struct {
		name           string
		sp             *Split
		batch, cropPad int
		errHas         []string
	}{
		{"fits", full, 100, 4, nil},
		{"batch larger than the training set", full, 128, 0,
			[]string{"train.batch_size: 128 is larger than the training set of 100 images", "at most 100"}},
		{"batch larger than the limited set", full.Limit(50, 0, 1), 100, 0,
			[]string{"train.batch_size: 100", "training set of 50 images", "raise dataset.train_limit (the full training set has 100)"}},
		{"crop pad as large as the image", full, 10, 32,
			[]string{"dataset.crop_pad: 32", "32×32", "less than 32"}},
		{"crop pad larger than a narrow image", &Split{Train: img(20, 32, 8), Test: img(2, 32, 8)}, 10, 9,
			[]string{"dataset.crop_pad: 9", "8×32 (width×height)", "less than 8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, tc.sp.CheckFit(tc.batch, tc.cropPad), tc.errHas...)
		})
	}
}
