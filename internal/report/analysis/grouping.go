package analysis

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/stats"
)

// Runs are seeds of one table cell only when they computed the same thing
// but for the seed: config.Computation of their resolved config.yaml, plus
// what the config does not say about the data (see identity). Everything
// else that differs splits the runs into groups, each a table of its own,
// labelled with the settings that set it apart.

// cellKeys tell the cells of one table apart.
var cellKeys = []string{"dropout.variant", "dropout.ratio", "dropout.gradient"}

// Pseudo keys of identity for what config.yaml does not hold.
const (
	dataLabelKey       = "data label"       // the sweep's label of the data set (axes.dataset[].label), see dataLabel
	DataSizeKey        = "data images"      // train/test images the run used (summary.json)
	dataFingerprintKey = "data fingerprint" // of the loaded data (summary.json's data_fingerprint, where the run recorded one)
)

// readConfig reads a run's config.yaml, with the built-in defaults for
// keys an older dropexp did not write (which is what that dropexp used).
func readConfig(path string) (*config.Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	cfg, err := config.DecodeRecorded(data)
	if err != nil {
		return nil, fmt.Errorf("results: %s: %w (a run's config.yaml as dropexp train writes it)", path, err)
	}
	return &cfg, nil
}

// settingsOf returns the settings of a run: its config.yaml, or, when that
// could not be read, what summary.json says.
func SettingsOf(r Run) map[string]string {
	if r.Config != nil {
		return r.Config.Settings()
	}
	s := r.Summary
	return map[string]string{
		"model": s.Model, "dataset.name": s.Dataset, "dropout.variant": s.Variant,
		"dropout.ratio": canonRatio(s.Ratio), "dropout.gradient": s.Semantics,
		"train.iterations": strconv.Itoa(s.Iterations),
	}
}

// identity returns what must agree for two runs to be seeds of one cell:
// config.Computation of the settings less the seed, plus the data label,
// the numbers of images and the data fingerprint where the run recorded
// one (a run that did not cannot show it read the same data, so it does
// not group with one that did), and a kernel set other than the default
// one: such runs compute the same runs to other roundings, so they are a
// table of their own, set beside the default's rather than pooled with it.
func identity(r Run) map[string]string {
	settings := SettingsOf(r)
	id := config.Computation(settings)
	delete(id, "seed")
	if k := settings["kernels"]; k != "" && k != string(experiment.DirectKernels) {
		id["kernels"] = k
	}
	if r.DataLabel != "" {
		id[dataLabelKey] = r.DataLabel
	}
	id[DataSizeKey] = fmt.Sprintf("%d/%d", r.Summary.TrainSize, r.Summary.TestSize)
	if fp := r.Summary.DataFingerprint; fp != "" {
		id[dataFingerprintKey] = fp
	}
	return id
}

// dataLabel returns the sweep's label of the data set of the run in dir,
// "" for none: what its summary.json records, or, for a summary of a
// dropexp that did not record it, what its sweep's index.json says when
// the sweep has several data sets (and the label leads the run's name).
func (c *Collection) dataLabel(dir string, s results.Summary) string {
	if s.Sweep != nil {
		return s.Sweep.DataLabel
	}
	runs := filepath.Dir(dir)
	if filepath.Base(runs) != results.SweepRunsDir {
		return ""
	}
	sweep := filepath.Dir(runs)
	labels, ok := c.labels[sweep]
	if !ok {
		labels = indexLabels(sweep)
		if c.labels == nil {
			c.labels = map[string]map[string]string{}
		}
		c.labels[sweep] = labels
	}
	return labels[filepath.Base(dir)]
}

// indexLabels returns the data set label of each run of the sweep
// directory dir by run directory name, from its index.json; nil when the
// sweep has one data set (its runs' names hold no label) or no index.
func indexLabels(dir string) map[string]string {
	ix, err := results.ReadSweepIndex[string](dir)
	if err != nil {
		return nil
	}
	sets := map[string]bool{}
	for _, e := range ix.Runs {
		sets[e.Dataset] = true
	}
	if len(sets) < 2 {
		return nil
	}
	out := map[string]string{}
	for _, e := range ix.Runs {
		out[path.Base(e.Dir)] = e.Dataset
	}
	return out
}

// keyString is a map's canonical spelling, to use it as a map key.
func keyString(m map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%q=%q;", k, m[k])
	}
	return b.String()
}

