package sweep

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestExpandKeyAxes(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec string // "" for a sweep of base.yaml without a file
		o    Overrides
		want []string
	}{
		{
			name: "a config key in the file's axes, crossed inside seeds, plain too",
			spec: "base: base.yaml\naxes: {variant: [plain, standard], ratio: [0.3], seed: [1], train.lr: [0.001, 0.01]}\n",
			want: []string{"plain-layer-s1-lr0.001", "standard-p0.3-layer-s1-lr0.001", "plain-layer-s1-lr0.01", "standard-p0.3-layer-s1-lr0.01"},
		},
		{
			name: "--axis adds keys, the first outermost",
			spec: "base: base.yaml\naxes: {variant: [standard], ratio: [0.3], seed: [1]}\n",
			o:    Overrides{Axes: []string{"train.lr=0.001,0.01", "train.batch_size=5,10"}},
			want: []string{
				"standard-p0.3-layer-s1-lr0.001-batch_size5", "standard-p0.3-layer-s1-lr0.001-batch_size10",
				"standard-p0.3-layer-s1-lr0.01-batch_size5", "standard-p0.3-layer-s1-lr0.01-batch_size10",
			},
		},
		{
			name: "--axis replaces a key axis of the file",
			spec: "base: base.yaml\naxes: {variant: [standard], ratio: [0.3], seed: [1], train.lr: [0.001, 0.01]}\n",
			o:    Overrides{Axes: []string{"train.lr=0.1"}},
			want: []string{"standard-p0.3-layer-s1-lr0.1"},
		},
		{
			name: "--axis replaces named axes, by name or by their key",
			spec: "base: base.yaml\naxes: {variant: [standard], ratio: [0.3], seed: [1]}\n",
			o:    Overrides{Axes: []string{"variant=plain,forward", "dropout.ratio=0.2", "seed=4,5"}},
			want: []string{"plain-layer-s4", "forward-p0.2-layer-s4", "plain-layer-s5", "forward-p0.2-layer-s5"},
		},
		{
			name: "list values; plain runs once with the sites it ignores",
			spec: "base: base.yaml\naxes: {variant: [plain, forward], ratio: [0.1], seed: [1], dropout.sites: [[conv2, conv3], [ip1]]}\n",
			want: []string{"plain-layer-s1", "forward-p0.1-layer-s1-sites-conv2+conv3", "forward-p0.1-layer-s1-sites-ip1"},
		},
		{
			name: "list values on the command line",
			spec: "base: base.yaml\naxes: {variant: [forward], ratio: [0.1], seed: [1]}\n",
			o:    Overrides{Axes: []string{"dropout.sites=[conv2,conv3],ip1", "train.lr_steps=[],[{at: 5, lr: 0.001}]"}},
			want: []string{
				"forward-p0.1-layer-s1-sites-conv2+conv3-lr_steps-none", "forward-p0.1-layer-s1-sites-conv2+conv3-lr_steps-at5_lr0.001",
				"forward-p0.1-layer-s1-sites-ip1-lr_steps-none", "forward-p0.1-layer-s1-sites-ip1-lr_steps-at5_lr0.001",
			},
		},
		{
			name: "no sweep file: the base config's variant, ratio and seed",
			o:    Overrides{Axes: []string{"train.lr=0.001,0.01"}},
			want: []string{"standard-p0.5-layer-s9-lr0.001", "standard-p0.5-layer-s9-lr0.01"},
		},
		{
			name: "no variant axis: the base's variant at the ratio axis' ratios",
			o:    Overrides{Axes: []string{"ratio=0.1,0.2"}},
			want: []string{"standard-p0.1-layer-s9", "standard-p0.2-layer-s9"},
		},
		{
			name: "no variant axis, and --set chooses the base's variant",
			o:    Overrides{Axes: []string{"train.lr=0.01"}, Set: []string{"dropout.variant=plain"}},
			want: []string{"plain-layer-s9-lr0.01"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s *Spec
			if tc.spec == "" {
				var err error
				if s, err = NewSpec(writeSpec(t, "base: base.yaml\naxes: {variant: [plain]}\n").Base, nil); err != nil {
					t.Fatal(err)
				}
			} else {
				s = writeSpec(t, tc.spec)
			}
			runs, err := Expand(s, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(runs); !slices.Equal(got, tc.want) {
				t.Errorf("names\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestExpandKeyAxesConfigs(t *testing.T) {
	s := writeSpec(t, "base: base.yaml\naxes: {variant: [standard], ratio: [0.3], seed: [1], dropout.sites: [[ip1]]}\n")
	runs, err := Expand(s, Overrides{Axes: []string{"train.lr=0.25"}})
	if err != nil {
		t.Fatal(err)
	}
	c := runs[0].Config
	if c.Train.LR != 0.25 || !slices.Equal(c.Dropout.Sites, []string{"ip1"}) {
		t.Errorf("axis values not applied: lr %v, sites %v", c.Train.LR, c.Dropout.Sites)
	}
	want := []AxisValue{{"dropout.sites", "[ip1]"}, {"train.lr", "0.25"}}
	if !slices.Equal(runs[0].Axes, want) {
		t.Errorf("Axes = %v, want %v", runs[0].Axes, want)
	}
}

func TestKeyAxisErrors(t *testing.T) {
	const spec = "base: base.yaml\naxes: {variant: [standard], ratio: [0.3], seed: [1]}\n"
	for _, tc := range []struct {
		name string
		spec string
		o    Overrides
		want []string
	}{
		{"a value of the wrong type names the axis and the key", spec,
			Overrides{Axes: []string{"train.lr=0.001,abc"}}, []string{`--axis train.lr=0.001,abc: value "abc": train.lr: expected a number, got "abc"`}},
		{"a value out of range", spec,
			Overrides{Axes: []string{"train.lr=-1"}}, []string{`--axis train.lr=-1: value "-1": train.lr: -1 must be a positive number (fix or drop this value`}},
		{"in the file, with its line", "base: base.yaml\naxes:\n  variant: [standard]\n  ratio: [0.3]\n  train.batch_size: [5, 0]\n",
			Overrides{}, []string{`sweep.yaml:5: axes.train.batch_size: value "0": train.batch_size: 0 must be positive`}},
		{"an unknown site", spec,
			Overrides{Axes: []string{"dropout.sites=conv2,conv9"}}, []string{`--axis dropout.sites=conv2,conv9: value "conv9": dropout.sites: unknown site "conv9" for convnet-quick`}},
		{"an unknown key with a suggestion", spec,
			Overrides{Axes: []string{"train.lrr=0.1"}}, []string{`--axis train.lrr=0.1: unknown key "train.lrr" (did you mean train.lr?)`}},
		{"an unknown key in the file", "base: base.yaml\naxes: {variant: [standard], ratio: [0.3], train.rl: [1]}\n",
			Overrides{}, []string{`sweep.yaml:2: axes.train.rl: unknown key "train.rl"`}},
		{"a key the sweep sets itself", spec,
			Overrides{Axes: []string{"threads=1,2"}}, []string{"threads cannot be swept: the sweep gives each run cores/jobs threads"}},
		{"--set of a swept key", spec,
			Overrides{Axes: []string{"train.lr=0.1,0.2"}, Set: []string{"train.lr=0.3"}}, []string{"--set train.lr=0.3: the grid sweeps train.lr (--axis train.lr=0.1,0.2)"}},
		{"one config twice", spec,
			Overrides{Axes: []string{"train.lr=0.01,0.010"}}, []string{"runs 0 and 1 are both named standard-p0.3-layer-s1-lr0.01"}},
		{"one list twice, in two spellings", spec,
			Overrides{Axes: []string{"dropout.sites=[ip1],ip1"}}, []string{"runs 0 and 1 are both named standard-p0.3-layer-s1-sites-ip1"}},
		{"an axis and its key in one file", "base: base.yaml\naxes: {variant: [standard], dropout.variant: [plain], ratio: [0.3]}\n",
			Overrides{}, []string{"axes.dropout.variant: axis variant is given twice"}},
		{"empty value", spec,
			Overrides{Axes: []string{"train.lr=0.1,"}}, []string{"--axis train.lr=0.1,: value 2 is empty"}},
		{"no =", spec,
			Overrides{Axes: []string{"train.lr"}}, []string{"--axis train.lr: want KEY=V1,V2"}},
		{"a seed that is no integer", spec,
			Overrides{Axes: []string{"seed=1,x"}}, []string{`--axis seed=1,x: seed "x" is not an integer`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSpecFile(t, tc.spec)
			if err == nil {
				_, err = Expand(s, tc.o)
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

func TestParseAxisFlag(t *testing.T) {
	for _, tc := range []struct {
		arg, key string
		values   []string
	}{
		{"train.lr=0.001,0.01", "train.lr", []string{"0.001", "0.01"}},
		{" train.lr = 0.1 ", "train.lr", []string{"0.1"}},
		{"dropout.sites=[conv2, conv3],[ip1]", "dropout.sites", []string{"[conv2, conv3]", "[ip1]"}},
		{"train.lr_steps=[{at: 5, lr: 0.1}, {at: 9, lr: 0.01}],[]", "train.lr_steps", []string{"[{at: 5, lr: 0.1}, {at: 9, lr: 0.01}]", "[]"}},
	} {
		key, values, err := ParseAxisFlag(tc.arg)
		if err != nil || key != tc.key || !slices.Equal(values, tc.values) {
			t.Errorf("ParseAxisFlag(%q) = %q, %q, %v; want %q, %q", tc.arg, key, values, err, tc.key, tc.values)
		}
	}
	if _, _, err := ParseAxisFlag("dropout.sites=[conv2"); err == nil || !strings.Contains(err.Error(), "unbalanced") {
		t.Errorf("unbalanced brackets: %v", err)
	}
}

func TestNamePart(t *testing.T) {
	long := strings.Repeat("x", 80)
	for _, tc := range []struct{ short, value, want string }{
		{"lr", "0.01", "lr0.01"},
		{"lr", "1e-3", "lr0.001"},
		{"batch_size", "50", "batch_size50"},
		{"shift", "-2", "shift-2"},
		{"sites", "[conv2, conv3]", "sites-conv2+conv3"},
		{"sites", "conv2,conv3", "sites-conv2+conv3"},
		{"sites", "[]", "sites-none"},
		{"sites", "'*.conv2'", "sites-any.conv2"},
		{"ratio", ".5", "ratio0.5"},
		{"name", ".hidden", "name-.hidden"},
		{"lr_steps", "[{at: 100, lr: 0.01}]", "lr_steps-at100_lr0.01"},
		{"flip", "true", "flip-true"},
		{"preprocess", "channel_norm", "preprocess-channel_norm"},
		{"path", "/data/cifar 10.tar", "path-data_cifar_10.tar"},
		{"path", "deadbeef", "path-deadbeef_"}, // not taken for the identity suffix of a taken name
		{"path", long, "path-" + strings.Repeat("x", maxNamePart-9) + "_" + shortHash(long)},
	} {
		if got := namePart(tc.short, tc.value); got != tc.want {
			t.Errorf("namePart(%q, %q) = %q, want %q", tc.short, tc.value, got, tc.want)
		}
	}
}

func TestShortKeys(t *testing.T) {
	got := shortKeys([]KeyAxis{{Key: "train.lr"}, {Key: "dataset.name"}, {Key: "dataset.train_limit"}, {Key: "diagnostics.every"}})
	want := map[string]string{"train.lr": "lr", "dataset.name": "data", "dataset.train_limit": "train_limit", "diagnostics.every": "diag"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("shortKeys[%s] = %q, want %q", k, got[k], v)
		}
	}
}

func TestDefaultName(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "quick.yaml")
	if err := os.WriteFile(base, []byte(baseYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := defaultName(base, Axes{Keys: []KeyAxis{{Key: "train.lr"}, {Key: "train.batch_size"}}}); got != "quick-lr-batch_size" {
		t.Errorf("defaultName = %q", got)
	}
	if got := defaultName("", Axes{Ratio: []string{"0.1"}}); got != "demo-ratio" {
		t.Errorf("defaultName of the demo = %q", got)
	}
}
