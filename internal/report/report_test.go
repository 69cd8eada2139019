package report

import (
	"bytes"
	"cmp"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/report/analysis"
	"github.com/dropexp/dropexp/internal/results"
)

// fakeRun is a run directory to write for a test, as dropexp train writes
// one: the resolved config.yaml, metrics.csv and summary.json.
type fakeRun struct {
	model, dataset, semantics, variant, ratio string
	seed                                      int64
	status                                    string // "" writes no summary (an unfinished run)
	acc                                       float64
	loss                                      float64           // final training loss; 0: 1.5 − acc
	label                                     string            // a sweep's data label: in front of the run name and in summary.json
	edit                                      func(*config.Run) // changes to the protocol config
	train, test                               int               // images; 0: 1000 and 200
	fingerprint                               string            // summary.json's data_fingerprint ("": none, as before runs recorded it)
	suffix                                    string            // after the run name, as a name taken by another identity gets
}

// protocolConfig returns the shipped protocol config of model on dataset.
func protocolConfig(t *testing.T, model, dataset string) config.Run {
	t.Helper()
	file := "../../configs/convnet-quick-cifar10.yaml"
	if model == analysis.Table2Model {
		file = "../../configs/resnet20-" + dataset + ".yaml"
	}
	cfg, err := config.Load(file, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// writeRuns writes the runs as run directories under dir/runs/ (a sweep
// directory), with metrics whose losses fall with the iteration.
func writeRuns(t *testing.T, dir string, runs []fakeRun) {
	t.Helper()
	for i, r := range runs {
		ds := r.dataset
		if ds == "imagefolder" {
			ds = "cifar10"
		}
		cfg := protocolConfig(t, r.model, ds)
		cfg.Seed, cfg.Dataset.Name = r.seed, r.dataset
		cfg.Dropout.Variant, cfg.Dropout.Ratio, cfg.Dropout.Gradient = r.variant, r.ratio, cmp.Or(r.semantics, "layer")
		cfg.Out, cfg.Threads = dir, 1
		if r.edit != nil {
			r.edit(&cfg)
		}
		ratio := r.ratio
		if r.variant == "plain" {
			ratio = ""
		}
		name := results.RunName(r.variant, ratio, cfg.Dropout.Gradient, r.seed)
		if r.label != "" {
			name = r.label + "-" + name
		}
		name += r.suffix
		rd := filepath.Join(dir, "runs", name)
		if _, err := os.Stat(rd); err == nil {
			rd += fmt.Sprintf("-dup%d", i) // a copy elsewhere, as a second --in would give
		}
		if err := os.MkdirAll(rd, 0o755); err != nil {
			t.Fatal(err)
		}
		y, err := cfg.YAML()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(rd, results.ConfigFile), y, 0o644); err != nil {
			t.Fatal(err)
		}
		loss := r.loss
		if loss == 0 {
			loss = 1.5 - r.acc
		}
		var m []results.Metric
		for it := 100; it <= 300; it += 100 {
			m = append(m, results.Metric{Iteration: it, TrainLoss: loss * 300 / float64(it), TestLoss: 2.5 / float64(it) * 100, TestAcc: r.acc})
		}
		if err := results.WriteMetrics(filepath.Join(rd, results.MetricsFile), m); err != nil {
			t.Fatal(err)
		}
		if r.status == "" {
			continue
		}
		train, test := r.train, r.test
		if train == 0 {
			train, test = 1000, 200
		}
		sum := results.Summary{Status: r.status, Model: r.model, Dataset: r.dataset, DatasetPath: cfg.Dataset.Path, Semantics: cfg.Dropout.Gradient,
			Variant: r.variant, Ratio: ratio, Seed: r.seed, FinalTestAcc: r.acc, FinalTrainLoss: loss, Iterations: cfg.Train.Iterations,
			TrainSize: train, TestSize: test}
		if r.label != "" {
			sum.Sweep = &results.SweepPoint{DataLabel: r.label}
		}
		if r.status == results.StatusDiverged {
			sum.FinalTestAcc, sum.FinalTrainLoss, sum.DivergedAt = math.NaN(), math.NaN(), 150
		}
		sp := filepath.Join(rd, results.SummaryFile)
		if err := results.WriteSummary(sp, sum); err != nil {
			t.Fatal(err)
		}
		if r.fingerprint != "" {
			data, _ := os.ReadFile(sp)
			data = bytes.Replace(data, []byte("{\n"), []byte(`{
  "data_fingerprint": "`+r.fingerprint+`",
`), 1)
			if err := os.WriteFile(sp, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func collect(t *testing.T, runs []fakeRun) (string, analysis.Collection) {
	t.Helper()
	dir := t.TempDir()
	writeRuns(t, dir, runs)
	c, err := analysis.Collect(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, c
}

// cq is a finished ConvNet-Quick run on 1000/200 images of cifar10.
func cq(variant, ratio string, seed int64, acc float64) fakeRun {
	return fakeRun{model: analysis.Table1Model, dataset: "cifar10", variant: variant, ratio: ratio, seed: seed, status: results.StatusFinished, acc: acc}
}

// full makes r a run on the full CIFAR-10.
func full(r fakeRun) fakeRun { r.train, r.test = 50000, 10000; return r }

func with(r fakeRun, f func(*fakeRun)) fakeRun { f(&r); return r }

func lr(v float64) func(*config.Run) { return func(c *config.Run) { c.Train.LR = v } }

// markdown builds both tables of runs and returns table1.md.
func markdown(t *testing.T, runs []fakeRun) (string, []*analysis.Group) {
	t.Helper()
	_, c := collect(t, runs)
	groups, _ := analysis.Groups(c.Runs)
	return TableMarkdown(analysis.BuildTable(analysis.Table1Model, groups), ""), groups
}

// TestGroupingKeepsDifferentRunsApart reproduces the two ways the report
// used to average runs that were not seeds of one run.
func TestGroupingKeepsDifferentRunsApart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		runs   []fakeRun
		groups []string // Group.Name of each group, in order
		want   []string // in table1.md
		absent []string // not in table1.md
	}{
		{
			// A sweep with two data sets labelled synth and real, both of
			// dataset.name cifar10, gave "0.7000 ± 0.4243 (n=2)".
			name: "two data labels",
			runs: []fakeRun{
				with(cq("plain", "", 1, 0.4), func(r *fakeRun) { r.label = "synth" }),
				with(full(cq("plain", "", 1, 1.0)), func(r *fakeRun) { r.label = "real" }),
				with(cq("standard", "0.3", 1, 0.3), func(r *fakeRun) { r.label = "synth" }),
				with(full(cq("standard", "0.3", 1, 0.9)), func(r *fakeRun) { r.label = "real" }),
			},
			groups: []string{"convnet-quick cifar10 50000/10000, data label real", "convnet-quick cifar10 1000/200, data label synth"},
			want: []string{
				"## ConvNet-Quick on CIFAR-10, data label real\n",
				"## ConvNet-Quick on 1000/200 images in CIFAR-10's format (not the full CIFAR-10), data label synth\n",
				"| plain | – | – | 1 | 0.4000 | none (n=1) | – | 1.1000 |",
				"| plain | – | – | 1 | 1.0000 | none (n=1) | – | 0.5000 |",
			},
			absent: []string{"0.7000", "n=2"},
		},
		{
			// Same labels and sizes, different data: the label alone splits them.
			name: "two data labels of one size",
			runs: []fakeRun{
				with(cq("standard", "0.3", 1, 0.4), func(r *fakeRun) { r.label = "synthA" }),
				with(cq("standard", "0.3", 1, 1.0), func(r *fakeRun) { r.label = "synthB" }),
			},
			groups: []string{"convnet-quick cifar10 1000/200, data label synthA", "convnet-quick cifar10 1000/200, data label synthB"},
		},
		{
			// A conflicting run with another learning rate was averaged in.
			name: "another lr",
			runs: []fakeRun{
				cq("plain", "", 1, 0.75), cq("plain", "", 2, 0.76),
				cq("standard", "0.3", 1, 0.70), cq("standard", "0.3", 2, 0.72),
				with(cq("standard", "0.3", 3, 0.50), func(r *fakeRun) { r.edit = lr(0.002) }),
			},
			groups: []string{"convnet-quick cifar10 1000/200, train.lr=0.001", "convnet-quick cifar10 1000/200, train.lr=0.002"},
			want: []string{
				"## ConvNet-Quick on 1000/200 images in CIFAR-10's format (not the full CIFAR-10), train.lr=0.002\n",
				"| standard | 0.3 | layer | 2 | 0.7100 | [0.5829, 0.8371] | 0.0141 |",
				"| standard | 0.3 | layer | 1 | 0.5000 | none (n=1) |",
			},
			absent: []string{"| standard | 0.3 | layer | 3 |"},
		},
		{
			// Where and how fast a run went, and which copy of the data it
			// read, change nothing it computes; a config written before
			// crop_pad and flip existed has their defaults.
			name: "seeds of one run",
			runs: []fakeRun{
				with(cq("standard", "0.3", 1, 0.70), func(r *fakeRun) {
					r.edit = func(c *config.Run) {
						c.Threads, c.Out, c.Train.CheckpointEvery, c.Dataset.Path = 2, "/elsewhere", 7, "/copy/of/data"
					}
				}),
				cq("standard", "0.3", 2, 0.72),
				cq("standard", "0.30", 3, 0.74),
			},
			groups: []string{"convnet-quick cifar10 1000/200"},
			want:   []string{"| standard | 0.3 | layer | 3 | 0.7200 | [0.6703, 0.7697] | 0.0200 |"},
		},
		{
			// Plain drops nothing, so its sites do not matter: it serves
			// both groups that differ only in the sites.
			name: "plain serves groups that differ in sites",
			runs: []fakeRun{
				cq("plain", "", 1, 0.75), cq("plain", "", 2, 0.76),
				cq("standard", "0.3", 1, 0.70),
				with(cq("standard", "0.3", 1, 0.71), func(r *fakeRun) {
					r.edit = func(c *config.Run) { c.Dropout.Sites = []string{"ip1"} }
				}),
			},
			groups: []string{"convnet-quick cifar10 1000/200, dropout.sites=[conv2, conv3, ip1, ip2]", "convnet-quick cifar10 1000/200, dropout.sites=[ip1]"},
			want:   []string{"| plain | – | – | 2 | 0.7550 |"},
		},
		{
			// Runs that recorded their data's fingerprint: another
			// fingerprint is other data, whatever its path and label.
			name: "data fingerprints",
			runs: []fakeRun{
				with(cq("standard", "0.3", 1, 0.70), func(r *fakeRun) { r.fingerprint = "aaaaaaaa11" }),
				with(cq("standard", "0.3", 2, 0.72), func(r *fakeRun) {
					r.fingerprint = "aaaaaaaa11"
					r.edit = func(c *config.Run) { c.Dataset.Path = "/copy" }
				}),
				with(cq("standard", "0.3", 3, 0.50), func(r *fakeRun) { r.fingerprint = "bbbbbbbb22" }),
				cq("standard", "0.3", 4, 0.60),
			},
			groups: []string{"convnet-quick cifar10 1000/200, data fingerprint aaaaaaaa", "convnet-quick cifar10 1000/200, data fingerprint bbbbbbbb",
				"convnet-quick cifar10 1000/200, no data fingerprint"},
			want: []string{"| standard | 0.3 | layer | 2 | 0.7100 |", "Data: cifar10 from cifar10, copy."},
		},
		{
			// A run directory whose name was taken gets the identity's first 8 hex digits.
			name: "identity suffix",
			runs: []fakeRun{
				with(cq("standard", "0.3", 1, 0.4), func(r *fakeRun) { r.label = "synthA"; r.suffix = "-0123abcd" }),
				with(cq("standard", "0.3", 2, 0.5), func(r *fakeRun) { r.label = "synthA" }),
				with(cq("standard", "0.3", 1, 1.0), func(r *fakeRun) { r.label = "synthB" }),
			},
			groups: []string{"convnet-quick cifar10 1000/200, data label synthA", "convnet-quick cifar10 1000/200, data label synthB"},
		},
		{
			name: "another dropexp version's config",
			runs: []fakeRun{
				cq("standard", "0.3", 1, 0.70),
				cq("standard", "0.3", 2, 0.72),
			},
			groups: []string{"convnet-quick cifar10 1000/200"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, c := collect(t, tc.runs)
			if tc.name == "another dropexp version's config" {
				// Rewrite the second run's config.yaml without the keys an
				// older dropexp did not know.
				old := filepath.Join(dir, "runs", "standard-p0.3-layer-s2")
				y, _ := os.ReadFile(filepath.Join(old, results.ConfigFile))
				var kept []string
				for _, l := range strings.Split(string(y), "\n") {
					if !strings.Contains(l, "crop_pad:") && !strings.Contains(l, "flip:") {
						kept = append(kept, l)
					}
				}
				if err := os.WriteFile(filepath.Join(old, results.ConfigFile), []byte(strings.Join(kept, "\n")), 0o644); err != nil {
					t.Fatal(err)
				}
				var err error
				if c, err = analysis.Collect(dir); err != nil {
					t.Fatal(err)
				}
			}
			groups, problems := analysis.Groups(c.Runs)
			var names []string
			for _, g := range groups {
				names = append(names, g.Name())
			}
			if strings.Join(names, "\n") != strings.Join(tc.groups, "\n") {
				t.Errorf("groups\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(tc.groups, "\n"))
			}
			if len(problems) > 0 || len(c.Problems) > 0 {
				t.Errorf("problems: %q %q", problems, c.Problems)
			}
			md := TableMarkdown(analysis.BuildTable(analysis.Table1Model, groups), "")
			for _, w := range tc.want {
				if !strings.Contains(md, w) {
					t.Errorf("table1.md lacks\n%q\n%s", w, md)
				}
			}
			for _, w := range tc.absent {
				if strings.Contains(md, w) {
					t.Errorf("table1.md has %q\n%s", w, md)
				}
			}
		})
	}
}

func TestDuplicateRunsCountOnce(t *testing.T) {
	_, c := collect(t, []fakeRun{cq("standard", "0.3", 1, 0.70), cq("standard", "0.3", 1, 0.70), cq("standard", "0.3", 2, 0.72)})
	groups, problems := analysis.Groups(c.Runs)
	if len(groups) != 1 || groups[0].Cells[0].Acc.N != 2 || len(problems) != 1 || !strings.Contains(problems[0], "same config and seed") {
		t.Errorf("groups %d, problems %q", len(groups), problems)
	}
}

// table1Runs: the full CIFAR-10 under the Table 1 protocol. Plain and
// standard 0.3 ran seeds 1–3; forward 0.3 seeds 1 and 2 finished and 3
// diverged (so it pairs with nobody); backward 0.3 ran seeds 1–3;
// forward 0.1 once; forward 0.3 also under the elementwise rule.
var table1Runs = []fakeRun{
	full(cq("plain", "", 1, 0.750)), full(cq("plain", "", 2, 0.760)), full(cq("plain", "", 3, 0.755)),
	full(cq("standard", "0.3", 1, 0.700)), full(cq("standard", "0.3", 2, 0.712)), full(cq("standard", "0.3", 3, 0.703)),
	full(cq("forward", "0.3", 1, 0.650)), full(cq("forward", "0.3", 2, 0.640)),
	with(full(cq("forward", "0.3", 3, 0)), func(r *fakeRun) { r.status = results.StatusDiverged }),
	full(cq("backward", "0.3", 1, 0.701)), full(cq("backward", "0.3", 2, 0.709)), full(cq("backward", "0.3", 3, 0.700)),
	full(cq("forward", "0.1", 1, 0.700)),
	with(full(cq("forward", "0.3", 1, 0.660)), func(r *fakeRun) { r.semantics = "elementwise" }),
	with(full(cq("forward", "0.3", 2, 0.662)), func(r *fakeRun) { r.semantics = "elementwise" }),
	with(full(cq("backward", "0.3", 4, 0)), func(r *fakeRun) { r.status = "" }),
}

func TestTable1(t *testing.T) {
	_, c := collect(t, table1Runs)
	if len(c.Runs) != 15 || len(c.Pending) != 1 {
		t.Fatalf("%d runs, %d pending", len(c.Runs), len(c.Pending))
	}
	groups, _ := analysis.Groups(c.Runs)
	tab := analysis.BuildTable(analysis.Table1Model, groups)
	md := TableMarkdown(tab, c.Note([]string{"SWEEP"}))
	for _, want := range []string{
		"From SWEEP: 14 finished runs, 1 diverged, 1 not finished (left out).",
		"## ConvNet-Quick on CIFAR-10\n\nRuns: 5000 iterations, 50000 train / 10000 test images; seeds 1, 2, 3. Data: cifar10 from cifar10.\n",
		// testdata/table1_reference.py: mean 0.755, std 0.005, t.interval(0.95, 2) = [0.74258, 0.76742]
		"| plain | – | – | 3 | 0.7550 | [0.7426, 0.7674] | 0.0050 | 0.7450 [0.7326, 0.7574] |",
		// significantly below plain after Holm
		"| standard | 0.3 | layer | 3 | 0.7050 ▼ | [0.6895, 0.7205] | 0.0062 |",
		"| forward | 0.3 | layer | 2 (+1 diverged) | 0.6450 ▼ | [0.5815, 0.7085] | 0.0071 |",
		"| forward | 0.1 | layer | 1 | 0.7000 | none (n=1) | – | 0.8000 |",
		"| forward | 0.3 | elementwise | 2 | 0.6610 ▼ |",
		"A cell with n = 1 has no interval",
		// the paper's values for the layer rule; none for forward under elementwise
		"| plain | – | – | 0.7550 | [0.7426, 0.7674] | 0.7579 | -0.0029 | yes |",
		"| standard | 0.3 | layer | 0.7050 | [0.6895, 0.7205] | 0.7523 | -0.0473 | no |",
		"| forward | 0.3 | elementwise | 0.6610 | [0.6483, 0.6737] | – | – | no paper value |",
		// testdata/table1_reference.py: ttest_rel p = 0.000533, Holm over the 9 tests 0.00426
		"| **standard/0.3/layer** | **plain** | paired | 3 pairs | **-0.0500** | [-0.0550, -0.0450] | 0.0005 | 0.0043 * |",
		// Welch p = 0.0577, Holm 0.0288
		"| **forward/0.3/layer** | **plain** | welch | 2 / 3 | **-0.1100** | [",
		"| 0.0058 | 0.0288 * |",
		// standard's one rule: the elementwise cell meets its layer runs; Welch p = 0.00425, Holm 0.0255
		"| **forward/0.3/elementwise** | **standard/0.3/layer** | welch | 2 / 3 | **-0.0440** | [",
		"| 0.0043 | 0.0255 * |",
		// paired p = 0.338, Holm 0.457
		"| backward/0.3/layer | standard/0.3/layer | paired | 3 pairs | -0.0017 | [-0.0074, +0.0041] | 0.3377 | 0.4568 |",
		// Welch p = 0.0171, Holm 0.0513: not significant
		"| forward/0.3/layer | backward/0.3/layer | welch | 2 / 3 | -0.0583 | [",
		"| forward/0.1/layer | plain | – | 1 / 3 | -0.0550 | not possible: n=1 against n=3 (a test needs 2 runs on each side) | – | – |",
		"| forward/0.3/layer | forward/0.3/elementwise | paired | 2 pairs |",
		"Not run (of the paper's grid): standard, backward at 0.2, 0.1, 0.05, 0.01, 0.005; forward at 0.2, 0.05, 0.01, 0.005.\n",
		// the paper's layout: mean ± the interval's half-width, n where it is not the section's 3, the paper's value
		"Plain network: 0.7550 ± 0.0124 [0.7579]. ▲/▼: above/below plain, significant after Holm. –: not run.\n\n| variant | gradient | 0.3 | 0.1 |\n",
		"| forward | layer | 0.6450 ± 0.0635 (n=2) ▼ [0.6908] | 0.7000 (n=1) [0.7482] |\n",
		"| backward | layer | 0.7033 ± 0.0123 ▼ [0.7433] | – |\n| forward | elementwise | 0.6610 ± 0.0127 (n=2) ▼ | – |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table1.md lacks\n%q\n%s", want, md)
		}
	}
	if strings.Contains(md, "NaN") || strings.Contains(md, "n=0") {
		t.Errorf("table1.md prints NaN or an empty cell:\n%s", md)
	}
	csv := TableCSV(tab)
	for _, want := range []string{
		"variant,ratio,semantics,n,mean,std,ci95_low,ci95_high,paper,diff_paper,diverged,group\n",
		"plain,,,3,0.755000,0.005000,0.742579,0.767421,0.757900,-0.002900,0,convnet-quick cifar10 50000/10000\n",
		"forward,0.3,layer,2,0.645000,0.007071,0.581469,0.708531,0.690800,-0.045800,1,convnet-quick cifar10 50000/10000\n",
		"forward,0.1,layer,1,0.700000,,,,0.748200,-0.048200,0,convnet-quick cifar10 50000/10000\n",
		"forward,0.3,elementwise,2,0.661000,0.001414,0.648294,0.673706,,,0,convnet-quick cifar10 50000/10000\n",
	} {
		if !strings.Contains(csv, want) {
			t.Errorf("table1.csv lacks %q\n%s", want, csv)
		}
	}
	if strings.Contains(csv, "NaN") {
		t.Errorf("table1.csv prints NaN:\n%s", csv)
	}
	comp := comparisonsCSV(tab)
	for _, want := range []string{
		"a,b,test,n_a,n_b,diff,ci95_low,ci95_high,p,p_holm,group,note\n",
		"standard/0.3/layer,plain,paired,3,3,-0.050000,-0.054968,-0.045032,0.000532907,0.004263,convnet-quick cifar10 50000/10000,\n",
		"forward/0.3/layer,backward/0.3/layer,welch,2,3,-0.058333,",
		",0.017104,0.051312,convnet-quick cifar10 50000/10000,\n",
		"forward/0.1/layer,plain,none,1,3,-0.055000,,,,,convnet-quick cifar10 50000/10000,not possible: n=1 against n=3 (a test needs 2 runs on each side)\n",
	} {
		if !strings.Contains(comp, want) {
			t.Errorf("comparisons.csv lacks %q\n%s", want, comp)
		}
	}
}

func TestPaperColumn(t *testing.T) {
	for _, tc := range []struct {
		name string
		runs []fakeRun
		want string
	}{
		{"full CIFAR-10, Table 1 protocol", []fakeRun{full(cq("standard", "0.3", 1, 0.7))}, "| standard | 0.3 | layer | 0.7000 | none (n=1) | 0.7523 | -0.0523 | – |"},
		{"JPEG copy as an image folder", []fakeRun{with(full(cq("standard", "0.3", 1, 0.7)), func(r *fakeRun) { r.dataset = "imagefolder" })},
			"Note: the image folder has CIFAR-10's 50000/10000 images and is taken for CIFAR-10"},
		{"small synthetic set in CIFAR-10's format", []fakeRun{cq("standard", "0.3", 1, 0.7)},
			"No paper column: the runs used 1000/200 images of cifar10, not the full CIFAR-10 (50000/10000) the paper's numbers are for."},
		{"another protocol", []fakeRun{with(full(cq("standard", "0.3", 1, 0.7)), func(r *fakeRun) { r.edit = lr(0.002) })},
			"No paper column: the runs do not follow the paper's protocol (configs/convnet-quick-cifar10.yaml): train.lr=0.002 (the protocol's 0.001)."},
		{"MNIST", []fakeRun{with(cq("standard", "0.3", 1, 0.7), func(r *fakeRun) { r.dataset = "mnist" })},
			"No paper column: the paper has no ConvNet-Quick on mnist."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md, _ := markdown(t, tc.runs)
			if !strings.Contains(md, tc.want) {
				t.Errorf("table1.md lacks\n%q\n%s", tc.want, md)
			}
			if strings.HasPrefix(tc.want, "No paper column") && strings.Contains(md, "| paper |") {
				t.Errorf("a paper column:\n%s", md)
			}
		})
	}
}

// resnet is a finished ResNet-20 run on the full data set under the Table 2 protocol.
func resnet(dataset, variant, ratio string, seed int64, acc float64) fakeRun {
	r := fakeRun{model: analysis.Table2Model, dataset: dataset, variant: variant, ratio: ratio, seed: seed, status: results.StatusFinished, acc: acc}
	r.train, r.test = 50000, 10000
	if dataset == "svhn" {
		r.train, r.test = 73257, 26032
	}
	return r
}

func TestTable2(t *testing.T) {
	_, c := collect(t, []fakeRun{
		resnet("svhn", "standard", "0.1", 1, 0.95), resnet("svhn", "standard", "0.1", 2, 0.97),
		resnet("svhn", "augmented", "0.1/0.0002", 1, 0.96), resnet("svhn", "augmented", "0.1/0.0002", 2, 0.975),
		resnet("cifar10", "augmented", "0.2/0.001", 1, 0.90),
	})
	groups, _ := analysis.Groups(c.Runs)
	tab := analysis.BuildTable(analysis.Table2Model, groups)
	md := TableMarkdown(tab, "")
	for _, want := range []string{
		"## ResNet-20 on SVHN\n",
		"| standard | 0.1 | layer | 2 | 0.9600 | [0.8329, 1.0871] | 0.0141 |",
		"| augmented | 0.1/0.0002 | layer | 0.9675 | [0.8722, 1.0628] | 0.9627 | +0.0048 | yes |",
		// testdata/table1_reference.py: ttest_rel p = 0.2048
		"| augmented/0.1/0.0002/layer | standard/0.1/layer | paired | 2 pairs | +0.0075 | [-0.0243, +0.0393] | 0.2048 | 0.2048 |",
		"## ResNet-20 on CIFAR-10\n",
		// another q than the paper's: no paper value for that cell
		"| augmented | 0.2/0.001 | layer | 0.9000 | none (n=1) | – | – | no paper value |",
		"Not run (of the paper's grid): standard 0.2; augmented 0.2/0.0002; standard 0.3",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table2.md lacks\n%q\n%s", want, md)
		}
	}
	if strings.Index(md, "SVHN") > strings.Index(md, "CIFAR-10") {
		t.Errorf("the paper's order puts SVHN first:\n%s", md)
	}
	if !strings.Contains(TableCSV(tab), "augmented,0.1/0.0002,layer,2,0.967500,0.010607,0.872203,1.062797,0.962700,0.004800,0,resnet20 svhn 73257/26032\n") {
		t.Errorf("table2.csv:\n%s", TableCSV(tab))
	}
}

func TestWrite(t *testing.T) {
	dir, _ := collect(t, append(append([]fakeRun{}, table1Runs...), resnet("svhn", "standard", "0.1", 1, 0.95), resnet("svhn", "augmented", "0.1/0.0002", 1, 0.96)))
	out := filepath.Join(t.TempDir(), "report")
	if d := os.Getenv("REPORT_TEST_OUT"); d != "" {
		out = d
	}
	files, c, err := Write(Options{In: []string{dir}, Out: out, FigRatios: []string{"0.3", "0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{Table1MD, Table1CSV, Table2MD, Table2CSV, ComparisonsCSV, FindingsMD, RunsCSV, Figure1PNG, Figure1SVG, AccuracyPNG, AccuracySVG, IndexHTML}
	if len(c.Runs) != 17 || len(files) != len(names) {
		t.Errorf("%d runs, files %q", len(c.Runs), files)
	}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(data) < 100 {
			t.Errorf("%s: %d bytes", name, len(data))
		}
		switch filepath.Ext(name) {
		case ".png":
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Errorf("%s: %v", name, err)
			} else if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 300 {
				t.Errorf("%s: %v", name, b)
			}
		case ".svg":
			if !bytes.HasPrefix(data, []byte("<?xml")) || !bytes.Contains(data, []byte("</svg>")) {
				t.Errorf("%s is not an SVG document", name)
			}
		case ".md", ".csv":
			if bytes.Contains(data, []byte("NaN")) {
				t.Errorf("%s prints NaN", name)
			}
		}
	}
	comp, _ := os.ReadFile(filepath.Join(out, ComparisonsCSV))
	if !bytes.Contains(comp, []byte("augmented/0.1/0.0002/layer,standard/0.1/layer,none,1,1,")) {
		t.Errorf("comparisons.csv lacks Table 2's comparison:\n%s", comp)
	}
	// Figure 1 has a row per ConvNet-Quick group and ratio that has runs: the
	// layer group at 0.3 and 0.1, the elementwise one at 0.3; ResNet-20
	// (SVHN at 0.1) only when there is no ConvNet-Quick run.
	if fig, _ := Figure1(c.Runs, []experiment.Ratio{{P: 0.3}, {P: 0.1}}); len(fig.Rows) != 3 {
		t.Errorf("figure 1 has %d rows, want 3", len(fig.Rows))
	}
	var rn []analysis.Run
	for _, r := range c.Runs {
		if r.Summary.Model == analysis.Table2Model {
			rn = append(rn, r)
		}
	}
	if fig, _ := Figure1(rn, []experiment.Ratio{{P: 0.3}, {P: 0.1}}); len(fig.Rows) != 1 {
		t.Errorf("figure 1 of the ResNet-20 runs has %d rows, want 1", len(fig.Rows))
	}
	svg, _ := os.ReadFile(filepath.Join(out, Figure1SVG))
	for _, want := range []string{"standard 0.3 (n=3)", "plain (n=3)", "forward 0.1 (n=1)"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("figure1.svg lacks the legend entry %q", want)
		}
	}
}

func TestWriteWithoutRuns(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Write(Options{In: []string{dir}}); err == nil || !strings.Contains(err.Error(), "no run directories under") {
		t.Errorf("got %v", err)
	}
	if _, _, err := Write(Options{In: []string{filepath.Join(dir, "nope")}}); err == nil || !strings.Contains(err.Error(), "pass a sweep directory") {
		t.Errorf("got %v", err)
	}
	// Unfinished runs only: tables that say so, and no figures but a warning each.
	writeRuns(t, dir, []fakeRun{{model: analysis.Table1Model, dataset: "cifar10", variant: "plain", seed: 1}})
	files, c, err := Write(Options{In: []string{dir}})
	if err != nil || len(files) != 8 || len(c.Warnings) != 2 {
		t.Errorf("files %q, warnings %q, %v", files, c.Warnings, err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, Table1MD))
	if !bytes.Contains(md, []byte("No finished ConvNet-Quick runs.")) {
		t.Errorf("table1.md:\n%s", md)
	}
}

func TestCollectLayouts(t *testing.T) {
	// A results root of dropexp train (run directories directly inside) and
	// a single run directory both work, and a directory given twice counts once.
	root := t.TempDir()
	writeRuns(t, root, []fakeRun{cq("plain", "", 1, 0.7), cq("plain", "", 2, 0.71)})
	runs := filepath.Join(root, "runs")
	entries, _ := os.ReadDir(runs)
	one := filepath.Join(runs, entries[0].Name())
	c, err := analysis.Collect(runs, one, root)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Runs) != 2 {
		t.Errorf("%d runs, want 2", len(c.Runs))
	}
}

