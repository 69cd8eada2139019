// Package config reads the configuration of one training run into a single
// typed struct, Run: built-in defaults, then a YAML file, then DROPEXP_*
// environment variables, then --set overrides. Every problem is reported with
// its source and key, and Run.Validate checks the whole struct in one place.
// The allowed networks are those of experiment's catalog and the data sets
// those of package dataset's registry (Models, DatasetNames); config links
// no training code.
package config

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dropexp/dropexp/configs"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/schedule"
)

// Run is the complete configuration of one training run.
type Run struct {
	Model   string  `mapstructure:"model" yaml:"model"`
	Seed    int64   `mapstructure:"seed" yaml:"seed"`
	Out     string  `mapstructure:"out" yaml:"out"`
	Threads int     `mapstructure:"threads" yaml:"threads"`
	Kernels string  `mapstructure:"kernels" yaml:"kernels,omitempty"` // "" = direct; see experiment.Kernels
	Dataset Dataset `mapstructure:"dataset" yaml:"dataset"`
	Dropout Dropout `mapstructure:"dropout" yaml:"dropout"`
	Train   Train   `mapstructure:"train" yaml:"train"`
	// Diagnostics measure the gradient without changing the run; see Diagnostics.
	Diagnostics Diagnostics `mapstructure:"diagnostics" yaml:"diagnostics,omitempty"`
}

// Dataset selects the data set and how its pixels are prepared.
type Dataset struct {
	Name       string `mapstructure:"name" yaml:"name"`
	Path       string `mapstructure:"path" yaml:"path"`
	TrainLimit int    `mapstructure:"train_limit" yaml:"train_limit"`
	TestLimit  int    `mapstructure:"test_limit" yaml:"test_limit"`
	Preprocess string `mapstructure:"preprocess" yaml:"preprocess"`
	CropPad    int    `mapstructure:"crop_pad" yaml:"crop_pad"` // augmentation: zero-pad by N pixels, then a random crop back to size (0 = off)
	Flip       bool   `mapstructure:"flip" yaml:"flip"`         // augmentation: random horizontal flips
}

// Dropout selects the dropout variant, its ratio, gradient semantics and sites.
type Dropout struct {
	Variant  string   `mapstructure:"variant" yaml:"variant"`
	Ratio    string   `mapstructure:"ratio" yaml:"ratio"`
	Gradient string   `mapstructure:"gradient" yaml:"gradient"`
	Sites    []string `mapstructure:"sites" yaml:"sites"`
}

// Train holds the solver settings.
type Train struct {
	BatchSize       int      `mapstructure:"batch_size" yaml:"batch_size"`
	Iterations      int      `mapstructure:"iterations" yaml:"iterations"`
	LR              float64  `mapstructure:"lr" yaml:"lr"`
	LRSchedule      string   `mapstructure:"lr_schedule" yaml:"lr_schedule"` // step | cosine | linear | onecycle; see package schedule
	Warmup          int      `mapstructure:"warmup" yaml:"warmup"`           // iterations of linear warm-up (cosine, linear)
	LRSteps         []LRStep `mapstructure:"lr_steps" yaml:"lr_steps"`
	Momentum        float64  `mapstructure:"momentum" yaml:"momentum"`
	WeightDecay     float64  `mapstructure:"weight_decay" yaml:"weight_decay"`
	BiasLRMult      float64  `mapstructure:"bias_lr_mult" yaml:"bias_lr_mult"`
	EvalEvery       int      `mapstructure:"eval_every" yaml:"eval_every"`
	CheckpointEvery int      `mapstructure:"checkpoint_every" yaml:"checkpoint_every"`
}

// Diagnostics configure the gradient diagnostics (package diagnostics):
// every Every iterations, besides the step's gradient, the clean gradient
// (no masks) and the gradients of Draws fresh mask draws on the same batch
// and weights. They do not change the run's numbers, so they are not part
// of what makes two runs the same run.
type Diagnostics struct {
	Every int `mapstructure:"every" yaml:"every"` // 0 = off
	Draws int `mapstructure:"draws" yaml:"draws"` // mask draws for the noise estimate, >= 2
}

// DefaultDiagnosticDraws is diagnostics.draws unless set.
const DefaultDiagnosticDraws = 8

// IsZero reports whether diagnostics are off, so that config.yaml leaves
// the section out and a run without them reads as it did before they existed.
func (d Diagnostics) IsZero() bool { return d.Every == 0 }

// LRStep switches the learning rate to LR for iterations At+1 onwards (Caffe multistep).
type LRStep struct {
	At int     `mapstructure:"at" yaml:"at"`
	LR float64 `mapstructure:"lr" yaml:"lr"`
}

// EnvPrefix starts every environment variable that overrides a key.
const EnvPrefix = "DROPEXP_"

