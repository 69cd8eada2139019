package results

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestConfusionRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), ConfusionFile)
	c := Confusion{Classes: []string{"cat", "dog, big", `"quoted"`}, Counts: [][]int{{5, 1, 0}, {2, 7, 1}, {0, 0, 9}}}
	if err := WriteConfusion(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := ReadConfusion(path)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Errorf("read back %+v, %v; wrote %+v", got, err, c)
	}
}

func TestReadConfusionRefuses(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"not one", "a,b\n1,2\n", "not a confusion matrix"},
		{"not square", "true\\predicted,a,b\na,1,2\n", "not a confusion matrix"},
		{"wrong class", "true\\predicted,a,b\na,1,2\nc,3,4\n", "want class b"},
		{"negative", "true\\predicted,a,b\na,1,-2\nb,3,4\n", `count "-2"`},
		{"text", "true\\predicted,a,b\na,1,x\nb,3,4\n", `count "x"`},
	} {
		path := filepath.Join(t.TempDir(), ConfusionFile)
		os.WriteFile(path, []byte(tc.text), 0o644)
		if _, err := ReadConfusion(path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
