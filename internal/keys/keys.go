// Package keys describes every run config key for people: what it takes,
// its allowed values and what it does, one line each, for the help of
// `dropexp train` and `dropexp sweep` and for shell completion of
// --set KEY=VALUE. The keys and their types come from the config schema
// (package config); a key added there without a line here fails the tests.
// The values of model, dataset.name and dropout.sites come from the
// registries of packages model and dataset.
package keys

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/model"
)

// Key is one settable config key.
type Key struct {
	Name   string   // dotted path, as --set takes it
	Type   string   // what it accepts, e.g. "an integer"
	Values []string // the allowed values when there is a fixed list; else nil
	Hint   []string // typical values to offer in completion when any value is allowed
	Doc    string   // what it does
}

// docs says what each key does, in the order of the config schema.
var docs = map[string]string{
	"model":                  "network: Caffe's cifar10_quick or one of He et al.'s CIFAR ResNets",
	"seed":                   "seeds init, data order, masks and augmentation",
	"out":                    "results root; each run gets a directory inside",
	"threads":                "worker threads; 0 = all cores",
	"kernels":                "convolution kernels: direct (default), strided (stride-2 gradients by the direct convolution too) or winograd (strided, with same-size 3×3 and 5×5 convolutions, forward passes and both gradients, by Winograd's F(4×4,3×3) and F(2×2,5×5)); each faster, other rounding",
	"dataset.name":           "data set, read in its official format",
	"dataset.path":           "directory or archive; empty for mnist: the GoMNIST module's copy",
	"dataset.train_limit":    "train on a stratified subset of N training images, the same for every seed; 0 = all",
	"dataset.test_limit":     "evaluate on a stratified subset of N test images, the same for every seed; 0 = all",
	"dataset.preprocess":     "per-pixel mean image (Caffe) or per-channel mean/std",
	"dataset.crop_pad":       "augmentation: pad N pixels, random crop back; 0 = off",
	"dataset.flip":           "augmentation: random horizontal flips",
	"dropout.variant":        "which pass drops: forward features, backward errors, or both",
	"dropout.ratio":          "p in [0,1), or p/q for augmented, e.g. 0.3 or 0.1/0.0002",
	"dropout.gradient":       "weight gradient: the paper's (layer) or autodiff's (elementwise)",
	"dropout.sites":          "layer inputs that get a site; empty = the default",
	"train.batch_size":       "images per iteration",
	"train.iterations":       "length of the run",
	"train.lr":               "base learning rate (the peak of onecycle)",
	"train.lr_schedule":      "step: train.lr, then lr_steps; cosine, linear: decay to 0 over the run; onecycle: up to lr and down (PyTorch's schedulers)",
	"train.warmup":           "cosine, linear: first N iterations rise linearly to lr (lr·k/(N+1) at iteration k); 0 = off",
	"train.lr_steps":         "lr_schedule step: from iteration at+1 use lr, e.g. [{at: 4000, lr: 0.0001}]",
	"train.momentum":         "μ in v = μv + lr·(g + λw); w −= v",
	"train.weight_decay":     "λ, L2 on every parameter",
	"train.bias_lr_mult":     "learning-rate multiplier of the biases",
	"train.eval_every":       "test-set evaluation and a metrics row every N iterations",
	"train.checkpoint_every": "checkpoint every N iterations; 0 = only on Ctrl-C",
	"diagnostics.every":      "gradient diagnostics every N iterations (clean gradient and mask-draw noise); 0 = off",
	"diagnostics.draws":      "fresh mask draws per diagnosed step for the noise estimate (at least 2)",
}

// values returns the allowed values of key, or nil when any value of its type goes.
func values(key string) []string {
	switch key {
	case "model":
		return config.Models()
	case "dataset.name":
		return config.DatasetNames()
	case "dataset.preprocess":
		return config.Preprocessings()
	case "train.lr_schedule":
		return config.LRSchedules()
	case "kernels":
		return config.KernelSets()
	case "dataset.flip":
		return []string{"true", "false"}
	case "dropout.variant":
		var vs []string
		for _, v := range experiment.Variants() {
			vs = append(vs, string(v))
		}
		return vs
	case "dropout.gradient":
		return []string{string(experiment.Layer), string(experiment.Elementwise)}
	}
	return nil
}

// hints returns values worth offering for key in completion when any value goes.
func hints(key string) []string {
	switch key {
	case "dropout.ratio":
		return []string{"0.3", "0.2", "0.1", "0.05", "0.01", "0.005", "0.1/0.0002", "0.1/0.0001"}
	case "dropout.sites":
		return Sites()
	case "threads":
		return []string{"0", "1", "2"}
	case "seed":
		return []string{"1", "2", "3"}
	}
	return nil
}

// Sites returns the dropout site names of every model, and the patterns
// that select a ResNet's sites by kind.
func Sites() []string {
	var out []string
	for _, n := range model.Networks() {
		for _, s := range n.Sites {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return append(out, "*.conv1", "*.conv2")
}

// All returns every settable key in the order of the config schema.
func All() []Key {
	var ks []Key
	for _, name := range config.Keys() {
		ks = append(ks, Key{Name: name, Type: config.Describe(name), Values: values(name), Hint: hints(name), Doc: docs[name]})
	}
	return ks
}

// Help lists the keys one per line: name, what it takes (the allowed
// values where there is a list), what it does.
func Help() string {
	ks := All()
	width := 0
	for _, k := range ks {
		width = max(width, len(k.Name))
	}
	var b strings.Builder
	for _, k := range ks {
		takes := k.Type
		doc := k.Doc
		switch {
		case len(k.Values) > 0:
			takes = strings.Join(k.Values, "|")
		case k.Name == "dropout.sites":
			doc += "; " + siteHelp()
		}
		fmt.Fprintf(&b, "  %-*s  %s — %s\n", width, k.Name, takes, doc)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// siteHelp names each model's sites and default, once for the networks
// that share them (the ResNets).
func siteHelp() string {
	var parts []string
	var names []string
	nets := model.Networks()
	for i, n := range nets {
		names = append(names, n.Name)
		if i+1 < len(nets) && nets[i+1].SiteSummary == n.SiteSummary && slices.Equal(nets[i+1].DefaultSites, n.DefaultSites) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %s (default %s)", strings.Join(names, ", "), n.SiteSummary, strings.Join(n.DefaultSites, " ")))
		names = nil
	}
	return strings.Join(parts, "; ")
}

// Complete returns the completions of a --set argument typed so far:
// "KEY=" for each key that starts with it, then "KEY=VALUE" for the allowed
// (or typical) values of the key once the "=" is typed. A list value
// (dropout.sites) completes its last comma-separated item. noSpace reports
// that the shell should not add a space (the argument is not finished).
func Complete(typed string) (completions []string, noSpace bool) {
	key, val, hasEq := strings.Cut(typed, "=")
	if !hasEq {
		for _, k := range All() {
			if strings.HasPrefix(k.Name, key) {
				completions = append(completions, k.Name+"=")
			}
		}
		return completions, true
	}
	var k *Key
	for _, c := range All() {
		if c.Name == key {
			k = &c
			break
		}
	}
	if k == nil {
		return nil, false
	}
	list := k.Values
	if list == nil {
		list = k.Hint
	}
	done, last := "", val
	if key == "dropout.sites" {
		if i := strings.LastIndex(val, ","); i >= 0 {
			done, last = val[:i+1], val[i+1:]
		}
	}
	for _, v := range list {
		if strings.HasPrefix(v, last) {
			completions = append(completions, key+"="+done+v)
		}
	}
	return completions, key == "dropout.sites"
}
