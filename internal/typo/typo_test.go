package typo

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"ratio", "", 5},
		{"", "ratio", 5},
		{"ratio", "ratio", 0},
		{"ratoi", "ratio", 1}, // a transposition
		{"rtaoi", "ratio", 2}, // two of them
		{"ratio", "radio", 1}, // a substitution
		{"ratio", "rati", 1},  // a deletion
		{"rati", "ratio", 1},  // an insertion
		{"ca", "abc", 3},      // OSA never edits a transposed pair again
		{"kitten", "sitting", 3},
		{"gradiënt", "gradient", 1}, // runes, not bytes
		{"seeds", "seed", 1},
		{"variant", "dataset", 5},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Distance(tc.b, tc.a); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetric)", tc.b, tc.a, got, tc.want)
		}
	}
}
