package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/experiment"
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

// make table2-budget trains the Table 2 budget grid in TABLE2_ORDER: every
// run once, a seed's standard and augmented runs at a ratio side by side
// (so each comparison gains its seed as early as it can), then the seed's
// plain run. An edit to the sweep file that moves the grid's indices
// makes the Makefile's order stale; this says so.
func TestMakeTable2OrderPairsTheGrid(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TABLE2_ORDER := ([0-9,]+)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile: no TABLE2_ORDER := i,j,… line")
	}
	s, err := ReadSpec(filepath.Join("..", "..", "configs", "sweeps", "table2-budget.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := Expand(s, Overrides{Set: []string{"dataset.path=data"}})
	if err != nil {
		t.Fatal(err)
	}
	var order []Run
	seen := map[int]bool{}
	for _, f := range strings.Split(string(m[1]), ",") {
		i, err := strconv.Atoi(f)
		if err != nil || i < 0 || i >= len(runs) || seen[i] {
			t.Fatalf("TABLE2_ORDER: %q is not a new index of the %d runs", f, len(runs))
		}
		seen[i] = true
		order = append(order, runs[i])
	}
	if len(order) != len(runs) {
		t.Fatalf("TABLE2_ORDER lists %d of the %d runs", len(order), len(runs))
	}
	for i := 0; i < len(order); i++ {
		r := order[i].Config
		switch r.Variant() {
		case experiment.Plain:
			continue
		case experiment.Standard:
			if i+1 < len(order) {
				a := order[i+1].Config
				if a.Variant() == experiment.Augmented && a.Ratio().P == r.Ratio().P && a.Seed == r.Seed {
					i++
					continue
				}
			}
		}
		t.Fatalf("TABLE2_ORDER: %s is not a standard run followed by the augmented run of its ratio and seed, or a plain run", order[i].Name)
	}
}
