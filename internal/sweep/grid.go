package sweep

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/model"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/runner"
)

// Overrides are the command line's changes to a sweep config.
type Overrides struct {
	Ratios []string // replace axes.ratio when not nil
	Seeds  []int64  // replace axes.seed when not nil
	Axes   []string // --axis KEY=V1,V2 arguments, applied after Ratios and Seeds (see ApplyAxisFlags)
	Set    []string // "key=value", applied to every run after the file's set
	Env    []string // environment for config.Load (its DROPEXP_* variables apply to every run)
	// MaxRuns is the most runs the grid may have (0: DefaultMaxRuns); a
	// bigger grid is refused before it is expanded.
	MaxRuns int
}

// DefaultMaxRuns is the most runs a sweep plans unless told otherwise:
// more than any table needs, few enough to plan in seconds.
const DefaultMaxRuns = 100000

// Run is one point of the grid with its resolved configuration.
type Run struct {
	Index   int    // position in the grid: what --index and job arrays select
	Name    string // run directory name, unique in the sweep
	Dataset string // the data set's label
	// DataLabel is Dataset when the sweep has several data sets (and the
	// label leads the run's name), else "": the data label of its report.
	DataLabel string
	Base      string      // the run config file it starts from
	Sets      []string    // the overrides that turn Base into Config
	Config    config.Run  // validated; the scheduler sets Threads and Out
	Axes      []AxisValue // its values of the key axes (Axes.Keys), in their order
}

// Point returns r's grid point as its summary.json records it.
func (r Run) Point() results.SweepPoint {
	p := results.SweepPoint{DataLabel: r.DataLabel}
	for _, kv := range r.Axes {
		if p.Axes == nil {
			p.Axes = map[string]string{}
		}
		p.Axes[kv.Key] = kv.Value
	}
	return p
}

// sweptKeys are the run config keys that the axes own, and how to change each.
var sweptKeys = []struct{ key, how string }{
	{"dropout.variant", "axes.variant or --axis variant=..."},
	{"dropout.ratio", "axes.ratio, --ratios or --axis ratio=..."},
	{"seed", "axes.seed, --seeds or --axis seed=..."},
	{"dropout.gradient", "axes.gradient or --axis gradient=..."},
}

