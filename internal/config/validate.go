package config

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/schedule"
)

// Validate reports every problem of r at once, each naming its key and what
// the key allows. Which dropout sites exist depends on the model, so only
// their form is checked here.
func (r Run) Validate() error {
	probs := r.problems()
	errs := make([]error, len(probs))
	for i, p := range probs {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// problem is one finding of Validate: the key as the message names it (e.g.
// train.lr_steps[0].at) and what is wrong with its value.
type problem struct{ key, msg string }

func (p problem) Error() string { return p.key + ": " + p.msg }

// leaf returns the settable key that p concerns: its key without an index
// or what follows one (dropout.sites[1] -> dropout.sites).
func (p problem) leaf() string {
	k, _, _ := strings.Cut(p.key, "[")
	return k
}

// problems lists what Validate reports, in key order.
func (r Run) problems() []problem {
	var errs []problem
	bad := func(key, format string, args ...any) {
		errs = append(errs, problem{key, fmt.Sprintf(format, args...)})
	}
	oneOf := func(key, what, v string, allowed []string) {
		if !slices.Contains(allowed, v) {
			bad(key, "unknown %s %q (allowed: %s)", what, v, strings.Join(allowed, ", "))
		}
	}

	oneOf("model", "model", r.Model, Models())
	if r.Out == "" {
		bad("out", "empty; name the results root directory, e.g. results")
	}
	if r.Threads < 0 {
		bad("threads", "%d is negative (0 = all cores)", r.Threads)
	}
	if _, err := experiment.ParseKernels(r.Kernels); err != nil {
		bad("kernels", "%v", err)
	}

	d := r.Dataset
	oneOf("dataset.name", "data set", d.Name, DatasetNames())
	// Only a data set shipped in a Go module (mnist) has a copy to fall
	// back on, in the module cache.
	if info, err := dataset.Lookup(d.Name); err == nil && info.Name == d.Name && d.Path == "" && info.Source().Module == "" {
		bad("dataset.path", "required for dataset.name %s (%s)", d.Name, info.PathHelp)
	}
	if d.TrainLimit < 0 {
		bad("dataset.train_limit", "%d is negative (0 = all images)", d.TrainLimit)
	}
	if d.TestLimit < 0 {
		bad("dataset.test_limit", "%d is negative (0 = all images)", d.TestLimit)
	}
	oneOf("dataset.preprocess", "preprocessing", d.Preprocess, Preprocessings())
	if d.CropPad < 0 {
		bad("dataset.crop_pad", "%d is negative (0 = no random crops)", d.CropPad)
	}

	if v, err := experiment.ParseVariant(r.Dropout.Variant); err != nil {
		bad("dropout.variant", "%v", err)
	} else if _, err := experiment.ParseRatio(v, r.Dropout.Ratio); err != nil {
		// Only a known variant says whether a ratio, or a p/q ratio, is allowed.
		bad("dropout.ratio", "%v", err)
	} else if v == experiment.Augmented && !strings.Contains(r.Dropout.Ratio, "/") {
		// p alone would be augmented dropout with q = 0: standard dropout
		// under another name (a sweep refuses it too).
		bad("dropout.ratio", "%q: variant augmented takes p/q, e.g. %s/0.0002 (with q = 0 it is standard dropout)", r.Dropout.Ratio, strings.TrimSpace(r.Dropout.Ratio))
	}
	if _, err := experiment.ParseSemantics(r.Dropout.Gradient); err != nil {
		bad("dropout.gradient", "%v", err)
	}
	for i, s := range r.Dropout.Sites {
		if strings.TrimSpace(s) == "" {
			bad(fmt.Sprintf("dropout.sites[%d]", i), "empty site name (sites name layers whose input gets dropout, e.g. conv2, ip1)")
		} else if j := slices.Index(r.Dropout.Sites, s); j < i {
			bad("dropout.sites", "%q listed twice (items %d and %d)", s, j, i)
		}
	}

	t := r.Train
	positive := func(key string, v int) {
		if v <= 0 {
			bad(key, "%d must be positive", v)
		}
	}
	positive("train.batch_size", t.BatchSize)
	positive("train.iterations", t.Iterations)
	positive("train.eval_every", t.EvalEvery)
	if t.CheckpointEvery < 0 {
		bad("train.checkpoint_every", "%d is negative (0 = no periodic checkpoints)", t.CheckpointEvery)
	}
	if !(t.LR > 0) || math.IsInf(t.LR, 0) {
		bad("train.lr", "%v must be a positive number", t.LR)
	}
	kind, schedErr := schedule.Parse(t.LRSchedule)
	if schedErr != nil {
		bad("train.lr_schedule", "%v", schedErr)
	}
	switch {
	case t.Warmup < 0:
		bad("train.warmup", "%d is negative (0 = no warm-up)", t.Warmup)
	case t.Warmup > 0 && schedErr == nil && !kind.Warms():
		bad("train.warmup", "%d, but train.lr_schedule %s takes no warm-up (only cosine and linear do: onecycle rises by itself, and a step schedule warms up with a low train.lr and a first lr_steps entry); set train.warmup=0", t.Warmup, kind)
	case t.Warmup > 0 && t.Warmup >= t.Iterations:
		bad("train.warmup", "%d leaves no iteration to decay over; it must be below train.iterations (%d)", t.Warmup, t.Iterations)
	}
	steps := t.LRSteps
	if schedErr == nil && kind != schedule.Step && len(steps) > 0 {
		bad("train.lr_steps", "set, but train.lr_schedule %s sets the rate of every iteration itself; steps belong to lr_schedule step: clear them with --set train.lr_steps= (or lr_steps: [] in the file)", kind)
		steps = nil // what is wrong inside them does not matter
	}
	for i, s := range steps {
		key := fmt.Sprintf("train.lr_steps[%d]", i)
		if s.At < 1 || s.At > t.Iterations {
			// Commonly hit when a smoke run cuts train.iterations alone.
			bad(key+".at", "%d outside 1..train.iterations (%d); when shortening a run, rescale or clear the steps too, e.g. --set train.lr_steps=", s.At, t.Iterations)
		}
		if i > 0 && s.At <= t.LRSteps[i-1].At {
			bad(key+".at", "%d not after the previous step's %d (steps must be in increasing order)", s.At, t.LRSteps[i-1].At)
		}
		if !(s.LR > 0) || math.IsInf(s.LR, 0) {
			bad(key+".lr", "%v must be a positive number", s.LR)
		}
	}
	if !(t.Momentum >= 0 && t.Momentum < 1) {
		bad("train.momentum", "%v outside [0, 1)", t.Momentum)
	}
	if !(t.WeightDecay >= 0) || math.IsInf(t.WeightDecay, 0) {
		bad("train.weight_decay", "%v must be a number >= 0", t.WeightDecay)
	}
	if !(t.BiasLRMult >= 0) || math.IsInf(t.BiasLRMult, 0) {
		bad("train.bias_lr_mult", "%v must be a number >= 0", t.BiasLRMult)
	}

	if g := r.Diagnostics; g.Every < 0 {
		bad("diagnostics.every", "%d is negative (0 = off; e.g. 250 measures the gradient every 250 iterations)", g.Every)
	} else if g.Draws < 2 {
		bad("diagnostics.draws", "%d is below 2 (the noise is a variance over mask draws; the default is %d)", g.Draws, DefaultDiagnosticDraws)
	}
	return errs
}
