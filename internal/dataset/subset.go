package dataset

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// DefaultSubsetSeed chooses the images of the subsets that
// dataset.train_limit and dataset.test_limit cut. It is fixed and apart
// from a run's seed, so that every training seed of a sweep trains and
// tests on the same images and seeds differ only in what they seed.
const DefaultSubsetSeed uint64 = 0x5b5e7

// ClassCounts returns the number of images of each class of s, indexed by
// label; its length is the number of classes (at least len(s.Classes)).
func (s *Set) ClassCounts() []int {
	counts := make([]int, len(s.Classes))
	for _, l := range s.Labels {
		if int(l) >= len(counts) {
			counts = append(counts, make([]int, int(l)+1-len(counts))...)
		}
		if l >= 0 {
			counts[l]++
		}
	}
	return counts
}

// Stratified returns n images of s with the class proportions of s, or s
// itself if n <= 0 or n >= s.Len(). Each class gets its share of n rounded
// by largest remainder (ties to the lower label), so the counts add up to
// n and differ from the exact shares by less than one. Which images of a
// class are taken depends only on seed and the class's label; the chosen
// images keep their order in s. The result is a copy: s can be freed.
func (s *Set) Stratified(n int, seed uint64) *Set {
	total := s.Len()
	if n <= 0 || n >= total {
		return s
	}
	counts := s.ClassCounts()
	quota := largestRemainder(n, counts)
	byClass := make([][]int, len(counts))
	for i, l := range s.Labels {
		byClass[l] = append(byClass[l], i)
	}
	picked := make([]int, 0, n)
	for c, idx := range byClass {
		picked = append(picked, choose(idx, quota[c], seed, uint64(c))...)
	}
	slices.Sort(picked)
	sz := s.Size()
	out := &Set{C: s.C, H: s.H, W: s.W, Classes: s.Classes,
		Images: make([]uint8, 0, n*sz), Labels: make([]int32, 0, n)}
	for _, i := range picked {
		out.Images = append(out.Images, s.Image(i)...)
		out.Labels = append(out.Labels, s.Labels[i])
	}
	return out
}

// largestRemainder splits n over classes in proportion to counts: each
// gets the floor of its exact share, and the rest go one each to the
// largest remainders (ties: lower index first).
func largestRemainder(n int, counts []int) []int {
	total := 0
	for _, c := range counts {
		total += c
	}
	quota := make([]int, len(counts))
	rem := make([]int, len(counts))
	left := n
	for c, k := range counts {
		// n and k are at most the number of images, so n*k fits an int64.
		quota[c] = int(int64(n) * int64(k) / int64(total))
		rem[c] = int(int64(n) * int64(k) % int64(total))
		left -= quota[c]
	}
	order := make([]int, len(counts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rem[b] - rem[a] })
	for _, c := range order[:left] {
		quota[c]++
	}
	return quota
}

// choose returns k of idx, drawn without replacement by a partial
// Fisher–Yates shuffle from the PCG stream (seed, class), in the order of
// idx. The draw is written here, like the epoch shuffle, so that a later
// Go release cannot change which images a subset holds.
func choose(idx []int, k int, seed, class uint64) []int {
	if k >= len(idx) {
		return idx
	}
	src := rand.NewPCG(seed, splitmix64(class))
	p := slices.Clone(idx)
	for i := range k {
		j := i + int(boundedUint64(src, uint64(len(p)-i)))
		p[i], p[j] = p[j], p[i]
	}
	p = p[:k]
	slices.Sort(p)
	return p
}

// Limit returns sp with its training and test sets cut to stratified
// subsets of trainN and testN images chosen by seed (see Set.Stratified;
// 0 keeps a set whole). The result records a warning for every class that
// a set has no image of.
func (sp *Split) Limit(trainN, testN int, seed uint64) *Split {
	out := &Split{
		Train:    sp.Train.Stratified(trainN, seed),
		Test:     sp.Test.Stratified(testN, seed),
		loaded:   [2]int{sp.Train.Len(), sp.Test.Len()},
		warnings: slices.Clone(sp.warnings),
	}
	if sp.loaded != [2]int{} {
		out.loaded = sp.loaded
	}
	for i, set := range []struct {
		name, key string
		s, full   *Set
	}{{"training", "dataset.train_limit", out.Train, sp.Train}, {"test", "dataset.test_limit", out.Test, sp.Test}} {
		have, full := set.s.ClassCounts(), set.full.ClassCounts()
		var cut, absent []string
		for c, k := range have {
			if k > 0 {
				continue
			}
			if c < len(full) && full[c] > 0 {
				cut = append(cut, className(set.s, c))
			} else {
				absent = append(absent, className(set.s, c))
			}
		}
		if len(absent) > 0 {
			out.warnings = append(out.warnings, fmt.Sprintf("the %s set has no images of %d of its %d classes (%s): its accuracy says nothing about them",
				set.name, len(absent), len(have), listShort(absent)))
		}
		if len(cut) > 0 {
			limit := []int{trainN, testN}[i]
			out.warnings = append(out.warnings, fmt.Sprintf("%s %d leaves the %s set without images of %d of its %d classes (%s); raise %s (the smallest class holds %d of the %d images)",
				set.key, limit, set.name, len(cut), len(have), listShort(cut), set.key, slices.Min(nonZero(full)), set.full.Len()))
		}
	}
	return out
}