// Expand resolves the grid of s with the command line's overrides o: seeds
// outermost (so a first complete table, one seed per cell, comes early),
// then data sets, the key axes (each combination of their values a table
// of its own), variants, ratios and gradient semantics. Plain runs once
// per seed, data set and key combination, with the first gradient
// semantics (for plain both semantics are the same computation) and the
// first value of the keys it ignores (dropout.sites). Without a variant
// axis the runs take the base config's variant and, without a ratio axis,
// its ratio; without a ratio axis, the base config's ratio (for every
// variant swept); without a seed or gradient axis, its seed and gradient
// semantics. Every run's config goes through config.Load, so its checks
// and messages are the train command's.
func Expand(s *Spec, o Overrides) ([]Run, error) {
	ax := s.Axes
	ax.Keys = slices.Clone(ax.Keys)
	if o.Ratios != nil {
		ax.Ratio = o.Ratios
	}
	if o.Seeds != nil {
		ax.Seed = o.Seeds
	}
	if err := ApplyAxisFlags(&ax, o.Axes); err != nil {
		return nil, err
	}
	if err := checkAxes(s, ax, o); err != nil {
		return nil, err
	}
	if err := checkSize(s, ax, o.MaxRuns); err != nil {
		return nil, err
	}
	if err := checkKeyValues(s, ax, o); err != nil {
		return nil, err
	}
	datasets := ax.Dataset
	if len(datasets) == 0 {
		datasets = []Dataset{{}}
	}
	seeds := make([]string, len(ax.Seed))
	for i, v := range ax.Seed {
		seeds[i] = strconv.FormatInt(v, 10)
	}
	if len(seeds) == 0 {
		seeds = []string{""} // the base config's seed
	}
	gradients := ax.Gradient
	if len(gradients) == 0 {
		gradients = []string{""} // the base config's semantics
	}

	var runs []Run
	var errs []error
	failed := map[string][]string{} // error text -> the grid points it hit, to say it once
	var order []string
	// Each data set's variants and ratios: the axes', or its base config's.
	variants, ratios := make([][]string, len(datasets)), make([][]string, len(datasets))
	baseRatio := make([]string, len(datasets))
	for di, d := range datasets {
		variants[di], ratios[di] = ax.Variant, ax.Ratio
		if len(ax.Variant) > 0 && (len(ax.Ratio) > 0 || !slices.ContainsFunc(ax.Variant, func(v string) bool { return v != string(experiment.Plain) })) {
			continue
		}
		cfg, err := config.Load(baseOf(s, d), datasetSets(s, d, o), o.Env)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", s.Source(), describeDataset(d, di), err))
			continue
		}
		if len(variants[di]) == 0 {
			variants[di] = []string{cfg.Dropout.Variant}
		}
		baseRatio[di] = cfg.Dropout.Ratio
		if len(ratios[di]) == 0 && cfg.Dropout.Ratio != "" {
			ratios[di] = []string{cfg.Dropout.Ratio}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := checkRatios(s, ax, datasets, variants, ratios, baseRatio); err != nil {
		return nil, err
	}
	combos := crossKeys(ax.Keys)
	for _, seed := range seeds {
		for di, d := range datasets {
			for _, kc := range combos {
				for _, v := range variants[di] {
					if v == string(experiment.Plain) && plainSkips(ax.Keys, kc) {
						continue
					}
					for _, ratio := range ratiosFor(experiment.Variant(v), ratios[di], qsFor(d, ax)) {
						gs := gradients
						if v == string(experiment.Plain) {
							gs = gradients[:1]
						}
						for _, g := range gs {
							r, err := resolve(s, d, o, kc, v, ratio, g, seed)
							if err != nil {
								point := describePoint(d, di, kc, v, ratio, g, seed)
								if _, ok := failed[err.Error()]; !ok {
									order = append(order, err.Error())
								}
								failed[err.Error()] = append(failed[err.Error()], point)
								continue
							}
							runs = append(runs, r)
						}
					}
				}
			}
		}
	}
	for _, msg := range order {
		points := failed[msg]
		which := "run " + points[0]
		if len(points) > 1 {
			which = fmt.Sprintf("%d runs (first: %s)", len(points), points[0])
		}
		errs = append(errs, fmt.Errorf("%s: %s: %s", s.Source(), which, msg))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := nameRuns(s, ax.Keys, runs, len(datasets) > 1); err != nil {
		return nil, err
	}
	return runs, nil
}

// Warnings returns the runs' config warnings (config.Run.Warnings), each
// once, with how many of the runs it concerns when not all.
func Warnings(runs []Run) []string {
	count := map[string]int{}
	var order []string
	for _, r := range runs {
		for _, w := range r.Config.Warnings() {
			if count[w] == 0 {
				order = append(order, w)
			}
			count[w]++
		}
	}
	out := make([]string, len(order))
	for i, w := range order {
		out[i] = w
		if count[w] < len(runs) {
			out[i] = fmt.Sprintf("%d of the %d runs: %s", count[w], len(runs), w)
		}
	}
	return out
}

// checkAxes reports problems of the axes as a whole, before any run is resolved.
func checkAxes(s *Spec, ax Axes, o Overrides) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{s.Source()}, args...)...))
	}
	for i, v := range ax.Variant {
		if _, err := experiment.ParseVariant(v); err != nil {
			bad("axes.variant[%d]: %v", i, err)
		}
		if j := slices.Index(ax.Variant, v); j < i {
			bad("axes.variant: %q listed twice", v)
		}
	}
	for i, r := range ax.Ratio {
		if _, _, err := experiment.ParseAnyRatio(r); err != nil {
			bad("axes.ratio[%d] (or --ratios) %q: %v", i, r, err)
		}
	}
	for _, q := range ax.Q {
		if _, err := experiment.ParseRatio(experiment.Standard, q); err != nil {
			bad("axes.q: %v", err)
		}
	}
	for i, g := range ax.Gradient {
		if _, err := experiment.ParseSemantics(g); err != nil {
			bad("axes.gradient[%d]: %v", i, err)
		}
	}
	if _, err := os.Stat(s.Base); s.Base != "" && err != nil {
		bad("base: %v", err)
	}
	labels := map[string]int{}
	for i, d := range ax.Dataset {
		if l := d.Label; l != "" {
			if j, ok := labels[l]; ok {
				bad("axes.dataset[%d] and [%d] are both labelled %q; labels name run directories and must differ", j, i, l)
			}
			labels[l] = i
		}
		if _, err := os.Stat(d.Base); d.Base != "" && err != nil {
			bad("axes.dataset[%d].base: %v", i, err)
		}
		for _, q := range d.Q {
			if _, err := experiment.ParseRatio(experiment.Standard, q); err != nil {
				bad("axes.dataset[%d].q: %v", i, err)
			}
		}
	}
	for i, a := range ax.Keys {
		if j := slices.IndexFunc(ax.Keys, func(b KeyAxis) bool { return b.Key == a.Key }); j < i {
			bad("axis %s is given twice (%s and %s)", a.Key, ax.Keys[j].From, a.From)
		}
	}
	check := func(where string, sets []string) {
		for _, kv := range sets {
			k, _, _ := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			for _, sk := range sweptKeys {
				owned := k == sk.key
				switch sk.key {
				case "seed":
					owned = owned && len(ax.Seed) > 0
				case "dropout.gradient":
					owned = owned && len(ax.Gradient) > 0
				case "dropout.ratio":
					// Without a ratio axis the runs take the ratio of the base config with its sets.
					owned = owned && len(ax.Ratio) > 0
				default:
					// Without a variant axis the base config's variant is the one run.
					owned = owned && len(ax.Variant) > 0
				}
				if owned {
					bad("%s %s: the grid sweeps %s; change it with %s", where, kv, k, sk.how)
				}
			}
			if i := slices.IndexFunc(ax.Keys, func(a KeyAxis) bool { return a.Key == k }); i >= 0 {
				bad("%s %s: the grid sweeps %s (%s); change its values there", where, kv, k, ax.Keys[i].From)
			}
		}
	}
	check("set", s.Set)
	for i, d := range ax.Dataset {
		check(fmt.Sprintf("axes.dataset[%d].set", i), d.Set)
	}
	check("--set", o.Set)
	return errors.Join(errs...)
}

