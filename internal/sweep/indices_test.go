package sweep

import (
	"slices"
	"strings"
	"testing"
)

func TestParseIndices(t *testing.T) {
	for _, c := range []struct {
		list string
		want []int
		err  string
	}{
		{"4", []int{4}, ""},
		{"0", []int{0}, ""},
		{"8-11", []int{8, 9, 10, 11}, ""},
		{"20,3, 13-15", []int{20, 3, 13, 14, 15}, ""}, // the order given
		{"5,5,4-6", []int{5, 4, 6}, ""},               // each once
		{"21", nil, "--index 21: the grid of table1.yaml has 21 runs, 0..20 (see --list)"},
		{"-2", nil, "--index -2: the grid of table1.yaml has 21 runs, 0..20"},
		{"19-22", nil, "--index 19-22: the grid of table1.yaml has 21 runs"},
		{"9-3", nil, "--index 9-3: a range goes from low to high (3-9)"},
		{"", nil, `--index "": not a run index`},
		{"1,,2", nil, `--index "": not a run index`},
		{"x", nil, `--index "x": not a run index (give a number, a range such as 3-7, or a list such as 1,4,9-11; see --list)`},
	} {
		got, err := ParseIndices(c.list, 21, "table1.yaml")
		switch {
		case c.err == "" && (err != nil || !slices.Equal(got, c.want)):
			t.Errorf("ParseIndices(%q) = %v, %v; want %v", c.list, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ParseIndices(%q) error %v; want it to say %q", c.list, err, c.err)
		}
	}
}

// An unknown sweep key is answered with the allowed key a typo of it is,
// transposed letters counting as one edit.
func TestSuggest(t *testing.T) {
	allowed := []string{"name", "base", "set", "axes", "variant", "ratio", "seed"}
	for _, tc := range []struct{ typed, want string }{
		{"ratoi", " (did you mean ratio?)"},
		{"rtaoi", " (did you mean ratio?)"}, // two transpositions
		{"ax", " (did you mean axes?)"},
		{"aexs", " (did you mean axes?)"},
		{"gradient", ""},
	} {
		if got := suggest(tc.typed, allowed); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.typed, got, tc.want)
		}
	}
}
