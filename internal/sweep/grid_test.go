package sweep

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// baseYAML is a run config that loads without data files (MNIST needs no path).
const baseYAML = `
model: convnet-quick
seed: 9
dataset: {name: mnist, test_limit: 50}
dropout: {variant: standard, ratio: "0.5", gradient: layer}
train: {batch_size: 10, iterations: 10, lr: 0.01, eval_every: 5}
`

// plainYAML and augYAML are base configs whose ratios no other variant can take.
const (
	plainYAML = "model: convnet-quick\nseed: 9\ndataset: {name: mnist}\ndropout: {variant: plain}\ntrain: {batch_size: 10, iterations: 10, lr: 0.01, eval_every: 5}\n"
	augYAML   = "model: convnet-quick\nseed: 9\ndataset: {name: mnist}\ndropout: {variant: augmented, ratio: 0.1/0.0002}\ntrain: {batch_size: 10, iterations: 10, lr: 0.01, eval_every: 5}\n"
)

// writeSpec writes base.yaml and the sweep file sweep.yaml (which names
// base.yaml unless it has its own base) into a fresh directory and reads the sweep.
func writeSpec(t *testing.T, sweepYAML string) *Spec {
	t.Helper()
	s, err := parseSpecFile(t, sweepYAML)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func parseSpecFile(t *testing.T, sweepYAML string) (*Spec, error) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"base.yaml": baseYAML, "plain.yaml": plainYAML, "aug.yaml": augYAML} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "sweep.yaml")
	if err := os.WriteFile(file, []byte(sweepYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	return ReadSpec(file)
}

func names(runs []Run) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.Name)
	}
	return out
}

