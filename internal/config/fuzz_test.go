package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fuzzSeeds are the seed files of FuzzConfig (the same as its files under
// testdata/fuzz/FuzzConfig), with a --set and an environment entry each.
var fuzzSeeds = []struct{ file, set, env string }{
	{minimal, "", ""},
	{minimal, "dropout.ratio=0.2", "DROPEXP_SEED=3"},
	{with("dropout: {variant: augmented, ratio: 0.1/0.0002, sites: [conv2, ip1]}"), "dropout.sites=conv2,,ip1", ""},
	{with("train: {iterations: 100, lr: 0.001, lr_steps: [{at: 80, lr: 0.0001}], checkpoint_every: 10}"), "train.lr_steps=[{at: 90, lr: 1e-5}]", "DROPEXP_TRAIN_LR=fast"},
	{"model: resnet20\nseed: -4\nout: 'r s'\nthreads: 2\ndataset: {name: svhn, path: data/svhn, train_limit: 10, crop_pad: 4, flip: true, preprocess: channel_norm}\n" +
		"dropout: {variant: backward, ratio: \"0.05\", gradient: elementwise, sites: ['*.conv2', fc]}\ntrain: {iterations: 10, lr: 0.1}\n", "train=", "DROPEXP_DATASET_TEST_LIMIT=5"},
	{"dropout: {ratoi: 0.3}\nseed: abc\n", "train.iter=5", "DROPEXP_DROPOUT_RATOI=1"},
	{"train: [\n", "seed", ""},
	{"&a [*a]", "dropout={variant: plain}", ""},
	{with("diagnostics: {every: 0, draws: 3}"), "diagnostics.every=5", "DROPEXP_DIAGNOSTICS_DRAWS=1"},
}

// FuzzConfig checks that no config file, --set or environment entry makes
// Load panic, that what it accepts validates and survives a YAML round
// trip, and that each problem it reports names where it came from.
func FuzzConfig(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s.file), s.set, s.env)
	}
	f.Fuzz(func(t *testing.T, data []byte, set, env string) {
		dir := t.TempDir()
		file := filepath.Join(dir, "run.yaml")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var sets, envs []string
		if set != "" {
			sets = []string{set}
		}
		if env != "" {
			envs = []string{env}
		}
		r, err := Load(file, sets, envs)
		if err != nil {
			errs := []error{err}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = j.Unwrap()
			}
			for _, e := range errs {
				if msg := e.Error(); !strings.Contains(msg, file) && !strings.Contains(msg, "--set") && !strings.Contains(msg, "environment variable") {
					t.Fatalf("error names no source: %q", msg)
				}
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("Load accepted a config that does not validate: %v", err)
		}
		y, err := r.YAML()
		if err != nil {
			t.Fatal(err)
		}
		again := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(again, y, 0o644); err != nil {
			t.Fatal(err)
		}
		r2, err := Load(again, nil, nil)
		if err != nil {
			t.Fatalf("the resolved config does not load back: %v\n%s", err, y)
		}
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("YAML round trip changed the config:\n%+v\n%+v\n%s", r, r2, y)
		}
	})
}
