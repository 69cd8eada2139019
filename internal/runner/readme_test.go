package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
)

// committedDemo reads the demo's runs of one seed committed under results/demo-reference
// (make demo, and make demo DEMO_ARGS='--set seed=N' for the other seeds).
func committedDemo(t *testing.T, seed int) []DemoRow {
	t.Helper()
	var rows []DemoRow
	for _, v := range DemoVariants {
		name := fmt.Sprintf("%s-p0.5-layer-s%d", v, seed)
		ratio := "0.5"
		if v == experiment.Plain {
			name, ratio = fmt.Sprintf("plain-layer-s%d", seed), "–"
		}
		sum, err := results.ReadSummary(filepath.Join("..", "..", "results", "demo-reference", name, results.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, DemoRow{Variant: v, Ratio: ratio, Summary: sum})
	}
	return rows
}

// The README quotes what make demo printed: the table and its reading for
// seed 1 as make demo prints them, and forward's training loss over
// standard's for seeds 1 to 3, all from the runs committed in results/demo-reference.
func TestReadmeQuotesTheCommittedDemo(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	flat := strings.Join(strings.Fields(readme), " ")
	rows := committedDemo(t, 1)
	if table := DemoTable(rows); !strings.Contains(readme, table) {
		t.Errorf("README.md does not show the committed demo's table:\n%s", table)
	}
	if reading := DemoReading(rows); !strings.Contains(flat, strings.Join(strings.Fields(reading), " ")) {
		t.Errorf("README.md does not show the committed demo's reading:\n%s", reading)
	}
	var ratios []string
	for seed := 1; seed <= 3; seed++ {
		r := committedDemo(t, seed)
		ratios = append(ratios, fmt.Sprintf("%.2f×", r[2].Summary.FinalTrainLoss/r[1].Summary.FinalTrainLoss))
	}
	if want := fmt.Sprintf("%s, %s and %s", ratios[0], ratios[1], ratios[2]); !strings.Contains(flat, want) {
		t.Errorf("README.md does not give forward's training loss over standard's for seeds 1, 2 and 3 as %q", want)
	}
}