// checkRatios reports each variant of each data set that has no ratio to
// run with, once, saying where its ratios came from: the ratio axis, or
// (without one) the base config's dropout.ratio baseRatio[di].
func checkRatios(s *Spec, ax Axes, datasets []Dataset, variants, ratios [][]string, baseRatio []string) error {
	var errs []error
	seen := map[string]bool{}
	for di, d := range datasets {
		for _, v := range variants[di] {
			if len(ratiosFor(experiment.Variant(v), ratios[di], qsFor(d, ax))) > 0 {
				continue
			}
			msg := noRatio(experiment.Variant(v), len(ax.Ratio) > 0, baseRatio[di])
			if len(datasets) > 1 {
				msg = fmt.Sprintf("data set %s: %s", describeDataset(d, di), msg)
			}
			if !seen[msg] {
				seen[msg] = true
				errs = append(errs, fmt.Errorf("%s: %s", s.Source(), msg))
			}
		}
	}
	return errors.Join(errs...)
}

// noRatio says why variant v has no ratio and how to give it one.
func noRatio(v experiment.Variant, axis bool, base string) string {
	head := fmt.Sprintf("variant %s has no ratio: ", v)
	switch {
	case axis && v.Form() == experiment.RatioPQ:
		return head + "axes.ratio holds only ratios written as p and there is no q; give axes.q (--axis q=0.0002, or the data set's q) or write p/q ratios (--axis ratio=0.3/0.0002)"
	case axis:
		return head + "axes.ratio holds only p/q ratios, which pair with augmented alone; add ratios written as p (--axis ratio=0.3)"
	case base == "":
		return head + "nothing sweeps the ratio and the base config has no dropout.ratio; sweep it with --axis ratio=0.3 (axes.ratio in a sweep file) or set it with --set dropout.ratio=0.3"
	case v.Form() == experiment.RatioPQ:
		return head + fmt.Sprintf("nothing sweeps the ratio and the base config's dropout.ratio %q has no q; give axes.q (--axis q=0.0002) or sweep p/q ratios (--axis ratio=0.3/0.0002)", base)
	}
	return head + fmt.Sprintf("nothing sweeps the ratio and the base config's dropout.ratio %q is a p/q ratio, which pairs with augmented alone; sweep ratios written as p (--axis ratio=0.3) or set one (--set dropout.ratio=0.3)", base)
}