// preprocessings are the allowed values of dataset.preprocess: an array,
// not a slice, so no caller can change them.
var preprocessings = [...]string{"mean_image", "channel_norm"}

// Models returns the allowed values of the key model: the networks of
// experiment's catalog.
func Models() []string { return experiment.NetworkNames() }

// DatasetNames returns the allowed values of the key dataset.name: the data
// sets of package dataset's registry.
func DatasetNames() []string { return dataset.Names() }

// LRSchedules returns the allowed values of the key train.lr_schedule.
func LRSchedules() []string { return schedule.Names() }

// KernelSets returns the allowed values of the key kernels.
func KernelSets() []string { return experiment.KernelNames() }

// Preprocessings returns the allowed values of the key dataset.preprocess.
func Preprocessings() []string { return slices.Clone(preprocessings[:]) }

// Defaults returns the built-in values under every file: Caffe's quick solver
// of Table 1 where the key has one. Data set, variant, ratio, iterations and
// learning rate have no default: a file must choose them.
func Defaults() Run {
	return Run{
		Model: "convnet-quick",
		Seed:  1,
		Out:   "results",
		Dataset: Dataset{
			Preprocess: "mean_image",
		},
		Dropout: Dropout{
			Gradient: string(experiment.Layer),
		},
		Train: Train{
			BatchSize:   100,
			LRSchedule:  string(schedule.Step),
			Momentum:    0.9,
			WeightDecay: 0.004,
			BiasLRMult:  2,
			EvalEvery:   500,
		},
		Diagnostics: Diagnostics{Draws: DefaultDiagnosticDraws},
	}
}

// demoFile is the embedded config Load uses when given no file.
const demoFile = "demo.yaml"

// Default returns the embedded demo configuration (configs/demo.yaml) resolved over Defaults.
func Default() Run {
	r, err := Load("", nil, nil)
	if err != nil {
		// The embedded file is tested; failing here is a build defect.
		panic("config: embedded " + demoFile + " is invalid: " + err.Error())
	}
	return r
}

// KernelSet returns the parsed kernels ("" is the default); it panics if Validate would fail.
func (r Run) KernelSet() experiment.Kernels {
	k, err := experiment.ParseKernels(r.Kernels)
	if err != nil {
		panic("config: KernelSet of an invalid config: " + err.Error())
	}
	return k
}

// Variant returns the parsed dropout.variant; it panics if Validate would fail.
func (r Run) Variant() experiment.Variant {
	v, err := experiment.ParseVariant(r.Dropout.Variant)
	if err != nil {
		panic("config: Variant on an unvalidated Run: " + err.Error())
	}
	return v
}

// Ratio returns the parsed dropout.ratio; it panics if Validate would fail.
func (r Run) Ratio() experiment.Ratio {
	p, err := experiment.ParseRatio(r.Variant(), r.Dropout.Ratio)
	if err != nil {
		panic("config: Ratio on an unvalidated Run: " + err.Error())
	}
	return p
}

// Semantics returns the parsed dropout.gradient; it panics if Validate would fail.
func (r Run) Semantics() experiment.Semantics {
	s, err := experiment.ParseSemantics(r.Dropout.Gradient)
	if err != nil {
		panic("config: Semantics on an unvalidated Run: " + err.Error())
	}
	return s
}

// Schedule returns the learning-rate schedule of train.lr_schedule,
// train.lr, train.warmup and train.lr_steps; it panics if Validate would
// fail. A run config written before train.lr_schedule existed (read by
// Decode) has the step schedule.
func (r Run) Schedule() schedule.Schedule {
	k, err := schedule.Parse(r.Train.LRSchedule)
	if err != nil {
		panic("config: Schedule on an unvalidated Run: " + err.Error())
	}
	s := schedule.Schedule{Kind: k, LR: r.Train.LR, Iterations: r.Train.Iterations, Warmup: r.Train.Warmup}
	for _, st := range r.Train.LRSteps {
		s.Steps = append(s.Steps, schedule.Milestone{At: st.At, LR: st.LR})
	}
	return s
}

// LRAt returns the learning rate of the 1-based iteration iter: a pure
// function of iter, so a resumed run continues its schedule exactly.
func (r Run) LRAt(iter int) float64 {
	return r.Schedule().At(iter)
}

// YAML returns the resolved configuration as YAML in struct order; Load reads it back unchanged.
func (r Run) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("config: encoding YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: encoding YAML: %w", err)
	}
	return buf.Bytes(), nil
}

// Keys returns every settable dotted key, in the order of the Run struct.
func Keys() []string {
	return leafKeys(reflect.TypeFor[Run](), "")
}

// EnvVar returns the environment variable that overrides key, e.g. DROPEXP_DROPOUT_RATIO.
func EnvVar(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// embeddedDemo returns the demo config shipped in the binary.
func embeddedDemo() ([]byte, error) {
	return configs.FS.ReadFile(demoFile)
}
