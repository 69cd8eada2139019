package report

import (
	"math"
	"strconv"

	"github.com/dropexp/dropexp/internal/report/analysis"
)

// ComparisonsHeader is the first line of comparisons.csv.
var ComparisonsHeader = []string{"a", "b", "test", "n_a", "n_b", "diff", "ci95_low", "ci95_high", "p", "p_holm", "group", "note"}

// comparisonRows returns the comparisons.csv rows of cs, with the group's description.
func comparisonRows(group string, cs []analysis.Comparison) [][]string {
	var rows [][]string
	for _, c := range cs {
		test := c.Test.Kind
		if c.Err != nil {
			test = "none"
		}
		rows = append(rows, []string{c.A.Name(), c.B.Name(), test, strconv.Itoa(c.Test.NA), strconv.Itoa(c.Test.NB),
			csvFloat(c.Test.Diff), csvFloat(c.Test.Low), csvFloat(c.Test.High), csvFloat(c.Test.P), csvFloat(c.PHolm), group, c.Why()})
	}
	return rows
}

// csvFloat writes v with 6 decimals (p-values with 6 significant digits), and NaN as an empty field.
func csvFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	if v != 0 && math.Abs(v) < 1e-3 {
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	return strconv.FormatFloat(v, 'f', 6, 64)
}