func datasetsOrOne(ds []Dataset) []Dataset {
	if len(ds) == 0 {
		return []Dataset{{}}
	}
	return ds
}

// qsFor returns the q values of augmented for data set d.
func qsFor(d Dataset, ax Axes) []string {
	if len(d.Q) > 0 {
		return d.Q
	}
	return ax.Q
}

// ratiosFor returns the ratios variant v runs with, in canonical spelling:
// none for plain (it has none); for a variant of p/q ratios (augmented),
// p/q entries as written and p entries crossed with qs; for the others,
// the p entries.
func ratiosFor(v experiment.Variant, ratios, qs []string) []string {
	form := v.Form()
	if form == experiment.NoRatio {
		return []string{""}
	}
	var out []string
	add := func(s string) {
		if r, err := experiment.ParseRatio(v, s); err == nil && !slices.Contains(out, r.String()) {
			out = append(out, r.String())
		}
	}
	for _, r := range ratios {
		pq := strings.Contains(r, "/")
		switch {
		case form == experiment.RatioPQ && pq:
			add(r)
		case form == experiment.RatioPQ:
			for _, q := range qs {
				add(strings.TrimSpace(r) + "/" + strings.TrimSpace(q))
			}
		case !pq:
			add(r)
		}
	}
	return out
}

// baseOf returns the run config file the runs of data set d start from.
func baseOf(s *Spec, d Dataset) string {
	if d.Base != "" {
		return d.Base
	}
	return s.Base
}

// datasetSets returns the overrides every run of data set d gets before
// its grid point's: the sweep's set, the data set's, then --set.
func datasetSets(s *Spec, d Dataset, o Overrides) []string {
	sets := slices.Clone(s.Set)
	if d.Name != "" {
		sets = append(sets, "dataset.name="+d.Name)
	}
	if d.Path != "" {
		sets = append(sets, "dataset.path="+d.Path)
	}
	sets = append(sets, d.Set...)
	return append(sets, o.Set...)
}

// checkKeyValues checks each value of each key axis on the first data
// set's base config, as --set checks a value, so a bad value is reported
// once, naming its axis, rather than once per run. When the base config
// does not load as it is, resolve reports that instead.
func checkKeyValues(s *Spec, ax Axes, o Overrides) error {
	if len(ax.Keys) == 0 {
		return nil
	}
	d := datasetsOrOne(ax.Dataset)[0]
	base, sets := baseOf(s, d), datasetSets(s, d, o)
	if _, err := config.Load(base, sets, o.Env); err != nil {
		return nil
	}
	var errs []error
	for _, a := range ax.Keys {
		for _, v := range a.Values {
			kv := a.Key + "=" + v
			cfg, err := config.Load(base, append(slices.Clone(sets), kv), o.Env)
			if err == nil {
				err = model.CheckSites(cfg.Model, cfg.Dropout.Sites)
			}
			if err != nil {
				// The message is config's for --set; the value came from the axis.
				msg := strings.ReplaceAll(err.Error(), "--set "+kv+": ", "")
				msg = strings.ReplaceAll(msg, " (from --set "+kv+")", "")
				errs = append(errs, fmt.Errorf("%s: value %q: %s (fix or drop this value of the axis)", a.From, v, msg))
			}
		}
	}
	return errors.Join(errs...)
}

// resolve loads one run's configuration.
func resolve(s *Spec, d Dataset, o Overrides, keys []AxisValue, variant, ratio, gradient, seed string) (Run, error) {
	base := baseOf(s, d)
	sets := datasetSets(s, d, o)
	for _, kv := range keys {
		sets = append(sets, kv.Key+"="+kv.Value)
	}
	sets = append(sets, "dropout.variant="+variant, "dropout.ratio="+ratio)
	if gradient != "" {
		sets = append(sets, "dropout.gradient="+gradient)
	}
	if seed != "" {
		sets = append(sets, "seed="+seed)
	}
	cfg, err := config.Load(base, sets, o.Env)
	if err == nil && len(keys) > 0 {
		err = model.CheckSites(cfg.Model, cfg.Dropout.Sites)
	}
	if err != nil {
		return Run{}, err
	}
	label := d.Label
	if label == "" {
		label = d.Name
	}
	if label == "" {
		label = cfg.Dataset.Name
	}
	return Run{Dataset: label, Base: base, Sets: sets, Config: cfg, Axes: keys}, nil
}