// without returns m less keys.
func without(m map[string]string, keys ...string) map[string]string {
	out := maps.Clone(m)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// CellRuns is one table cell: the runs of one variant, ratio and gradient
// semantics of a group, one per seed.
type CellRuns struct {
	experiment.Cell
	Runs      []Run // finished, sorted by seed
	Diverged  []Run
	Partial   []Run        // unfinished, drawn as partial curves only; in no statistic
	Acc       stats.Sample // final test accuracy over Runs
	TrainLoss stats.Sample // final training loss over Runs
}

// Name names the cell in comparisons: "plain" or variant/ratio/semantics.
func (c *CellRuns) Name() string { return c.Cell.String() }

// Seeds returns the seeds of the finished runs, in order.
func (c *CellRuns) Seeds() []int64 {
	s := make([]int64, len(c.Runs))
	for i, r := range c.Runs {
		s[i] = r.Summary.Seed
	}
	return s
}

// values returns f of each finished run, in seed order.
func (c *CellRuns) values(f func(results.Summary) float64) []float64 {
	v := make([]float64, len(c.Runs))
	for i, r := range c.Runs {
		v[i] = f(r.Summary)
	}
	return v
}

func accOf(s results.Summary) float64       { return s.FinalTestAcc }
func trainLossOf(s results.Summary) float64 { return s.FinalTrainLoss }

// Group is a set of runs that differ only in variant, ratio, gradient
// semantics and seed: one table.
type Group struct {
	Model, Dataset string
	Settings       map[string]string // what all its dropout runs share (identity less cellKeys)
	Label          string            // the settings that set it apart from the other groups of its model and data set; "" if none
	Plain          *CellRuns         // nil if no plain run matches; shared by the groups that differ only in dropout.sites
	Cells          []*CellRuns       // the dropout cells: layer semantics first, then by variant and falling ratio
	Paths          []string          // the dataset.path values of its runs
}

// All returns the plain cell (if any) and the dropout cells.
func (g *Group) All() []*CellRuns {
	if g.Plain == nil {
		return g.Cells
	}
	return append([]*CellRuns{g.Plain}, g.Cells...)
}

// Cell returns the cell of key k, or nil.
func (g *Group) Cell(k experiment.Cell) *CellRuns {
	if k.Variant.Form() == experiment.NoRatio {
		return g.Plain
	}
	for _, c := range g.Cells {
		if c.Cell == k {
			return c
		}
	}
	return nil
}

// Semantics returns the gradient semantics of its dropout cells, layer first.
func (g *Group) Semantics() []experiment.Semantics {
	var s []experiment.Semantics
	for _, c := range g.Cells {
		if !slices.Contains(s, c.Semantics) {
			s = append(s, c.Semantics)
		}
	}
	return s
}

// Title describes the group's network and data for a heading.
func (g *Group) Title() string {
	t := ModelTitle(g.Model) + " on " + g.DataTitle()
	if g.Label != "" {
		t += ", " + g.Label
	}
	return t
}

// dataTitle names the data: the paper's name only for the full data set,
// so a small or synthetic set in the same format is never called CIFAR-10.
func (g *Group) DataTitle() string {
	size, name := g.Settings[DataSizeKey], g.Dataset
	switch {
	case name == "imagefolder":
		var paths []string
		for _, p := range g.Paths {
			if p != "" {
				paths = append(paths, filepath.Base(p))
			}
		}
		if len(paths) == 1 {
			// As the figures name it: what the folder holds, e.g. CIFAR-10 (JPEG image folder).
			s := results.Summary{Dataset: name, DatasetPath: paths[0]}
			fmt.Sscanf(size, "%d/%d", &s.TrainSize, &s.TestSize)
			return DataTitle(s)
		}
		return strings.TrimSpace(fmt.Sprintf("image folder %s (%s images)", strings.Join(paths, ", "), size))
	case fullSize(name, size):
		return datasetTitle(name)
	case fullSizes(name) != "":
		return fmt.Sprintf("%s images in %s's format (not the full %s)", size, datasetTitle(name), datasetTitle(name))
	}
	return fmt.Sprintf("%s (%s images)", name, size)
}

// fullSizes returns the train/test images of the whole data set name, as
// "50000/10000", or "" when package dataset's registry gives none.
func fullSizes(name string) string {
	d, err := dataset.Lookup(name)
	if err != nil || d.Name != name || d.Train == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", d.Train, d.Test)
}

// fullSize reports whether size is that of the whole data set name.
func fullSize(name, size string) bool {
	return fullSizes(name) != "" && fullSizes(name) == size
}

// Groups sorts runs into groups (tables). Duplicate runs (same identity and
// seed) count once; the ones left out are returned as problems.
func Groups(runs []Run) (groups []*Group, problems []string) {
	type cellKey struct {
		group string
		cell  experiment.Cell
	}
	byGroup := map[string]*Group{}
	cells := map[cellKey]*CellRuns{}
	plains := map[string]*CellRuns{} // by identity less cellKeys (and dropout.sites)
	plainSettings := map[string]map[string]string{}
	seen := map[string]string{} // identity and seed -> directory
	var order []string
	for _, r := range runs {
		id := identity(r)
		s := r.Summary
		dup := keyString(id) + "seed=" + strconv.FormatInt(s.Seed, 10)
		if first, ok := seen[dup]; ok {
			problems = append(problems, fmt.Sprintf("%s: the same run as %s (same config and seed); counted once", r.Dir, first))
			continue
		}
		seen[dup] = r.Dir
		rest := without(id, cellKeys...)
		gk := keyString(rest)
		if r.Cell.Variant.Form() == experiment.NoRatio {
			c := plains[gk]
			if c == nil {
				c = &CellRuns{Cell: r.Cell}
				plains[gk], plainSettings[gk] = c, rest
			}
			addRun(c, r)
			continue
		}
		g := byGroup[gk]
		if g == nil {
			g = &Group{Model: rest["model"], Dataset: rest["dataset.name"], Settings: rest}
			byGroup[gk] = g
			order = append(order, gk)
		}
		k := cellKey{gk, r.Cell}
		c := cells[k]
		if c == nil {
			c = &CellRuns{Cell: r.Cell}
			cells[k] = c
			g.Cells = append(g.Cells, c)
		}
		addRun(c, r)
	}
	used := map[string]bool{}
	for _, gk := range order {
		g := byGroup[gk]
		pk := keyString(without(g.Settings, "dropout.sites"))
		if c := plains[pk]; c != nil {
			g.Plain, used[pk] = c, true
		}
		groups = append(groups, g)
	}
	for _, pk := range slices.Sorted(maps.Keys(plains)) {
		if !used[pk] {
			st := plainSettings[pk]
			groups = append(groups, &Group{Model: st["model"], Dataset: st["dataset.name"], Settings: st, Plain: plains[pk]})
		}
	}
	for _, g := range groups {
		for _, c := range g.All() {
			slices.SortFunc(c.Runs, func(a, b Run) int { return cmp.Compare(a.Summary.Seed, b.Summary.Seed) })
			c.Acc, c.TrainLoss = stats.Describe(c.values(accOf)), stats.Describe(c.values(trainLossOf))
			for _, r := range append(slices.Clone(c.Runs), c.Diverged...) {
				if p := SettingsOf(r)["dataset.path"]; !slices.Contains(g.Paths, p) {
					g.Paths = append(g.Paths, p)
				}
			}
		}
		slices.SortFunc(g.Cells, func(a, b *CellRuns) int {
			return cmp.Or(strings.Compare(string(b.Semantics), string(a.Semantics)), // layer, the paper's, before elementwise
				cmp.Compare(a.Variant.Rank(), b.Variant.Rank()),
				cmp.Compare(b.Ratio.P, a.Ratio.P), strings.Compare(a.Ratio.String(), b.Ratio.String()))
		})
	}
	Label(groups)
	slices.SortStableFunc(groups, func(a, b *Group) int {
		return cmp.Or(cmp.Compare(modelRank(a.Model), modelRank(b.Model)), strings.Compare(a.Model, b.Model),
			cmp.Compare(datasetRank(a.Dataset), datasetRank(b.Dataset)), strings.Compare(a.Dataset, b.Dataset),
			strings.Compare(a.Label, b.Label))
	})
	return groups, problems
}

// addRun files r under its cell.
func addRun(c *CellRuns, r Run) {
	if !Final(r) {
		c.Partial = append(c.Partial, r)
		return
	}
	if r.Summary.Status == results.StatusDiverged {
		c.Diverged = append(c.Diverged, r)
		return
	}
	c.Runs = append(c.Runs, r)
}

// label sets each group's Label to the settings in which it differs from
// the other groups of its model and data set.
func Label(groups []*Group) {
	type md struct{ model, dataset string }
	peers := map[md][]*Group{}
	for _, g := range groups {
		k := md{g.Model, g.Dataset}
		peers[k] = append(peers[k], g)
	}
	for _, gs := range peers {
		if len(gs) < 2 {
			continue
		}
		keys := map[string]bool{}
		for _, g := range gs {
			for k := range g.Settings {
				keys[k] = true
			}
		}
		var differ []string
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			if k == DataSizeKey {
				continue // the title gives it
			}
			var vals []string
			for _, g := range gs {
				v, ok := g.Settings[k]
				if !ok && k == "dropout.sites" {
					continue // a group of plain runs only has no sites
				}
				if !ok {
					v = "(not set)"
				}
				if !slices.Contains(vals, v) {
					vals = append(vals, v)
				}
			}
			if len(vals) > 1 {
				differ = append(differ, k)
			}
		}
		// The data label first: it is what a reader looks for.
		slices.SortStableFunc(differ, func(a, b string) int {
			return cmp.Compare(boolRank(a != dataLabelKey), boolRank(b != dataLabelKey))
		})
		for _, g := range gs {
			var parts []string
			for _, k := range differ {
				v, ok := g.Settings[k]
				switch {
				case !ok && k == "dropout.sites":
					continue
				case !ok && k == dataLabelKey:
					parts = append(parts, "no data label")
				case k == dataLabelKey:
					parts = append(parts, "data label "+v)
				case !ok && k == dataFingerprintKey:
					parts = append(parts, "no data fingerprint")
				case k == dataFingerprintKey:
					parts = append(parts, "data fingerprint "+v[:min(len(v), 8)])
				case !ok:
					parts = append(parts, k+" not set")
				default:
					parts = append(parts, k+"="+v)
				}
			}
			g.Label = strings.Join(parts, ", ")
		}
	}
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
