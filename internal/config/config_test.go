package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/experiment"
)

// writeConfig writes a config file into a fresh temporary directory.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// minimal sets just the keys that have no default.
const minimal = `
dataset: {name: mnist}
dropout: {variant: standard, ratio: "0.3"}
train: {iterations: 1000, lr: 0.01}
`

// with returns minimal with the top-level line of each given section
// replaced, or the line appended when minimal has no such section.
func with(lines ...string) string {
	out := strings.Split(strings.TrimSpace(minimal), "\n")
	for _, line := range lines {
		section, _, _ := strings.Cut(line, ":")
		i := slices.IndexFunc(out, func(l string) bool { return strings.HasPrefix(l, section+":") })
		if i < 0 {
			out = append(out, line)
		} else {
			out[i] = line
		}
	}
	return strings.Join(out, "\n") + "\n"
}

func TestDefault(t *testing.T) {
	r := Default()
	if err := r.Validate(); err != nil {
		t.Fatalf("embedded default does not validate: %v", err)
	}
	if r.Model != "convnet-quick" || r.Dataset.Name != "mnist" || r.Dataset.Path != "" ||
		r.Variant() != experiment.Standard || r.Ratio() != (experiment.Ratio{P: 0.5}) || r.Semantics() != experiment.Layer {
		t.Errorf("unexpected default: %+v", r)
	}
	if r.Train.BatchSize != 100 || r.Train.Momentum != 0.9 || r.Train.WeightDecay != 0.004 ||
		r.Train.BiasLRMult != 2 || r.Train.EvalEvery != 50 || r.Dataset.TestLimit != 2000 {
		t.Errorf("unexpected default solver: %+v", r.Train)
	}
}