// describePoint names a grid point in an error message.
func describePoint(d Dataset, di int, keys []AxisValue, variant, ratio, gradient, seed string) string {
	parts := []string{variant}
	if ratio != "" {
		parts = append(parts, ratio)
	}
	if gradient != "" {
		parts = append(parts, gradient)
	}
	if seed != "" {
		parts = append(parts, "seed "+seed)
	}
	for _, kv := range keys {
		parts = append(parts, kv.Key+"="+kv.Value)
	}
	return strings.Join(parts, " ") + " on " + describeDataset(d, di)
}

func describeDataset(d Dataset, i int) string {
	switch {
	case d.Label != "":
		return d.Label
	case d.Name != "":
		return d.Name
	case d.Base != "":
		return d.Base
	}
	if i == 0 {
		return "the base data set"
	}
	return fmt.Sprintf("axes.dataset[%d]", i)
}

// nameRuns gives each run its directory name and index: the variant, ratio,
// gradient and seed (runner.Name, as train names a run) after the data
// set's label when there are several, then the key axes' values. Names
// must be unique; as the values are spelled canonically in names (0.010
// as 0.01), two values of an axis that mean one thing give one name.
func nameRuns(s *Spec, keys []KeyAxis, runs []Run, withDataset bool) error {
	seen := map[string]int{}
	short := shortKeys(keys)
	var errs []error
	for i := range runs {
		r := &runs[i]
		name := runner.Name(r.Config)
		if withDataset {
			name = r.Dataset + "-" + name
			r.DataLabel = r.Dataset
		}
		name += keyName(keys, short, r.Axes, r.Config.Variant() == experiment.Plain)
		r.Index, r.Name = i, name
		if j, ok := seen[name]; ok {
			errs = append(errs, fmt.Errorf("%s: runs %d and %d are both named %s (a value listed twice in the axes, e.g. ratios 0.3 and 0.30, or two data sets with one label)", s.Source(), j, i, name))
		}
		seen[name] = i
	}
	return errors.Join(errs...)
}

// checkSize refuses a grid of more than maxRuns runs (0: DefaultMaxRuns)
// from the lengths of its axes, before anything of its size is made:
// --axis with 10^8 combinations grew without end while it was planned.
// The count is a bound (plain is not crossed with ratios and gradients,
// nor with the values of keys it ignores), exact for the other variants.
func checkSize(s *Spec, ax Axes, maxRuns int) error {
	if maxRuns <= 0 {
		maxRuns = DefaultMaxRuns
	}
	limit := uint64(maxRuns)
	n := uint64(1)
	mul := func(k int) {
		// Saturating: a product past the limit stays just past it.
		if k > 1 {
			if n > limit/uint64(k) {
				n = limit + 1
			} else {
				n *= uint64(k)
			}
		}
	}
	mul(len(ax.Seed))
	mul(len(ax.Dataset))
	for _, k := range ax.Keys {
		mul(len(k.Values))
	}
	qs := len(ax.Q)
	for _, d := range ax.Dataset {
		qs = max(qs, len(d.Q))
	}
	perPoint := 0 // runs per seed, data set and key combination
	variants := ax.Variant
	if len(variants) == 0 {
		variants = []string{""} // the base config's: as many runs as ratios
	}
	for _, v := range variants {
		switch v {
		case string(experiment.Plain):
			perPoint++
		default:
			perPoint += max(len(ax.Ratio)*max(qs, 1), 1) * max(len(ax.Gradient), 1)
		}
	}
	mul(perPoint)
	if n > limit {
		return fmt.Errorf("%s: the grid has more than %d runs (the product of its axes' lengths); split it into several sweeps, shorten an axis, or raise the limit with --max-runs", s.Source(), maxRuns)
	}
	return nil
}