func nonZero(v []int) []int {
	var out []int
	for _, x := range v {
		if x > 0 {
			out = append(out, x)
		}
	}
	if out == nil {
		return []int{0}
	}
	return out
}

// Warnings returns what the load and the limits found wrong but not fatal,
// one sentence each: a set without images of some class, CIFAR batches of
// unofficial sizes. The run log prints them; a summary can record them.
func (sp *Split) Warnings() []string { return slices.Clone(sp.warnings) }

// ClassCounts returns the number of training and test images of each
// class, indexed by label.
func (sp *Split) ClassCounts() (train, test []int) {
	return sp.Train.ClassCounts(), sp.Test.ClassCounts()
}

// Loaded returns the sizes of the training and test sets as loaded, before
// Limit cut them.
func (sp *Split) Loaded() (train, test int) {
	if sp.loaded == [2]int{} {
		return sp.Train.Len(), sp.Test.Len()
	}
	return sp.loaded[0], sp.loaded[1]
}

// CountLines returns one short line each for the training and the test
// set: how many images, of how many loaded, and their classes' counts.
func (sp *Split) CountLines() []string {
	tr, te := sp.Loaded()
	return []string{countLine("train", sp.Train, tr), countLine("test", sp.Test, te)}
}

// maxListed is how many classes a count line names one by one.
const maxListed = 10

func countLine(name string, s *Set, loaded int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d images", name, s.Len())
	if loaded != s.Len() {
		fmt.Fprintf(&b, " (stratified subset of %d)", loaded)
	}
	counts := s.ClassCounts()
	if len(counts) == 0 {
		return b.String()
	}
	lo, hi := slices.Min(counts), slices.Max(counts)
	switch {
	case lo == hi:
		fmt.Fprintf(&b, ", %d classes × %d", len(counts), lo)
	case len(counts) <= maxListed:
		parts := make([]string, len(counts))
		for c, k := range counts {
			parts[c] = fmt.Sprintf("%s=%d", className(s, c), k)
		}
		fmt.Fprintf(&b, ": %s", strings.Join(parts, ", "))
	default:
		fmt.Fprintf(&b, ", %d classes, %d (%s) to %d (%s) each", len(counts),
			lo, className(s, slices.Index(counts, lo)), hi, className(s, slices.Index(counts, hi)))
	}
	return b.String()
}

func className(s *Set, c int) string {
	if c < len(s.Classes) && s.Classes[c] != "" {
		return s.Classes[c]
	}
	return fmt.Sprint(c)
}

// listShort joins names, eliding past maxListed.
func listShort(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, … (%d more)", strings.Join(names[:maxListed], ", "), len(names)-maxListed)
}

// CheckFit returns an error for settings that cannot work with the loaded
// data: a training batch (train.batch_size) larger than the training set,
// or a random-crop padding (dataset.crop_pad) as large as an image side,
// which would let a crop hold nothing but padding. A runner calls it once
// the data is loaded and before training starts.
func (sp *Split) CheckFit(batchSize, cropPad int) error {
	n := sp.Train.Len()
	loaded, _ := sp.Loaded()
	if batchSize > n {
		fix := fmt.Sprintf("lower train.batch_size to at most %d", n)
		if loaded > n {
			fix += fmt.Sprintf(", or raise dataset.train_limit (the full training set has %d)", loaded)
		}
		return fmt.Errorf("train.batch_size: %d is larger than the training set of %d images; every batch would repeat images (%s)", batchSize, n, fix)
	}
	if side := min(sp.Train.H, sp.Train.W); cropPad > 0 && cropPad >= side {
		return fmt.Errorf("dataset.crop_pad: %d is not smaller than the %d×%d (width×height) images: a crop shifted that far holds only padding (use less than %d; He et al. pad 32×32 CIFAR by 4)",
			cropPad, sp.Train.W, sp.Train.H, side)
	}
	return nil
}