func TestExpand(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec string
		o    Overrides
		want []string
	}{
		{
			name: "plain is not crossed with ratios; seeds outermost",
			spec: "base: base.yaml\naxes: {variant: [plain, standard, forward], ratio: [0.3, \"0.1\"], seed: [1, 2]}\n",
			want: []string{
				"plain-layer-s1", "standard-p0.3-layer-s1", "standard-p0.1-layer-s1", "forward-p0.3-layer-s1", "forward-p0.1-layer-s1",
				"plain-layer-s2", "standard-p0.3-layer-s2", "standard-p0.1-layer-s2", "forward-p0.3-layer-s2", "forward-p0.1-layer-s2",
			},
		},
		{
			name: "--ratios and --seeds replace the axes",
			spec: "base: base.yaml\naxes: {variant: [plain, backward], ratio: [0.3, 0.1], seed: [1, 2]}\n",
			o:    Overrides{Ratios: []string{"0.20"}, Seeds: []int64{7}},
			want: []string{"plain-layer-s7", "backward-p0.2-layer-s7"},
		},
		{
			name: "no seed axis: the base config's seed",
			spec: "base: base.yaml\naxes: {variant: [standard], ratio: [0.3]}\n",
			want: []string{"standard-p0.3-layer-s9"},
		},
		{
			name: "plain runs with the first gradient semantics only",
			spec: "base: base.yaml\naxes: {variant: [plain, forward], ratio: [0.1], gradient: [elementwise, layer], seed: [1]}\n",
			want: []string{"plain-elementwise-s1", "forward-p0.1-elementwise-s1", "forward-p0.1-layer-s1"},
		},
		{
			name: "augmented takes its data set's q; data set labels prefix the names",
			spec: `axes:
  variant: [standard, augmented]
  ratio: [0.1, 0.2]
  seed: [1]
  dataset:
    - {label: svhn, base: base.yaml, q: [0.0002]}
    - {label: mn, name: mnist, base: base.yaml}
  q: ["0.0001"]
`,
			want: []string{
				"svhn-standard-p0.1-layer-s1", "svhn-standard-p0.2-layer-s1", "svhn-augmented-p0.1q0.0002-layer-s1", "svhn-augmented-p0.2q0.0002-layer-s1",
				"mn-standard-p0.1-layer-s1", "mn-standard-p0.2-layer-s1", "mn-augmented-p0.1q0.0001-layer-s1", "mn-augmented-p0.2q0.0001-layer-s1",
			},
		},
		{
			name: "p/q ratios pair with augmented alone",
			spec: "base: base.yaml\naxes: {variant: [standard, augmented], ratio: [0.1, 0.2/0.001], q: [0.01], seed: [1]}\n",
			want: []string{"standard-p0.1-layer-s1", "augmented-p0.1q0.01-layer-s1", "augmented-p0.2q0.001-layer-s1"},
		},
		{
			name: "no ratio axis: every swept variant takes the base config's ratio",
			spec: "base: base.yaml\naxes: {variant: [plain, forward, backward], seed: [1, 2]}\n",
			want: []string{
				"plain-layer-s1", "forward-p0.5-layer-s1", "backward-p0.5-layer-s1",
				"plain-layer-s2", "forward-p0.5-layer-s2", "backward-p0.5-layer-s2",
			},
		},
		{
			name: "no ratio axis: the base config's ratio after --set",
			spec: "base: base.yaml\naxes: {variant: [forward], seed: [1]}\n",
			o:    Overrides{Set: []string{"dropout.ratio=0.20"}},
			want: []string{"forward-p0.2-layer-s1"},
		},
		{
			name: "no ratio axis, augmented base: its p/q ratio",
			spec: "base: aug.yaml\naxes: {variant: [plain, augmented], gradient: [elementwise]}\n",
			want: []string{"plain-elementwise-s9", "augmented-p0.1q0.0002-elementwise-s9"},
		},
		{
			name: "dropout.variant is the variant axis",
			spec: "base: base.yaml\naxes: {dropout.variant: [standard, backward], dropout.gradient: [elementwise]}\n",
			want: []string{"standard-p0.5-elementwise-s9", "backward-p0.5-elementwise-s9"},
		},
		{
			name: "a single scalar is a list of one",
			spec: "base: base.yaml\naxes: {variant: standard, ratio: 0.3, seed: 4}\n",
			want: []string{"standard-p0.3-layer-s4"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs, err := Expand(writeSpec(t, tc.spec), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(runs); !slices.Equal(got, tc.want) {
				t.Errorf("names\n got  %q\n want %q", got, tc.want)
			}
			for i, r := range runs {
				if r.Index != i {
					t.Errorf("run %s has index %d, want %d", r.Name, r.Index, i)
				}
				if err := r.Config.Validate(); err != nil {
					t.Errorf("run %s: %v", r.Name, err)
				}
			}
		})
	}
}