func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		sets []string
		env  []string
		want func(*Run) // edits Defaults() into the expected result
	}{
		{
			name: "defaults fill what the file leaves out",
			file: minimal,
			want: func(r *Run) {},
		},
		{
			name: "file overrides defaults",
			file: minimal + "seed: 5\nthreads: 2\n",
			want: func(r *Run) { r.Seed, r.Threads = 5, 2 },
		},
		{
			name: "env overrides file, set overrides env",
			file: with("seed: 5"),
			env:  []string{"DROPEXP_SEED=6", "DROPEXP_TRAIN_ITERATIONS=100", "HOME=/root", "DROPEXP_DROPOUT_RATIO=0.2"},
			sets: []string{"seed=7"},
			want: func(r *Run) { r.Seed, r.Train.Iterations, r.Dropout.Ratio = 7, 100, "0.2" },
		},
		{
			name: "first of duplicate env entries wins, as with os.Getenv",
			file: minimal,
			env:  []string{"DROPEXP_SEED=6", "DROPEXP_SEED=9"},
			want: func(r *Run) { r.Seed = 6 },
		},
		{
			name: "ratio as a YAML number and as p/q",
			file: with("dropout: {variant: augmented, ratio: 0.1/0.0002}"),
			want: func(r *Run) { r.Dropout.Variant, r.Dropout.Ratio = "augmented", "0.1/0.0002" },
		},
		{
			name: "numeric ratio in the file becomes text",
			file: strings.Replace(minimal, `ratio: "0.3"`, "ratio: 0.25", 1),
			want: func(r *Run) { r.Dropout.Ratio = "0.25" },
		},
		{
			name: "set values are YAML, strings verbatim",
			file: minimal,
			sets: []string{"train.lr_steps=[{at: 400, lr: 0.001}, {at: 800, lr: 0.0001}]", "dropout.ratio=0.30", "train.lr=1e-3"},
			want: func(r *Run) {
				r.Train.LRSteps = []LRStep{{400, 0.001}, {800, 0.0001}}
				r.Dropout.Ratio = "0.30"
				r.Train.LR = 0.001
			},
		},
		{
			name: "sites as comma list, YAML list and empty",
			file: with("dropout: {variant: standard, ratio: '0.3', sites: [conv3]}"),
			sets: []string{"dropout.sites=conv2, ip1"},
			want: func(r *Run) { r.Dropout.Sites = []string{"conv2", "ip1"} },
		},
		{
			name: "sites from env as YAML list",
			file: minimal,
			env:  []string{"DROPEXP_DROPOUT_SITES=[conv2, ip2]"},
			want: func(r *Run) { r.Dropout.Sites = []string{"conv2", "ip2"} },
		},
		{
			name: "empty set clears a list",
			file: with("dropout: {variant: standard, ratio: '0.3', sites: [conv3]}", "train: {iterations: 1000, lr: 0.01, lr_steps: [{at: 5, lr: 0.1}]}"),
			sets: []string{"dropout.sites=", "train.lr_steps="},
			want: func(r *Run) {},
		},
		{
			name: "a whole section by --set keeps its other keys",
			file: minimal,
			sets: []string{"dropout={variant: forward, gradient: elementwise}"},
			want: func(r *Run) { r.Dropout.Variant, r.Dropout.Gradient = "forward", "elementwise" },
		},
		{
			name: "empty sections and lists in the file",
			file: with("train: {iterations: 1000, lr: 0.01, lr_steps: }"),
			want: func(r *Run) {},
		},
		{
			name: "integral float for an integer",
			file: minimal,
			sets: []string{"train.iterations=5e3"},
			want: func(r *Run) { r.Train.Iterations = 5000 },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load(writeConfig(t, tc.file), tc.sets, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			want := Defaults()
			want.Dataset.Name = "mnist"
			want.Dropout.Variant, want.Dropout.Ratio = "standard", "0.3"
			want.Train.Iterations, want.Train.LR = 1000, 0.01
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadEmbeddedWhenNoFile(t *testing.T) {
	env := []string{"DROPEXP_TRAIN_ITERATIONS=20"}
	_, err := Load("", nil, env)
	if err == nil || !strings.Contains(err.Error(), "train.lr_steps[0].at: 240 outside 1..train.iterations (20); when shortening a run") {
		t.Errorf("cutting iterations below the lr step: got %v", err)
	}
	r, err := Load("", []string{"dropout.variant=plain", "train.lr_steps=[]"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if r.Dataset.Name != "mnist" || r.Dropout.Variant != "plain" || r.Train.Iterations != 20 {
		t.Errorf("got %+v", r)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		sets []string
		env  []string
		want []string // all must appear in the error
	}{
		{
			name: "unknown key in file",
			file: with("dropout: {variant: standard, ratoi: 0.3}"),
			want: []string{"run.yaml", `unknown key "dropout.ratoi"`, "did you mean dropout.ratio?", "keys under dropout: dropout.variant, dropout.ratio, dropout.gradient, dropout.sites"},
		},
		{
			name: "unknown top-level key",
			file: with("droput: {ratio: 0.3}"),
			want: []string{"run.yaml", `unknown key "droput"`, "did you mean dropout?", "top-level keys: model, seed, out, threads, kernels, dataset, dropout, train"},
		},
		{
			name: "key in the wrong section",
			file: with("ratio: 0.3"),
			want: []string{`unknown key "ratio"`, "did you mean dropout.ratio?"},
		},
		{
			name: "unknown key with no near match",
			file: with("train: {zzzzzzzz: 1}"),
			want: []string{`unknown key "train.zzzzzzzz"`, "keys under train: train.batch_size"},
		},
		{
			name: "unknown key in an lr step",
			file: with("train: {iterations: 10, lr: 1, lr_steps: [{at: 5, rl: 0.1}]}"),
			want: []string{`unknown key "train.lr_steps[0].rl"`, "did you mean train.lr_steps[0].lr?", "train.lr_steps[0].at"},
		},
		{
			name: "wrong type in file",
			file: with("train: {iterations: abc, lr: 0.1}"),
			want: []string{"run.yaml", "train.iterations", "expected an integer", `"abc"`},
		},
		{
			name: "fraction for an integer",
			file: with("train: {iterations: 1.5, lr: 0.1}"),
			want: []string{"run.yaml", "train.iterations", "expected an integer", "not a whole number"},
		},
		{
			name: "integer beyond int64 in file",
			file: with("seed: 18446744073709551616"),
			want: []string{"run.yaml", "seed", "out of range", "-9223372036854775808..9223372036854775807"},
		},
		{
			name: "integer beyond int64 (as uint64) in file",
			file: with("seed: 9223372036854775808"),
			want: []string{"seed", "out of range"},
		},
		{
			name: "integer beyond int64 in --set",
			file: minimal,
			sets: []string{"seed=18446744073709551616"},
			want: []string{"--set seed=18446744073709551616", "out of range"},
		},
		{
			name: "integer beyond int in --set",
			file: minimal,
			sets: []string{"train.iterations=-99999999999999999999"},
			want: []string{"train.iterations", "out of range"},
		},
		{
			name: "boolean for a number",
			file: with("train: {iterations: 10, lr: true}"),
			want: []string{"train.lr: expected a number, got true"},
		},
		{
			name: "scalar for a section",
			file: with("dropout: 3"),
			want: []string{"dropout: expected a mapping with keys variant, ratio, gradient, sites"},
		},
		{
			name: "empty scalar",
			file: with("seed:"),
			want: []string{"seed: expected an integer, got nothing"},
		},
		{
			name: "malformed YAML",
			file: "train: [\n",
			want: []string{"run.yaml", "yaml"},
		},
		{
			name: "all problems of a file at once",
			file: minimal + "modle: x\nseed: abc\n",
			want: []string{`unknown key "modle"`, "did you mean model?", "seed: expected an integer"},
		},
		{
			name: "unknown key in --set",
			file: minimal,
			sets: []string{"dropout.ratoi=0.3"},
			want: []string{"--set dropout.ratoi=0.3", `unknown key "dropout.ratoi"`, "did you mean dropout.ratio?", "keys under dropout:"},
		},
		{
			name: "prefix of a key in --set",
			file: minimal,
			sets: []string{"train.iter=5"},
			want: []string{"did you mean train.iterations?"},
		},
		{
			name: "below a leaf in --set",
			file: minimal,
			sets: []string{"model.name=x"},
			want: []string{`unknown key "model.name"`, "top-level keys"},
		},
		{
			name: "--set without =",
			file: minimal,
			sets: []string{"seed"},
			want: []string{"--set seed", "want key=value"},
		},
		{
			name: "wrong type in --set",
			file: minimal,
			sets: []string{"train.iterations=abc"},
			want: []string{"--set train.iterations=abc", "train.iterations: expected an integer"},
		},
		{
			name: "bad YAML in --set",
			file: minimal,
			sets: []string{"train.lr_steps=[{at: 1"},
			want: []string{"--set train.lr_steps", "not valid YAML", "list of {at: ITERATION, lr: RATE}"},
		},
		{
			name: "unknown env var",
			file: minimal,
			env:  []string{"DROPEXP_DROPOUT_RATOI=0.3"},
			want: []string{"DROPEXP_DROPOUT_RATOI", "did you mean DROPEXP_DROPOUT_RATIO, for dropout.ratio?", "allowed under dropout: DROPEXP_DROPOUT_VARIANT"},
		},
		{
			name: "unknown env var outside sections",
			file: minimal,
			env:  []string{"DROPEXP_RATIO=0.3"},
			want: []string{"DROPEXP_RATIO", "did you mean DROPEXP_DROPOUT_RATIO", "allowed: DROPEXP_MODEL"},
		},
		{
			name: "wrong type in env",
			file: minimal,
			env:  []string{"DROPEXP_TRAIN_LR=fast"},
			want: []string{"environment variable DROPEXP_TRAIN_LR", "train.lr: expected a number", `"fast"`},
		},
		{
			name: "validation after merging",
			file: minimal,
			sets: []string{"dropout.ratio=0.1/0.0002"},
			want: []string{"dropout.ratio:", "only the augmented variant"},
		},
		{
			name: "ratio >= 1 in file",
			file: with(`dropout: {variant: standard, ratio: "1.5"}`),
			want: []string{`dropout.ratio: dropout ratio "1.5" out of range: 1.5 must be in [0,1)`, "(in ", "run.yaml)"},
		},
		{
			name: "ratio < 0 in --set",
			file: minimal,
			sets: []string{"dropout.ratio=-0.1"},
			want: []string{`dropout.ratio: dropout ratio "-0.1" out of range`, "must be in [0,1)", "(from --set dropout.ratio=-0.1)"},
		},
		{
			name: "malformed p/q",
			file: with(`dropout: {variant: augmented, ratio: "0.1/x"}`),
			want: []string{`dropout.ratio: malformed dropout ratio "0.1/x": "x" is not a number`, "write p (e.g. 0.3) or p/q (e.g. 0.1/0.0002)", "run.yaml)"},
		},
		{
			name: "augmented without q",
			file: minimal,
			sets: []string{"dropout.variant=augmented", "dropout.ratio=0.3"},
			want: []string{`dropout.ratio: "0.3": variant augmented takes p/q, e.g. 0.3/0.0002`, "(from --set dropout.ratio=0.3)"},
		},
		{
			name: "three-part ratio",
			file: minimal,
			sets: []string{"dropout.variant=augmented", "dropout.ratio=0.1/0.2/0.3"},
			want: []string{`malformed dropout ratio "0.1/0.2/0.3"`, "(from --set dropout.ratio=0.1/0.2/0.3)"},
		},
		{
			name: "unknown variant from env",
			file: minimal,
			env:  []string{"DROPEXP_DROPOUT_VARIANT=inverted"},
			want: []string{`dropout.variant: unknown dropout variant "inverted" (allowed: ` + strings.Join(experiment.VariantNames(), ", ") + `)`, "(from environment variable DROPEXP_DROPOUT_VARIANT)"},
		},
		{
			name: "unknown model and data set in file",
			file: with("model: vgg", "dataset: {name: imagenet}"),
			want: []string{`model: unknown model "vgg" (allowed: convnet-quick, resnet20`, `dataset.name: unknown data set "imagenet" (allowed: cifar10,`, "run.yaml)"},
		},
		{
			name: "data path not set",
			file: with("dataset: {name: cifar10}"),
			want: []string{"dataset.path: required for dataset.name cifar10", "not set; add it to ", "run.yaml or give --set dataset.path=VALUE"},
		},
		{
			name: "data path not set, embedded config",
			sets: []string{"dataset.name=svhn"},
			want: []string{"dataset.path: required for dataset.name svhn", "(in embedded configs/demo.yaml)"},
		},
		{
			name: "list item blamed on the list's source",
			file: minimal,
			sets: []string{"dropout.sites=conv2,,ip1"},
			want: []string{"dropout.sites[1]: empty site name", "(from --set dropout.sites=conv2,,ip1)"},
		},
		{
			name: "the last layer that set the key is named",
			file: with(`dropout: {variant: standard, ratio: "2"}`),
			env:  []string{"DROPEXP_DROPOUT_RATIO=3"},
			sets: []string{"dropout.ratio=4"},
			want: []string{`"4" out of range`, "(from --set dropout.ratio=4)"},
		},
		{
			name: "missing file",
			file: "",
			want: []string{"no such file"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.file)
			switch {
			case tc.name == "missing file":
				path = filepath.Join(t.TempDir(), "absent.yaml")
			case tc.file == "":
				path = "" // the embedded demo config
			}
			_, err := Load(path, tc.sets, tc.env)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Run)
		want []string
	}{
		{"valid", func(r *Run) {}, nil},
		{"plain needs no ratio", func(r *Run) { r.Dropout.Variant, r.Dropout.Ratio = "plain", "" }, nil},
		{"model", func(r *Run) { r.Model = "resnet99" }, []string{`model: unknown model "resnet99" (allowed: convnet-quick, resnet20`}},
		{"out", func(r *Run) { r.Out = "" }, []string{"out: empty"}},
		{"threads", func(r *Run) { r.Threads = -1 }, []string{"threads: -1 is negative"}},
		{"kernels", func(r *Run) { r.Kernels = "fast" }, []string{`kernels: unknown kernel set "fast" (allowed: direct, strided, winograd)`}},
		{"dataset name", func(r *Run) { r.Dataset.Name = "imagenet" }, []string{"dataset.name", "allowed: cifar10, mnist, imagefolder"}},
		{"dataset path", func(r *Run) { r.Dataset.Name = "cifar10" }, []string{"dataset.path: required for dataset.name cifar10"}},
		{"dataset path svhn", func(r *Run) { r.Dataset.Name = "svhn" }, []string{"dataset.path: required for dataset.name svhn", "data/svhn", "dropexp data fetch svhn"}},
		{"dataset path cifar100-coarse", func(r *Run) { r.Dataset.Name = "cifar100-coarse" }, []string{"dataset.path: required for dataset.name cifar100-coarse", "dropexp data fetch cifar100`"}},
		{"dataset path imagefolder", func(r *Run) { r.Dataset.Name = "imagefolder" }, []string{"dataset.path: required for dataset.name imagefolder"}},
		{"limits", func(r *Run) { r.Dataset.TrainLimit, r.Dataset.TestLimit = -1, -2 }, []string{"dataset.train_limit", "dataset.test_limit"}},
		{"preprocess", func(r *Run) { r.Dataset.Preprocess = "zca" }, []string{"dataset.preprocess", "allowed: mean_image, channel_norm"}},
		{"variant", func(r *Run) { r.Dropout.Variant = "inverted" }, []string{"dropout.variant", "allowed: plain, standard"}},
		{"ratio missing", func(r *Run) { r.Dropout.Ratio = "" }, []string{"dropout.ratio: empty dropout ratio"}},
		{"ratio range", func(r *Run) { r.Dropout.Ratio = "1.5" }, []string{"dropout.ratio:", "out of range"}},
		{"gradient", func(r *Run) { r.Dropout.Gradient = "both" }, []string{"dropout.gradient", "allowed: layer, elementwise"}},
		{"sites", func(r *Run) { r.Dropout.Sites = []string{"conv2", "", "conv2"} }, []string{"dropout.sites[1]: empty", `"conv2" listed twice`}},
		{"solver", func(r *Run) {
			r.Train.BatchSize, r.Train.Iterations, r.Train.EvalEvery, r.Train.CheckpointEvery = 0, -1, 0, -1
		}, []string{"train.batch_size: 0 must be positive", "train.iterations: -1", "train.eval_every", "train.checkpoint_every"}},
		{"lr", func(r *Run) { r.Train.LR = 0 }, []string{"train.lr: 0 must be a positive number"}},
		{"momentum", func(r *Run) { r.Train.Momentum = 1 }, []string{"train.momentum: 1 outside [0, 1)"}},
		{"decay and bias mult", func(r *Run) { r.Train.WeightDecay, r.Train.BiasLRMult = -1, -2 }, []string{"train.weight_decay", "train.bias_lr_mult"}},
		{"lr steps", func(r *Run) {
			r.Train.LRSteps = []LRStep{{0, 0.1}, {400, 0.1}, {300, 0}, {5000, 0.1}}
		}, []string{"train.lr_steps[0].at: 0 outside 1..train.iterations (1000)", "train.lr_steps[2].at: 300 not after", "train.lr_steps[2].lr", "train.lr_steps[3].at: 5000 outside"}},
		{"cosine with warm-up", func(r *Run) { r.Train.LRSchedule, r.Train.Warmup = "cosine", 999 }, nil},
		{"onecycle", func(r *Run) { r.Train.LRSchedule = "onecycle" }, nil},
		{"lr schedule unset", func(r *Run) { r.Train.LRSchedule = "" }, nil},
		{"lr schedule", func(r *Run) { r.Train.LRSchedule = "Cosine" }, []string{`train.lr_schedule: unknown schedule "Cosine" (allowed: step, cosine, linear, onecycle)`}},
		{"warmup negative", func(r *Run) { r.Train.LRSchedule, r.Train.Warmup = "linear", -1 }, []string{"train.warmup: -1 is negative (0 = no warm-up)"}},
		{"warmup of step", func(r *Run) { r.Train.Warmup = 10 }, []string{"train.warmup: 10, but train.lr_schedule step takes no warm-up", "set train.warmup=0"}},
		{"warmup of onecycle", func(r *Run) { r.Train.LRSchedule, r.Train.Warmup = "onecycle", 10 }, []string{"train.warmup: 10, but train.lr_schedule onecycle takes no warm-up"}},
		{"warmup too long", func(r *Run) { r.Train.LRSchedule, r.Train.Warmup = "cosine", 1000 }, []string{"train.warmup: 1000 leaves no iteration to decay over; it must be below train.iterations (1000)"}},
		{"lr steps of cosine", func(r *Run) {
			r.Train.LRSchedule, r.Train.LRSteps = "cosine", []LRStep{{5000, 0}}
		}, []string{"train.lr_steps: set, but train.lr_schedule cosine sets the rate of every iteration itself", "--set train.lr_steps="}},
		{"diagnostics on", func(r *Run) { r.Diagnostics = Diagnostics{Every: 250, Draws: 2} }, nil},
		{"diagnostics every", func(r *Run) { r.Diagnostics.Every = -1 }, []string{"diagnostics.every: -1 is negative"}},
		{"diagnostics draws", func(r *Run) { r.Diagnostics = Diagnostics{Every: 10, Draws: 1} }, []string{"diagnostics.draws: 1 is below 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Defaults()
			r.Dataset.Name = "mnist"
			r.Dropout.Variant, r.Dropout.Ratio = "standard", "0.3"
			r.Train.Iterations, r.Train.LR = 1000, 0.01
			tc.edit(&r)
			err := r.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestLRAt(t *testing.T) {
	r := Run{Train: Train{LR: 0.001, LRSteps: []LRStep{{4000, 0.0001}, {4500, 0.00001}}}}
	for _, tc := range []struct {
		iter int
		want float64
	}{
		{1, 0.001}, {4000, 0.001}, {4001, 0.0001}, {4500, 0.0001}, {4501, 0.00001}, {5000, 0.00001},
	} {
		if got := r.LRAt(tc.iter); got != tc.want {
			t.Errorf("LRAt(%d) = %v, want %v", tc.iter, got, tc.want)
		}
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	augmented := Default()
	augmented.Dropout = Dropout{Variant: "augmented", Ratio: "0.1/0.0002", Gradient: "elementwise", Sites: []string{"conv2", "ip1"}}
	augmented.Train.LRSteps = append(augmented.Train.LRSteps, LRStep{At: 280, LR: 1e-5})
	augmented.Dataset.Path = "data: with: colons"
	for _, r := range []Run{Default(), augmented} {
		b, err := r.YAML()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Load(writeConfig(t, string(b)), nil, nil)
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("round trip changed the config:\ngot  %+v\nwant %+v", got, r)
		}
		b2, _ := got.YAML()
		if string(b2) != string(b) {
			t.Errorf("YAML not stable:\n%s\n---\n%s", b, b2)
		}
	}
}

// Diagnostics that are off leave config.yaml as it was before they existed
// (so older runs resume and compare equal); on, they round-trip.
func TestDiagnosticsYAML(t *testing.T) {
	off, err := Load(writeConfig(t, minimal), []string{"diagnostics.draws=3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if off.Diagnostics != (Diagnostics{Draws: DefaultDiagnosticDraws}) {
		t.Errorf("diagnostics off: %+v, want the default draws", off.Diagnostics)
	}
	b, err := off.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "diagnostics") {
		t.Errorf("config.yaml of a run without diagnostics mentions them:\n%s", b)
	}
	on, err := Load(writeConfig(t, minimal), nil, []string{"DROPEXP_DIAGNOSTICS_EVERY=250", "DROPEXP_DIAGNOSTICS_DRAWS=4"})
	if err != nil {
		t.Fatal(err)
	}
	if on.Diagnostics != (Diagnostics{Every: 250, Draws: 4}) {
		t.Errorf("diagnostics from the environment: %+v", on.Diagnostics)
	}
	b, err = on.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "diagnostics:\n  every: 250\n  draws: 4\n") {
		t.Errorf("config.yaml lacks the diagnostics:\n%s", b)
	}
	back, err := Load(writeConfig(t, string(b)), nil, nil)
	if err != nil || back.Diagnostics != on.Diagnostics {
		t.Errorf("round trip: %+v, %v", back.Diagnostics, err)
	}
}

func TestKeys(t *testing.T) {
	keys := Keys()
	for _, k := range []string{"model", "dataset.train_limit", "dropout.ratio", "train.lr_steps", "train.checkpoint_every"} {
		if !slices.Contains(keys, k) {
			t.Errorf("Keys() lacks %s", k)
		}
	}
	// Every key must be settable both ways, so help text never lists a dead key.
	base := writeConfig(t, minimal)
	for _, k := range keys {
		if _, _, ok := resolve(k); !ok {
			t.Errorf("key %s does not resolve", k)
		}
		_, errSet := Load(base, []string{k + "=x"}, nil)
		_, errEnv := Load(base, nil, []string{EnvVar(k) + "=x"})
		for _, err := range []error{errSet, errEnv} {
			if err != nil && strings.Contains(err.Error(), "unknown key") || err != nil && strings.Contains(err.Error(), "no such key") {
				t.Errorf("key %s: %v", k, err)
			}
		}
	}
	if got := EnvVar("train.lr_steps"); got != "DROPEXP_TRAIN_LR_STEPS" {
		t.Errorf("EnvVar = %s", got)
	}
}

func TestAllowedListsAreCopies(t *testing.T) {
	Models()[0] = "changed"
	DatasetNames()[0] = "changed"
	Preprocessings()[0] = "changed"
	if Models()[0] != "convnet-quick" || DatasetNames()[0] != "cifar10" || Preprocessings()[0] != "mean_image" {
		t.Error("allowed values can be changed from outside")
	}
}

func TestAccessorsPanicUnvalidated(t *testing.T) {
	for name, f := range map[string]func(Run){
		"Variant":   func(r Run) { r.Variant() },
		"Ratio":     func(r Run) { r.Ratio() },
		"Semantics": func(r Run) { r.Semantics() },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f(Run{Dropout: Dropout{Variant: "x", Gradient: "y"}})
		})
	}
}

func TestClosest(t *testing.T) {
	keys := allKeys(reflect.TypeFor[Run](), "")
	id := func(k string) string { return k }
	for _, tc := range []struct{ bad, want string }{
		{"dropout.ratoi", "dropout.ratio"},
		{"droput", "dropout"},
		{"train.batchsize", "train.batch_size"},
		{"train.iteratoins", "train.iterations"},
		{"train.momentun", "train.momentum"},
		{"train.lr_step", "train.lr_steps"},
		{"seeed", "seed"},
		{"Dropout.Ratio", "dropout.ratio"},
		{"train.zzzzzz", ""},
		{"colour", ""},
	} {
		last := tc.bad[strings.LastIndex(tc.bad, ".")+1:]
		if got := closest(tc.bad, last, keys, id); got != tc.want {
			t.Errorf("closest(%q) = %q, want %q", tc.bad, got, tc.want)
		}
	}
}

// TestDatasetNamesLoadable checks that every allowed dataset.name is one the
// loaders know, so that a valid config never fails as an unknown data set.
func TestDatasetNamesLoadable(t *testing.T) {
	for _, name := range DatasetNames() {
		if !slices.Contains(dataset.Names(), name) {
			t.Errorf("dataset.name %q is allowed but dataset.Load does not know it", name)
		}
	}
}

func TestOrigin(t *testing.T) {
	by := map[string]string{"seed": "", "dropout.ratio": "--set dropout.ratio=2"}
	for _, tc := range []struct{ file, key, want string }{
		{"run.yaml", "seed", "in run.yaml"},
		{"run.yaml", "dropout.ratio", "from --set dropout.ratio=2"},
		{"run.yaml", "dataset.path", "not set; add it to run.yaml or give --set dataset.path=VALUE"},
		{"embedded configs/demo.yaml", "dataset.path", "not set; give it with --set dataset.path=VALUE or in a --config file"},
	} {
		if got := origin(by, tc.file, tc.key); got != tc.want {
			t.Errorf("origin(%s, %s) = %q, want %q", tc.file, tc.key, got, tc.want)
		}
	}
}
