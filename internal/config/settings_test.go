package config

import (
	"testing"
)

func TestSettings(t *testing.T) {
	r := Default()
	r.Dropout.Variant, r.Dropout.Ratio, r.Dropout.Sites = "standard", "0.30", []string{"conv2", "ip1"}
	r.Train.LRSteps = []LRStep{{At: 4000, LR: 0.0001}}
	r.Train.LR = 0.001
	s := r.Settings()
	for k, want := range map[string]string{
		"dropout.ratio":       "0.3",
		"dropout.sites":       "[conv2, ip1]",
		"train.lr_steps":      "[{at: 4000, lr: 0.0001}]",
		"train.lr":            "0.001",
		"dataset.flip":        "false",
		"dataset.train_limit": "0",
	} {
		if s[k] != want {
			t.Errorf("Settings()[%s] = %q, want %q", k, s[k], want)
		}
	}
	if _, ok := s["diagnostics.every"]; ok {
		t.Error("Settings has diagnostics keys with diagnostics off (config.yaml leaves the section out)")
	}
	r.Diagnostics = Diagnostics{Every: 250, Draws: 8}
	if s := r.Settings(); s["diagnostics.every"] != "250" || s["diagnostics.draws"] != "8" {
		t.Errorf("diagnostics on: %q, %q", s["diagnostics.every"], s["diagnostics.draws"])
	}
	if len(r.Settings()) != len(Keys()) {
		t.Errorf("Settings has %d keys, the config %d", len(r.Settings()), len(Keys()))
	}
}

func TestComputationSettings(t *testing.T) {
	r := Default()
	r.Seed, r.Threads, r.Out = 7, 3, "elsewhere"
	r.Dropout.Variant, r.Dropout.Ratio, r.Dropout.Gradient = "standard", "0.3", "elementwise"
	s := r.ComputationSettings()
	if s["seed"] != "7" || s["dropout.gradient"] != "elementwise" {
		t.Errorf("a standard run's computation lacks its seed or gradient: %v", s)
	}
	for _, k := range []string{"threads", "out", "dataset.path"} {
		if _, ok := s[k]; ok {
			t.Errorf("ComputationSettings keeps %s", k)
		}
	}
	r.Dropout.Variant = "plain"
	for _, k := range []string{"dropout.ratio", "dropout.gradient", "dropout.sites"} {
		if _, ok := r.ComputationSettings()[k]; ok {
			t.Errorf("a plain run's computation keeps %s, which it ignores", k)
		}
	}
}

// A config.yaml of an older dropexp, without keys added since, reads with
// their built-in values.
func TestDecodeRecorded(t *testing.T) {
	r, err := DecodeRecorded([]byte("model: convnet-quick\ndropout: {variant: plain}\ntrain: {iterations: 10}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Train.LRSchedule != "step" || r.Train.BatchSize != 100 || r.Train.Iterations != 10 {
		t.Errorf("schedule %q, batch %d, iterations %d", r.Train.LRSchedule, r.Train.BatchSize, r.Train.Iterations)
	}
	if _, err := DecodeRecorded([]byte("modle: x\n")); err == nil {
		t.Error("an unknown key reads")
	}
}
