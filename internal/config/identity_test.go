package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/dropexp/dropexp/internal/experiment"
)

// identityBase is a fixed, fully specified run config.
func identityBase(t *testing.T) Run {
	t.Helper()
	r, err := Load(writeConfig(t, `
model: convnet-quick
seed: 1
out: results
threads: 1
dataset: {name: cifar10, path: data/cifar10, test_limit: 500, preprocess: mean_image}
dropout: {variant: standard, ratio: "0.30", gradient: layer, sites: [conv2, ip1]}
train: {batch_size: 100, iterations: 5000, lr: 0.001, lr_steps: [{at: 4000, lr: 0.0001}],
        momentum: 0.9, weight_decay: 0.004, bias_lr_mult: 2, eval_every: 500, checkpoint_every: 100}
`), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestIdentityIsStable pins the identity format. Finished runs are skipped
// by the identity they recorded: if this test fails, every run trained
// before the change would be trained again. Change the format only with
// IdentityVersion, never silently.
func TestIdentityIsStable(t *testing.T) {
	r := identityBase(t)
	const text = `dropexp run identity 1
model: "convnet-quick"
seed: 1
dataset.name: "cifar10"
dataset.test_limit: 500
dataset.preprocess: "mean_image"
dropout.variant: "standard"
dropout.ratio: "0.3"
dropout.gradient: "layer"
dropout.sites: ["conv2", "ip1"]
train.batch_size: 100
train.iterations: 5000
train.lr: 0.001
train.lr_steps: [{at: 4000, lr: 0.0001}]
train.momentum: 0.9
train.weight_decay: 0.004
train.bias_lr_mult: 2
train.eval_every: 500
`
	if got := r.IdentityText(); got != text {
		t.Errorf("IdentityText changed:\n%s\nwant\n%s", got, text)
	}
	// sha256 of text + "data: " + 64 zeros + "\n", computed outside Go.
	const want = "a25aa9d622024dbcc96683b0842bb3607d1558f342a6ca1206cd6efbf7f91093"
	if got := r.Identity(strings.Repeat("0", 64)); got != want {
		t.Errorf("Identity = %s, want %s", got, want)
	}
}

// The keys that only say where and how fast a run goes leave its identity
// alone; every other key, and the data, change it.
func TestIdentityKeys(t *testing.T) {
	base := identityBase(t)
	const fp = "ab"
	id := base.Identity(fp)
	same := map[string]func(*Run){
		"out":                    func(r *Run) { r.Out = "elsewhere" },
		"threads":                func(r *Run) { r.Threads = 7 },
		"kernels":                func(r *Run) { r.Kernels = "strided" },
		"dataset.path":           func(r *Run) { r.Dataset.Path = "/copy/of/the/data" },
		"train.checkpoint_every": func(r *Run) { r.Train.CheckpointEvery = 7 },
		"diagnostics.every":      func(r *Run) { r.Diagnostics.Every = 250 },
		"diagnostics.draws":      func(r *Run) { r.Diagnostics = Diagnostics{Every: 250, Draws: 3} },
		"ratio spelling":         func(r *Run) { r.Dropout.Ratio = "0.3" },
		// A config.yaml written before train.lr_schedule existed.
		"lr_schedule unset": func(r *Run) { r.Train.LRSchedule = "" },
	}
	for name, edit := range same {
		r := base
		edit(&r)
		if r.Identity(fp) != id {
			t.Errorf("%s changes the identity", name)
		}
	}
	differ := map[string]func(*Run){
		"model":               func(r *Run) { r.Model = "resnet20" },
		"seed":                func(r *Run) { r.Seed = 2 },
		"dataset.name":        func(r *Run) { r.Dataset.Name = "imagefolder" },
		"dataset.train_limit": func(r *Run) { r.Dataset.TrainLimit = 100 },
		"dataset.test_limit":  func(r *Run) { r.Dataset.TestLimit = 0 },
		"dataset.preprocess":  func(r *Run) { r.Dataset.Preprocess = "channel_norm" },
		"dataset.crop_pad":    func(r *Run) { r.Dataset.CropPad = 4 },
		"dataset.flip":        func(r *Run) { r.Dataset.Flip = true },
		"dropout.variant":     func(r *Run) { r.Dropout.Variant = "forward" },
		"dropout.ratio":       func(r *Run) { r.Dropout.Ratio = "0.2" },
		"dropout.gradient":    func(r *Run) { r.Dropout.Gradient = "elementwise" },
		"dropout.sites":       func(r *Run) { r.Dropout.Sites = []string{"conv2"} },
		"train.batch_size":    func(r *Run) { r.Train.BatchSize = 128 },
		"train.iterations":    func(r *Run) { r.Train.Iterations = 4000 },
		"train.lr":            func(r *Run) { r.Train.LR = 0.002 },
		"train.lr_schedule":   func(r *Run) { r.Train.LRSchedule = "cosine" },
		"train.warmup":        func(r *Run) { r.Train.Warmup = 10 },
		"train.lr_steps":      func(r *Run) { r.Train.LRSteps = []LRStep{{At: 4000, LR: 0.00011}} },
		"train.momentum":      func(r *Run) { r.Train.Momentum = 0.8 },
		"train.weight_decay":  func(r *Run) { r.Train.WeightDecay = 0 },
		"train.bias_lr_mult":  func(r *Run) { r.Train.BiasLRMult = 1 },
		"train.eval_every":    func(r *Run) { r.Train.EvalEvery = 250 },
	}
	seen := map[string]bool{}
	for name, edit := range differ {
		r := base
		r.Dropout.Sites = append([]string(nil), base.Dropout.Sites...)
		edit(&r)
		if r.Identity(fp) == id {
			t.Errorf("%s does not change the identity", name)
		}
		seen[name] = true
	}
	if base.Identity("ac") == id {
		t.Errorf("the data fingerprint does not change the identity")
	}
	// Every key is either in the identity or deliberately not.
	for _, k := range Keys() {
		if !seen[k] && same[k] == nil {
			t.Errorf("key %s: neither tested as part of the identity nor listed in experiment.NotIdentity; decide which it is", k)
		}
	}
}

// A key added with a zero default leaves the identity of older runs alone,
// and so does one listed in identityNeutral with its old behaviour.
func TestIdentityOfAddedKeys(t *testing.T) {
	type old struct {
		A int `mapstructure:"a"`
	}
	type added struct {
		A     int    `mapstructure:"a"`
		New   string `mapstructure:"new"`
		Other string `mapstructure:"other"`
	}
	text := func(v any) string {
		var b strings.Builder
		identityLines(&b, reflect.ValueOf(v), "")
		return b.String()
	}
	identityNeutral["other"] = `"first"`
	defer delete(identityNeutral, "other")
	if a, b := text(old{A: 3}), text(added{A: 3, Other: "first"}); a != b {
		t.Errorf("an added key at its zero or neutral value changes the text: %q vs %q", a, b)
	}
	if a, b := text(old{A: 3}), text(added{A: 3, New: "x"}); a == b {
		t.Errorf("an added key set to something else does not change the text")
	}
}

// A plain run has no ratio, whatever its file said.
func TestIdentityOfPlain(t *testing.T) {
	r := identityBase(t)
	r.Dropout.Variant = "plain"
	s := r
	s.Dropout.Ratio = ""
	if r.IdentityText() != s.IdentityText() || strings.Contains(r.IdentityText(), "dropout.ratio") {
		t.Errorf("a plain run's ratio is part of its identity:\n%s", r.IdentityText())
	}
}

// Sites are a set: the model's default when empty, in any order. The
// runs recorded with their sites spelled otherwise stay recognised.
func TestIdentityOfSites(t *testing.T) {
	fp := strings.Repeat("0", 64)
	with := func(model string, sites ...string) Run {
		r := identityBase(t)
		r.Model, r.Dropout.Sites = model, sites
		return r
	}
	one := []Run{
		with("convnet-quick"),
		with("convnet-quick", "conv2", "conv3", "ip1", "ip2"),
		with("convnet-quick", "ip2", "conv3", "ip1", "conv2"),
	}
	for _, r := range one[1:] {
		if r.Identity(fp) != one[0].Identity(fp) {
			t.Errorf("sites %q: identity differs from the default's:\n%s\nvs\n%s", r.Dropout.Sites, r.IdentityText(), one[0].IdentityText())
		}
	}
	if with("convnet-quick", "conv2", "ip1").Identity(fp) != identityBase(t).Identity(fp) {
		t.Errorf("the base's explicit sorted sites changed identity")
	}
	if with("convnet-quick", "conv2").Identity(fp) == one[0].Identity(fp) {
		t.Errorf("other sites, one identity")
	}
	if with("resnet20").Identity(fp) != with("resnet20", "*.conv2").Identity(fp) {
		t.Errorf("resnet20: default sites and *.conv2 give two identities")
	}
	// The identities runs recorded before: as the sites were spelled.
	for _, r := range one {
		ids := r.Identities(fp)
		spelled := identityOf(r.spelledIdentityText(), fp)
		if ids[0] != r.Identity(fp) || !slices.Contains(ids, spelled) {
			t.Errorf("sites %q: Identities = %v, want the identity and %s", r.Dropout.Sites, ids, spelled)
		}
		for _, id := range ids {
			if text := r.IdentityTextOf(id, fp); identityOf(text, fp) != id {
				t.Errorf("IdentityTextOf(%s) = %q", id, text)
			}
		}
	}
	if ids := one[1].Identities(fp); len(ids) != 1 {
		t.Errorf("canonical sites: %d identities, want 1", len(ids))
	}
}

// A run config written before train.lr_schedule existed shows no
// difference in its schedule from one that says step.
func TestIdentityYAMLOfUnsetSchedule(t *testing.T) {
	r := identityBase(t)
	old := r
	old.Train.LRSchedule = ""
	a, err := old.IdentityYAML()
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.IdentityYAML()
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) || !strings.Contains(string(b), "lr_schedule: step") {
		t.Errorf("IdentityYAML differs for an unset schedule:\n%s\nvs\n%s", a, b)
	}
}

// Every key the identity leaves out is a key of Run, and IdentityYAML
// shows none of their values: the one list is the one rule.
func TestNotIdentityKeysExist(t *testing.T) {
	keys := Keys()
	r := Default()
	r.Out, r.Threads, r.Dataset.Path, r.Train.CheckpointEvery = "elsewhere", 3, "/data", 7
	r.Diagnostics = Diagnostics{Every: 5, Draws: 4}
	y, err := r.IdentityYAML()
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for k, v := range flatYAML(t, y) {
		shown[k] = v != nil && v != "" && v != 0
	}
	for _, k := range experiment.NotIdentity {
		if !slices.Contains(keys, k) {
			t.Errorf("experiment.NotIdentity lists %s, which is no config key", k)
		}
		if shown[k] {
			t.Errorf("IdentityYAML shows %s, which is not part of the identity", k)
		}
	}
}

// flatYAML returns the dotted leaf keys of a YAML document.
func flatYAML(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if prefix != "" {
				k = prefix + "." + k
			}
			if sub, ok := v.(map[string]any); ok {
				walk(k, sub)
				continue
			}
			out[k] = v
		}
	}
	walk("", m)
	return out
}