func TestUnreadableConfig(t *testing.T) {
	dir, _ := collect(t, []fakeRun{cq("plain", "", 1, 0.7)})
	entries, _ := os.ReadDir(filepath.Join(dir, "runs"))
	p := filepath.Join(dir, "runs", entries[0].Name(), results.ConfigFile)
	if err := os.WriteFile(p, []byte("model: [unclosed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := analysis.Collect(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Runs) != 1 || len(c.Problems) != 1 || !strings.Contains(c.Problems[0], p) || !strings.Contains(c.Problems[0], "grouped by summary.json alone") {
		t.Errorf("runs %d, problems %q", len(c.Runs), c.Problems)
	}
}

// A group's heading names its data as the figures do; a small or synthetic
// set in a paper data set's format is never called by the paper's name.
func TestGroupDataTitle(t *testing.T) {
	for _, c := range []struct {
		dataset, size string
		paths         []string
		want          string
	}{
		{"imagefolder", "50000/10000", []string{"/data/cifar10-jpeg.tar.xz"}, "CIFAR-10 (JPEG image folder)"},
		{"imagefolder", "5000/1000", []string{"/data/cifar10-jpeg.tar.xz"}, "CIFAR-10 (JPEG image folder, 5000/1000 images)"},
		{"imagefolder", "300/60", []string{"a/flowers", "b/flowers2"}, "image folder flowers, flowers2 (300/60 images)"},
		{"cifar10", "50000/10000", nil, "CIFAR-10"},
		{"cifar10", "400/50", nil, "400/50 images in CIFAR-10's format (not the full CIFAR-10)"},
	} {
		g := &analysis.Group{Dataset: c.dataset, Settings: map[string]string{analysis.DataSizeKey: c.size}, Paths: c.paths}
		if got := g.DataTitle(); got != c.want {
			t.Errorf("%s %s %v: %q, want %q", c.dataset, c.size, c.paths, got, c.want)
		}
	}
}

// The kernel sets that computed a section's runs are named, counted when they differ.
func TestKernelsNote(t *testing.T) {
	run := func(k string) analysis.Run { return analysis.Run{Summary: results.Summary{Kernels: k}} }
	a, b := "blas openblas, vector avx2, conv direct-avx512", "blas gonum, vector none, conv direct-avx512"
	for _, c := range []struct {
		runs []analysis.Run
		want string
	}{
		{nil, ""},
		{[]analysis.Run{run(""), run("")}, ""},
		{[]analysis.Run{run(a), run(a)}, "Kernels: " + a + "."},
		{[]analysis.Run{run(a), run(b), run(a)}, "Kernels: " + b + " (1 run); " + a + " (2 runs)."},
		{[]analysis.Run{run(a), run("")}, "Kernels: " + a + " (1 run); not recorded (1 run)."},
	} {
		if got := kernelsNote(c.runs); got != c.want {
			t.Errorf("%d runs: %q, want %q", len(c.runs), got, c.want)
		}
	}
}

func TestWallNote(t *testing.T) {
	run := func(sec float64, threads int) analysis.Run {
		return analysis.Run{Summary: results.Summary{WallSeconds: sec, Threads: threads}}
	}
	cases := []struct {
		runs []analysis.Run
		want string
	}{
		{nil, ""},
		{[]analysis.Run{run(0, 1)}, ""},
		{[]analysis.Run{run(900, 1)}, "Wall time: 1 run, 15.0 min (1 thread)."},
		{[]analysis.Run{run(900, 1), run(600, 1), run(1200, 1)},
			"Wall time: 3 runs, 45.0 min in all; per run median 15.0 min (10.0–20.0 min), 1 thread each."},
		{[]analysis.Run{run(3600, 2), run(5400, 2), run(0, 1)},
			"Wall time: 2 runs, 2.5 h in all; per run median 75.0 min (60.0–90.0 min), 2 threads each."},
		{[]analysis.Run{run(600, 1), run(9000, 1), run(1200, 1)},
			"Wall time: 3 runs, 3.0 h in all; per run median 20.0 min (10.0 min–2.5 h), 1 thread each."},
		{[]analysis.Run{run(600, 1), run(1200, 2)},
			"Wall time: 2 runs, 30.0 min in all; per run median 15.0 min (10.0–20.0 min), threads 1, 2."},
	}
	for _, c := range cases {
		if got := wallNote(c.runs); got != c.want {
			t.Errorf("wallNote(%d runs) = %q, want %q", len(c.runs), got, c.want)
		}
	}
}

// Damaged files are named and their runs refused: a truncated summary.json
// (with the repair command), metrics or final numbers outside their range
// (by file and row), a garbage metrics.csv; a report that can read no run
// names the files instead of saying there are no run directories.
func TestDamagedFilesReported(t *testing.T) {
	cases := []struct {
		name, file, content string
		want                []string
	}{
		{"truncated summary", results.SummaryFile, `{"status": "fini`, []string{results.SummaryFile + ": unexpected end of JSON input", "dropexp repair "}},
		{"accuracy above 1", results.MetricsFile, "iteration,lr,train_loss,test_loss,test_acc\n100,0.1,1,1,0.5\n200,0.1,1,1,1.7\n", []string{results.MetricsFile + ":3: test_acc 1.7 is outside [0, 1]"}},
		{"infinite loss", results.MetricsFile, "iteration,lr,train_loss,test_loss,test_acc\n100,0.1,1,+Inf,0.5\n", []string{results.MetricsFile + ":2: test_loss +Inf"}},
		{"negative loss", results.MetricsFile, "iteration,lr,train_loss,test_loss,test_acc\n100,0.1,-1,1,0.5\n", []string{results.MetricsFile + ":2: train_loss -1"}},
		{"duplicated row", results.MetricsFile, "iteration,lr,train_loss,test_loss,test_acc\n100,0.1,1,1,0.5\n100,0.1,1,1,0.5\n", []string{results.MetricsFile + ":3: iteration 100 after 100"}},
		{"garbage metrics", results.MetricsFile, "\x00\x01 garbage\n", []string{results.MetricsFile + ": not a metrics file"}},
		{"summary accuracy above 1", results.SummaryFile, `{"status": "finished", "final_test_acc": 1.7, "final_test_loss": 1, "final_train_loss": 1}`, []string{results.SummaryFile + ": final_test_acc 1.7 is outside [0, 1]"}},
		{"summary loss beyond float32", results.SummaryFile, `{"status": "finished", "final_test_acc": 0.5, "final_test_loss": 1e308, "final_train_loss": 1}`, []string{results.SummaryFile + ": final_test_loss 1e+308"}},
		{"summary loss missing", results.SummaryFile, `{"status": "finished", "final_test_acc": 0.5, "final_test_loss": 1, "final_train_loss": null}`, []string{results.SummaryFile + ": final_train_loss NaN"}},
		{"metrics loss beyond float32", results.MetricsFile, "iteration,lr,train_loss,test_loss,test_acc\n100,0.1,1e308,1,0.5\n", []string{results.MetricsFile + ":2: train_loss 1e+308"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := collect(t, []fakeRun{cq("plain", "", 1, 0.7)})
			entries, _ := os.ReadDir(filepath.Join(dir, "runs"))
			p := filepath.Join(dir, "runs", entries[0].Name(), tc.file)
			if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := analysis.Collect(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Runs) != 0 || len(c.Problems) != 1 {
				t.Fatalf("runs %d, problems %q", len(c.Runs), c.Problems)
			}
			for _, w := range tc.want {
				if !strings.Contains(c.Problems[0], filepath.Dir(p)+string(filepath.Separator)+w) && !strings.Contains(c.Problems[0], w) {
					t.Errorf("problem %q lacks %q", c.Problems[0], w)
				}
			}
			if !strings.Contains(c.Problems[0], p) {
				t.Errorf("problem %q does not name %s", c.Problems[0], p)
			}
			_, _, err = Write(Options{In: []string{dir}, Out: t.TempDir()})
			if err == nil || strings.Contains(err.Error(), "no run directories") || !strings.Contains(err.Error(), p) {
				t.Errorf("report of the one damaged run: %v", err)
			}
		})
	}
}

// Temporary files a killed report left in its directory are removed by the
// next report once they are stale; a fresh one (a report running now) stays.
func TestStaleReportTempsRemoved(t *testing.T) {
	dir, _ := collect(t, []fakeRun{cq("plain", "", 1, 0.7)})
	out := t.TempDir()
	old := time.Now().Add(-time.Hour)
	for _, n := range []string{".figure1.png.tmp123", ".table1.md.tmp9", ".index.html.tmp77", ".fresh.svg.tmp1", ".notes.txt.tmp5"} {
		p := filepath.Join(out, n)
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
		if n != ".fresh.svg.tmp1" {
			os.Chtimes(p, old, old)
		}
	}
	if _, _, err := Write(Options{In: []string{dir}, Out: out}); err != nil {
		t.Fatal(err)
	}
	var left []string
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			left = append(left, e.Name())
		}
	}
	if !slices.Equal(left, []string{".fresh.svg.tmp1", ".notes.txt.tmp5"}) {
		t.Errorf("temporary files left: %q; want the fresh one and the one that is not the report's", left)
	}
}
