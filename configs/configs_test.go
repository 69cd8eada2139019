package configs_test

import (
	"io/fs"
	"testing"

	"github.com/dropexp/dropexp/configs"
	"github.com/dropexp/dropexp/internal/config"
)

// Every shipped config must load and validate as it is, so a typo in one
// fails here rather than at the start of an hours-long run.
func TestEmbeddedConfigsLoad(t *testing.T) {
	names, err := fs.Glob(configs.FS, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 2 {
		t.Fatalf("embedded configs: %v, want demo.yaml and the Table 1 config at least", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			// The test runs in this directory, so the file on disk is the embedded one.
			r, err := config.Load(name, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The Table 1 config must be the protocol of docs/DESIGN.md §3 exactly.
func TestTable1Protocol(t *testing.T) {
	r, err := config.Load("convnet-quick-cifar10.yaml", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := r.Train
	if r.Dataset.Name != "cifar10" || r.Dataset.Preprocess != "mean_image" || r.Seed != 1 ||
		tr.BatchSize != 100 || tr.Iterations != 5000 || tr.Momentum != 0.9 || tr.WeightDecay != 0.004 ||
		tr.BiasLRMult != 2 || tr.EvalEvery != 500 || r.Dropout.Gradient != "layer" {
		t.Errorf("not the Table 1 protocol: %+v", r)
	}
	for iter, want := range map[int]float64{1: 0.001, 4000: 0.001, 4001: 0.0001, 5000: 0.0001} {
		if got := r.LRAt(iter); got != want {
			t.Errorf("lr at iteration %d = %v, want %v", iter, got, want)
		}
	}
	if got := r.Dropout.Sites; len(got) != 4 || got[0] != "conv2" || got[1] != "conv3" || got[2] != "ip1" || got[3] != "ip2" {
		t.Errorf("sites = %v, want [conv2 conv3 ip1 ip2]", got)
	}
}
