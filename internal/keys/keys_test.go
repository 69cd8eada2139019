package keys

import (
	"slices"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/experiment"
)

// Every key of the schema has a line saying what it does and what it takes.
func TestEveryKeyDocumented(t *testing.T) {
	ks := All()
	if len(ks) != len(config.Keys()) {
		t.Fatalf("%d keys, the schema has %d", len(ks), len(config.Keys()))
	}
	for _, k := range ks {
		if k.Doc == "" || k.Type == "" {
			t.Errorf("%s: doc %q, type %q (add it to docs)", k.Name, k.Doc, k.Type)
		}
	}
	for name := range docs {
		if !slices.Contains(config.Keys(), name) {
			t.Errorf("docs describe %q, which is not a config key", name)
		}
	}
}

func TestHelp(t *testing.T) {
	h := Help()
	lines := strings.Split(h, "\n")
	if len(lines) != len(config.Keys()) {
		t.Errorf("%d lines for %d keys:\n%s", len(lines), len(config.Keys()), h)
	}
	for _, want := range []string{
		"  model                   convnet-quick|resnet20", // then the other networks of the model registry
		"  dropout.variant         " + strings.Join(experiment.VariantNames(), "|") + " — ",
		"  train.iterations        an integer — length of the run",
		"  dataset.flip            true|false — ",
		"  dropout.sites           a list of strings (or a comma-separated string) — layer inputs that get a site; empty = the default; convnet-quick: conv1 conv2 conv3 ip1 ip2 (default conv2 conv3 ip1 ip2); resnet20",
		": conv1 sXbY.conv1 sXbY.conv2 fc (default *.conv2)\n", // once for all the ResNets
		"  train.lr_steps          a list of {at: ITERATION, lr: RATE} — ",
		// The limits cut stratified subsets (dataset.Split.Limit), not the first N images.
		"  dataset.train_limit     an integer — train on a stratified subset of N training images",
		"  dataset.test_limit      an integer — evaluate on a stratified subset of N test images",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("help lacks %q:\n%s", want, h)
		}
	}
}

// The ResNets share one description of their sites, however many depths
// the model registry lists.
func TestHelpGroupsSites(t *testing.T) {
	if n := strings.Count(siteHelp(), "sXbY.conv1"); n != 1 {
		t.Errorf("the ResNets' sites are described %d times, want once: %s", n, siteHelp())
	}
}

func TestComplete(t *testing.T) {
	for _, tc := range []struct {
		typed   string
		want    []string
		noSpace bool
	}{
		{"dropout.", []string{"dropout.variant=", "dropout.ratio=", "dropout.gradient=", "dropout.sites="}, true},
		{"train.lr", []string{"train.lr=", "train.lr_schedule=", "train.lr_steps="}, true},
		{"train.lr_schedule=", []string{"train.lr_schedule=step", "train.lr_schedule=cosine", "train.lr_schedule=linear", "train.lr_schedule=onecycle"}, false},
		{"dropout.variant=", variantCompletions(), false},
		{"dropout.variant=ba", []string{"dropout.variant=backward"}, false},
		{"model=resnet2", []string{"model=resnet20"}, false},
		{"dataset.name=cifar1", []string{"dataset.name=cifar10", "dataset.name=cifar100", "dataset.name=cifar100-coarse"}, false},
		{"dropout.ratio=0.0", []string{"dropout.ratio=0.05", "dropout.ratio=0.01", "dropout.ratio=0.005"}, false},
		{"dropout.sites=conv2,ip", []string{"dropout.sites=conv2,ip1", "dropout.sites=conv2,ip2"}, true},
		{"train.iterations=", nil, false},
		{"nokey=", nil, false},
	} {
		got, noSpace := Complete(tc.typed)
		if !slices.Equal(got, tc.want) || noSpace != tc.noSpace {
			t.Errorf("Complete(%q) = %q, %v; want %q, %v", tc.typed, got, noSpace, tc.want, tc.noSpace)
		}
	}
}

// variantCompletions are the completions of "dropout.variant=": every variant of the variant table.
func variantCompletions() []string {
	var out []string
	for _, v := range experiment.VariantNames() {
		out = append(out, "dropout.variant="+v)
	}
	return out
}
