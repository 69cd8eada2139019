package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/shipped-sweeps.golden from the current code")

// TestShippedSweepsKeepTheirRuns pins the name and the hash of the identity
// text of every run of every shipped sweep file: results already trained
// are found again by these, so a change to the grid's expansion must leave
// them exactly as they are.
func TestShippedSweepsKeepTheirRuns(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "configs", "sweeps", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no shipped sweep files (%v)", err)
	}
	var b strings.Builder
	for _, f := range files {
		s, err := ReadSpec(f)
		if err != nil {
			t.Fatal(err)
		}
		// The data sets' own paths, as a user gives them; the identity text leaves dataset.path out.
		runs, err := Expand(s, Overrides{Set: []string{"dataset.path=data"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			sum := sha256.Sum256([]byte(r.Config.IdentityText()))
			fmt.Fprintf(&b, "%s %d %s %s\n", filepath.Base(f), r.Index, r.Name, hex.EncodeToString(sum[:8]))
		}
	}
	golden := filepath.Join("testdata", "shipped-sweeps.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("the shipped sweeps' runs changed (names or identities); got:\n%s\nwant:\n%s", b.String(), want)
	}
}
