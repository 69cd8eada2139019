package sweep

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// indexRange is one "I-J" item of --index.
var indexRange = regexp.MustCompile(`^(\d+)-(\d+)$`)

// ParseIndices reads --index: grid positions as a number, a range I-J or a
// comma-separated list of both ("4", "8-11", "20,39,13-15"), in the order
// given (the order the runs start in), each once. n is the grid's size and
// source names the grid in errors.
func ParseIndices(list string, n int, source string) ([]int, error) {
	var out []int
	add := func(i int, item string) error {
		if err := checkIndex(i, n, source); err != nil {
			return fmt.Errorf("sweep: --index %s: %w", item, err)
		}
		if !slices.Contains(out, i) {
			out = append(out, i)
		}
		return nil
	}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if m := indexRange.FindStringSubmatch(item); m != nil {
			lo, _ := strconv.Atoi(m[1])
			hi, _ := strconv.Atoi(m[2])
			if lo > hi {
				return nil, fmt.Errorf("sweep: --index %s: a range goes from low to high (%d-%d)", item, hi, lo)
			}
			for i := lo; i <= hi; i++ {
				if err := add(i, item); err != nil {
					return nil, err
				}
			}
			continue
		}
		i, err := strconv.Atoi(item)
		if err != nil {
			return nil, fmt.Errorf("sweep: --index %q: not a run index (give a number, a range such as 3-7, or a list such as 1,4,9-11; see --list)", item)
		}
		if err := add(i, item); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkIndex says why i is not a position of a grid of n runs, or nil.
func checkIndex(i, n int, source string) error {
	if i < 0 || i >= n {
		return fmt.Errorf("the grid of %s has %d runs, 0..%d (see --list)", source, n, n-1)
	}
	return nil
}
