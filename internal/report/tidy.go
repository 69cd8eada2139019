package report

import (
	"cmp"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/report/analysis"
	"github.com/dropexp/dropexp/internal/results"
)

// RunsCSV is the long-form ("tidy") table of every run's curves: one row
// per run, iteration and metric, with the run's status and its value of
// every swept key beside it, so that pandas, R or seaborn load it in one
// line (pd.read_csv("runs.csv")) and group or colour by any key.
const RunsCSV = "runs.csv"

// namedKeys are the keys the sweep's named axes set, columns of runs.csv
// whether they vary or not.
var namedKeys = []string{"dropout.variant", "dropout.ratio", "dropout.gradient", "seed"}

// placeKeys say where or how fast a run went, not what it computed.
var placeKeys = []string{"out", "threads", "train.checkpoint_every"}

// dataLabelColumn is the column of a sweep's data set label in runs.csv.
const dataLabelColumn = "data_label"

// sweptKeys returns the keys that tell runs apart: the named axes' keys,
// then every other config key whose value differs between some runs, in
// the config's order.
func sweptKeys(runs []analysis.Run) []string {
	keys := slices.Clone(namedKeys)
	vals := map[string]map[string]bool{}
	for _, r := range runs {
		for k, v := range analysis.SettingsOf(r) {
			if vals[k] == nil {
				vals[k] = map[string]bool{}
			}
			vals[k][v] = true
		}
	}
	order := config.Keys()
	var other []string
	for k, vs := range vals {
		if len(vs) > 1 && !slices.Contains(keys, k) && !slices.Contains(placeKeys, k) {
			other = append(other, k)
		}
	}
	// A key some runs lack (one an older dropexp did not write) differs too.
	for _, r := range runs {
		for k := range vals {
			if _, ok := analysis.SettingsOf(r)[k]; !ok && !slices.Contains(keys, k) && !slices.Contains(other, k) && !slices.Contains(placeKeys, k) {
				other = append(other, k)
			}
		}
	}
	slices.SortFunc(other, func(a, b string) int {
		ia, ib := slices.Index(order, a), slices.Index(order, b)
		if ia < 0 {
			ia = len(order)
		}
		if ib < 0 {
			ib = len(order)
		}
		return cmp.Or(cmp.Compare(ia, ib), cmp.Compare(a, b))
	})
	return append(keys, other...)
}

// runNames names each run for runs.csv and the HTML report: its directory's
// name, with its sweep's directory in front where two inputs hold one name.
func runNames(runs []analysis.Run) map[string]string {
	count := map[string]int{}
	for _, r := range runs {
		count[filepath.Base(r.Dir)]++
	}
	out := map[string]string{}
	for _, r := range runs {
		name := filepath.Base(r.Dir)
		if count[name] > 1 {
			parent := filepath.Dir(r.Dir)
			if filepath.Base(parent) == "runs" {
				parent = filepath.Dir(parent)
			}
			name = filepath.Base(parent) + "/" + name
		}
		out[r.Dir] = name
	}
	return out
}

// tidyMetrics are the metrics.csv columns written to runs.csv, by name.
var tidyMetrics = []struct {
	name string
	f    func(results.Metric) float64
}{
	{"train_loss", func(m results.Metric) float64 { return m.TrainLoss }},
	{"test_loss", func(m results.Metric) float64 { return m.TestLoss }},
	{"test_acc", func(m results.Metric) float64 { return m.TestAcc }},
	{"lr", func(m results.Metric) float64 { return m.LR }},
}

// runsCSV renders runs.csv: run,status,<swept keys>,iteration,metric,value.
// A plain run's ratio is empty (it has none); a value that
// is not finite is NaN, Inf or -Inf, which pandas and R read as such.
func runsCSV(runs []analysis.Run) string {
	keys := sweptKeys(runs)
	labelled := slices.ContainsFunc(runs, func(r analysis.Run) bool { return r.DataLabel != "" })
	header := []string{"run", "status"}
	if labelled {
		header = append(header, dataLabelColumn)
	}
	header = append(append(header, keys...), "iteration", "metric", "value")
	rows := [][]string{header}
	names := runNames(runs)
	for _, r := range runs {
		set := analysis.SettingsOf(r)
		lead := []string{names[r.Dir], r.Summary.Status}
		if labelled {
			lead = append(lead, r.DataLabel)
		}
		for _, k := range keys {
			lead = append(lead, set[k])
		}
		for _, m := range r.Metrics {
			for _, t := range tidyMetrics {
				rows = append(rows, append(slices.Clone(lead), strconv.Itoa(m.Iteration), t.name, strconv.FormatFloat(t.f(m), 'g', -1, 64)))
			}
		}
	}
	return writeCSV(rows)
}