func TestExpandConfig(t *testing.T) {
	s := writeSpec(t, `base: base.yaml
set: {train.iterations: 7, dropout.sites: [conv2, ip1], train.lr: 0.5}
axes:
  variant: [plain, augmented]
  ratio: ["0.30/0.0010"]
  seed: [3]
  dataset:
    - {label: a, set: {train.lr: 0.25}}
`)
	runs, err := Expand(s, Overrides{Set: []string{"train.lr=0.125"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("got %q", names(runs))
	}
	plain, aug := runs[0].Config, runs[1].Config
	if plain.Dropout.Ratio != "" || plain.Dropout.Variant != "plain" {
		t.Errorf("plain keeps a ratio: %+v", plain.Dropout)
	}
	if aug.Dropout.Ratio != "0.3/0.001" {
		t.Errorf("ratio not canonical: %q", aug.Dropout.Ratio)
	}
	if aug.Seed != 3 || aug.Train.Iterations != 7 || !slices.Equal(aug.Dropout.Sites, []string{"conv2", "ip1"}) {
		t.Errorf("file's set not applied: %+v", aug)
	}
	if aug.Train.LR != 0.125 {
		t.Errorf("lr = %v: the command line's --set must win over the data set's and the file's", aug.Train.LR)
	}
}

func TestSpecAndExpandErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec string
		o    Overrides
		want []string
	}{
		{"unknown key with a suggestion", "base: base.yaml\naxes: {variant: [standard], ratoi: [0.3]}\n",
			Overrides{}, []string{`sweep.yaml:2: axes.ratoi: unknown key "ratoi" (did you mean ratio?); an axis is one of variant, ratio, q, seed, gradient, dataset or a run config key`}},
		{"unknown top-level key", "base: base.yaml\nax: {variant: [plain]}\n",
			Overrides{}, []string{"ax: unknown key (did you mean axes?)", "axes: missing"}},
		{"seed not an integer", "base: base.yaml\naxes: {variant: [plain], seed: [1, x]}\n",
			Overrides{}, []string{`axes.seed[1]: "x" is not an integer`}},
		{"name with a path separator", "name: ../elsewhere\nbase: base.yaml\naxes: {variant: [plain]}\n",
			Overrides{}, []string{`name: "../elsewhere" is not a single directory name`}},
		{"name with a backslash", "name: 'a\\b'\nbase: base.yaml\naxes: {variant: [plain]}\n",
			Overrides{}, []string{`is not a single directory name`}},
		{"name with a newline and a command", "name: \"x\\ntouch PWNED $(id>PWNED2)\\n#\"\nbase: base.yaml\naxes: {variant: [plain]}\n",
			Overrides{}, []string{`name: "x\ntouch PWNED $(id>PWNED2)\n#" is not a single directory name of letters, digits`}},
		{"name with markup", "name: 'b\"><svg onload=alert(1)>'\nbase: base.yaml\naxes: {variant: [plain]}\n",
			Overrides{}, []string{`is not a single directory name`}},
		{"label with markup", "base: base.yaml\naxes: {variant: [plain], dataset: [{label: \"b\\\"><svg\\tonload=alert(1)>\"}]}\n",
			Overrides{}, []string{`axes.dataset[0].label: "b\"><svg\tonload=alert(1)>": a label goes into run directory names; use letters, digits`}},
		{"label with a space", "base: base.yaml\naxes: {variant: [plain], dataset: [{label: 'a b'}]}\n",
			Overrides{}, []string{`axes.dataset[0].label: "a b"`}},
		{"label with a path", "base: base.yaml\naxes: {variant: [plain], dataset: [{label: ..}]}\n",
			Overrides{}, []string{`axes.dataset[0].label: ".."`}},
		{"missing base", "axes: {variant: [plain]}\n",
			Overrides{}, []string{"base: missing; name the run config"}},
		{"base file missing", "base: nope.yaml\naxes: {variant: [plain]}\n",
			Overrides{}, []string{"base: stat", "nope.yaml"}},
		{"no ratio axis, base without a ratio", "base: plain.yaml\naxes: {variant: [plain, standard, forward]}\n",
			Overrides{}, []string{"variant standard has no ratio: nothing sweeps the ratio and the base config has no dropout.ratio; sweep it with --axis ratio=0.3",
				"variant forward has no ratio"}},
		{"no ratio axis, p/q base ratio", "base: aug.yaml\naxes: {variant: [forward, augmented]}\n",
			Overrides{}, []string{`variant forward has no ratio: nothing sweeps the ratio and the base config's dropout.ratio "0.1/0.0002" is a p/q ratio`}},
		{"no ratio axis, augmented without q", "base: base.yaml\naxes: {variant: [augmented]}\n",
			Overrides{}, []string{`variant augmented has no ratio: nothing sweeps the ratio and the base config's dropout.ratio "0.5" has no q`}},
		{"bad ratio", "base: base.yaml\naxes: {variant: [standard], ratio: [0.3, 1.5]}\n",
			Overrides{}, []string{`axes.ratio[1] (or --ratios) "1.5"`, "must be in [0,1)"}},
		{"bad variant", "base: base.yaml\naxes: {variant: [sideways], ratio: [0.3]}\n",
			Overrides{}, []string{`axes.variant[0]: unknown dropout variant "sideways"`}},
		{"augmented without q", "base: base.yaml\naxes: {variant: [augmented], ratio: [0.3]}\n",
			Overrides{}, []string{"variant augmented has no ratio: axes.ratio holds only ratios written as p and there is no q; give axes.q"}},
		{"only p/q ratios for standard", "base: base.yaml\naxes: {variant: [standard], ratio: [0.3/0.1]}\n",
			Overrides{}, []string{"variant standard has no ratio: axes.ratio holds only p/q ratios"}},
		{"swept key in the file's set", "base: base.yaml\nset: {dropout.ratio: 0.2}\naxes: {variant: [standard], ratio: [0.3]}\n",
			Overrides{}, []string{"set dropout.ratio=0.2: the grid sweeps dropout.ratio; change it with axes.ratio, --ratios or --axis ratio=..."}},
		{"swept key in --set", "base: base.yaml\naxes: {variant: [standard], ratio: [0.3], seed: [1]}\n",
			Overrides{Set: []string{"seed=4"}}, []string{"--set seed=4: the grid sweeps seed"}},
		{"one value twice", "base: base.yaml\naxes: {variant: [standard], ratio: [\"0.3\", \"0.30\"]}\n",
			Overrides{}, nil}, // canonical spelling merges them: no error
		{"two data sets with one label", "base: base.yaml\naxes: {variant: [plain], dataset: [{label: a}, {label: a}]}\n",
			Overrides{}, []string{`axes.dataset[0] and [1] are both labelled "a"`}},
		{"two data sets with one name", "base: base.yaml\naxes: {variant: [plain], dataset: [mnist, mnist]}\n",
			Overrides{}, []string{"runs 0 and 1 are both named mnist-plain-layer-s9"}},
		{"config errors once, with the count of runs", "base: base.yaml\nset: {model: nonet}\naxes: {variant: [standard], ratio: [0.3, 0.2], seed: [1, 2]}\n",
			Overrides{}, []string{`4 runs (first: standard 0.3 seed 1 on the base data set): model: unknown model "nonet"`}},
		{"bad set value, named by config", "base: base.yaml\naxes: {variant: [plain]}\n",
			Overrides{Set: []string{"train.iterations=abc"}}, []string{"--set train.iterations=abc", "expected an integer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSpecFile(t, tc.spec)
			if err == nil {
				_, err = Expand(s, tc.o)
			}
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			// One error per problem: a variant without a ratio is reported once.
			for _, v := range []string{"plain", "standard", "forward", "backward", "augmented"} {
				if n := strings.Count(err.Error(), "variant "+v+" has no ratio"); n > 1 {
					t.Errorf("error %q\nsays %d times that %s has no ratio", err, n, v)
				}
			}
			if strings.Contains(err.Error(), "has no ratio") && strings.Count(err.Error(), "\n") != strings.Count(err.Error(), "has no ratio")-1 {
				t.Errorf("error %q: a missing ratio must be the only error", err)
			}
		})
	}
}

func TestShippedSweeps(t *testing.T) {
	root := filepath.Join("..", "..", "configs", "sweeps")
	for _, tc := range []struct {
		file string
		runs int
	}{{"table1.yaml", 3 * 19}, {"table2.yaml", 3 * 18}, {"table2-budget.yaml", 3 * 7}} {
		t.Run(tc.file, func(t *testing.T) {
			s, err := ReadSpec(filepath.Join(root, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			runs, err := Expand(s, Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != tc.runs {
				t.Errorf("%d runs, want %d", len(runs), tc.runs)
			}
		})
	}
}

// TestBaseSweep is the documented sweep without a sweep file: the axes
// given by --axis, everything else the base config's.
func TestBaseSweep(t *testing.T) {
	base := filepath.Join("..", "..", "configs", "convnet-quick-cifar10.yaml")
	for _, tc := range []struct {
		name  string
		axes  []string
		o     Overrides
		want  []string
		error string
	}{
		{"variant and seed axes take the base config's ratio", []string{"variant=forward,backward", "seed=1,2"}, Overrides{},
			[]string{"forward-p0.3-layer-s1", "backward-p0.3-layer-s1", "forward-p0.3-layer-s2", "backward-p0.3-layer-s2"}, ""},
		{"dropout.variant is the variant axis", []string{"dropout.variant=forward,backward", "seed=1,2"}, Overrides{},
			[]string{"forward-p0.3-layer-s1", "backward-p0.3-layer-s1", "forward-p0.3-layer-s2", "backward-p0.3-layer-s2"}, ""},
		{"the later of variant and dropout.variant wins", []string{"variant=plain", "dropout.variant=backward"}, Overrides{},
			[]string{"backward-p0.3-layer-s1"}, ""},
		{"gradient axis alone: the base config's variant, ratio and seed", []string{"dropout.gradient=layer,elementwise"}, Overrides{},
			[]string{"standard-p0.3-layer-s1", "standard-p0.3-elementwise-s1"}, ""},
		{"ratio axis alone: the base config's variant", []string{"ratio=0.1,0.5"}, Overrides{},
			[]string{"standard-p0.1-layer-s1", "standard-p0.5-layer-s1"}, ""},
		{"augmented without a ratio axis", []string{"variant=standard,augmented"}, Overrides{}, nil,
			`variant augmented has no ratio: nothing sweeps the ratio and the base config's dropout.ratio "0.3" has no q`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSpec(base, tc.axes)
			if err != nil {
				t.Fatal(err)
			}
			runs, err := Expand(s, tc.o)
			if tc.error != "" {
				if err == nil || !strings.Contains(err.Error(), tc.error) {
					t.Fatalf("error %v, want one containing %q", err, tc.error)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q: want the one error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(runs); !slices.Equal(got, tc.want) {
				t.Errorf("names\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec string
		want []string
	}{
		{"none", "base: base.yaml\naxes: {variant: [plain, standard]}\n", nil},
		{"every run: said once", "base: base.yaml\nset: {train.eval_every: 20}\naxes: {variant: [plain, standard]}\n",
			[]string{"train.eval_every 20 is more than train.iterations 10: the run is evaluated once"}},
		{"some runs: how many", "base: base.yaml\naxes: {variant: [plain], train.iterations: [10, 30], train.eval_every: [20]}\n",
			[]string{"1 of the 2 runs: train.eval_every 20 is more than train.iterations 10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs, err := Expand(writeSpec(t, tc.spec), Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			if got := Warnings(runs); !slices.Equal(got, tc.want) {
				for _, w := range tc.want {
					if len(got) != len(tc.want) || !strings.Contains(strings.Join(got, "\n"), w) {
						t.Errorf("warnings %q, want %q", got, tc.want)
					}
				}
				if len(tc.want) == 0 {
					t.Errorf("warnings %q, want none", got)
				}
			}
		})
	}
}

// The budget grid of Table 2 is the paper's CIFAR-10 comparison (plain,
// standard at p, augmented at p/0.0001, three seeds) with the gradient
// diagnostics on, every run under the one budget protocol.
func TestTable2BudgetGrid(t *testing.T) {
	s, err := ReadSpec(filepath.Join("..", "..", "configs", "sweeps", "table2-budget.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := Expand(s, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, seed := range []string{"1", "2", "3"} {
		want = append(want, "plain-layer-s"+seed)
		for _, p := range []string{"0.1", "0.2", "0.3"} {
			want = append(want, "standard-p"+p+"-layer-s"+seed, "augmented-p"+p+"q0.0001-layer-s"+seed)
		}
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.Name)
		c := r.Config
		if c.Model != "resnet20" || c.Dataset.Name != "imagefolder" || c.Diagnostics.Every <= 0 ||
			c.Train.LRSchedule == "step" || c.Train.LRSchedule == "" || c.Dropout.Gradient != "layer" {
			t.Errorf("%s: not the budget protocol with diagnostics: model %s, data %s, diagnostics every %d, schedule %q, gradient %s",
				r.Name, c.Model, c.Dataset.Name, c.Diagnostics.Every, c.Train.LRSchedule, c.Dropout.Gradient)
		}
		if c.Train.Iterations != runs[0].Config.Train.Iterations || c.Train.LR != runs[0].Config.Train.LR {
			t.Errorf("%s: train section differs from %s's", r.Name, runs[0].Name)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("runs %v\nwant %v", got, want)
	}
}
