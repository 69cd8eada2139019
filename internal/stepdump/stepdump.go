// Package stepdump writes training steps of a dropexp run to disk, so that
// an independent implementation (scripts/crosscheck.py, in PyTorch) can
// recompute them and compare. The run is trained by the trainer of
// internal/train (train.Stepper): the same graph, ops, data order, masks
// and solver as dropexp train, with no evaluation in between; a dump
// records what that code computed, nothing is recomputed here.
//
// # Layout
//
// A dump directory holds one subdirectory per dumped step, step-NNNNNN
// (the 1-based iteration, six digits), and run.json, which lists them with
// every step's loss. A step directory holds index.json and one raw file per
// tensor.
//
// # index.json
//
//	format        "dropexp-stepdump/1"
//	iteration     k: the step this directory describes
//	model, variant, ratio {"p", "q"}, gradient ("layer" or "elementwise"),
//	threads, train_size (images in the training set), conv_path ("direct" or "im2col": the path asked for; "direct"
//	runs im2col where the direct convolution does not apply),
//	conv_kernels, blas, vector: the kernel set that ran
//	lr            the learning rate of step k
//	momentum, weight_decay, bias_lr_mult: the solver
//	loss          the mean training loss of step k (float32, as a number)
//	full          whether parameters, gradients and solver state are present
//	params        [{"name", "is_bias"}] in graph order
//	sites         [{"name", "shape"}]: the dropout sites in graph order
//	bn            names of the BatchNorm layers
//	config        the resolved run config (YAML text)
//	tensors       {name: entry}
//
// An entry is {"file", "shape", "dtype"} with dtype "float32" (raw
// little-endian IEEE 754, row-major, no header) or "uint8" with a
// "codebook": element = codebook[byte] (masks: exact float32 values, at
// most 256 distinct), or {"const", "shape"}: every element is const (a
// mask a variant does not use).
//
// # Tensors
//
//	input/x, input/labels         the preprocessed batch (N×C×H×W) and its labels (N, float)
//	site/S/mf, site/S/mb          the forward and backward masks of site S (h's shape);
//	                              the mask a variant does not apply is const 1
//	param/P/before, param/P/after the parameter before and after the solver step
//	param/P/grad                  ∂J/∂P of step k as the graph computed it
//	momentum/P/before, .../after  the solver's history buffer v
//	bn/B/mean/before, bn/B/var/before, bn/B/mean/after, bn/B/var/after
//	                              BatchNorm running statistics
//
//	eval/x, eval/logits           the first test images (preprocessed) and the
//	                              evaluation graph's logits for them with the
//	                              weights (and statistics) after the step
//
// param, momentum, bn and eval tensors are written only in full steps.
package stepdump

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/conv"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/train"
)

// Format names the layout version written into every index.json.
const Format = "dropexp-stepdump/1"

// Options say which steps to dump and how to build the graph.
type Options struct {
	// Iters are the 1-based iterations to dump, ascending; training
	// stops after the last.
	Iters []int
	// FullEvery: in a run of consecutive dumped iterations, write the
	// parameters, gradients and solver state only every FullEvery steps
	// (counted from the first dumped one; the first and last are always
	// full). 0 or 1: every step is full.
	FullEvery int
	// Im2col forces the im2col convolution path.
	Im2col bool
	// From continues a run from its checkpoint.gob or model.gob instead
	// of starting it; Iters must then lie past its iteration.
	From string
}

// Entry describes one tensor of a step.
type Entry struct {
	File     string    `json:"file,omitempty"`
	Shape    []int     `json:"shape"`
	DType    string    `json:"dtype,omitempty"`
	Codebook []float32 `json:"codebook,omitempty"`
	Const    *float32  `json:"const,omitempty"`
}

// ParamInfo names a parameter and whether it learns at the bias rate.
type ParamInfo struct {
	Name   string `json:"name"`
	IsBias bool   `json:"is_bias"`
}

// SiteInfo names a dropout site and the shape of its masks.
type SiteInfo struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// Index is a step directory's index.json.
type Index struct {
	Format      string             `json:"format"`
	Iteration   int                `json:"iteration"`
	Model       string             `json:"model"`
	Variant     string             `json:"variant"`
	Ratio       map[string]float64 `json:"ratio"`
	Gradient    string             `json:"gradient"`
	Threads     int                `json:"threads"`
	TrainSize   int                `json:"train_size"`
	ConvPath    string             `json:"conv_path"`
	ConvKernels string             `json:"conv_kernels"`
	BLAS        string             `json:"blas"`
	Vector      string             `json:"vector"`
	LR          float64            `json:"lr"`
	Momentum    float64            `json:"momentum"`
	WeightDecay float64            `json:"weight_decay"`
	BiasLRMult  float64            `json:"bias_lr_mult"`
	Loss        float64            `json:"loss"`
	Full        bool               `json:"full"`
	Params      []ParamInfo        `json:"params"`
	Sites       []SiteInfo         `json:"sites"`
	BN          []string           `json:"bn"`
	Config      string             `json:"config"`
	Tensors     map[string]Entry   `json:"tensors"`
}

// RunInfo is a dump directory's run.json.
type RunInfo struct {
	Format    string    `json:"format"`
	Steps     []int     `json:"steps"`      // the dumped iterations
	FirstLoss int       `json:"first_loss"` // the iteration of Losses[0] (1, or past a checkpoint)
	Losses    []float64 `json:"losses"`     // the loss of every iteration from FirstLoss to the last dumped
}

// ParseIters parses "1,101" or "1-200" or a mix ("1,50-60") into ascending iterations.
func ParseIters(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		var lo, hi int
		if a, b, ok := strings.Cut(part, "-"); ok {
			if _, err := fmt.Sscanf(a+" "+b, "%d %d", &lo, &hi); err != nil || lo < 1 || hi < lo {
				return nil, fmt.Errorf("--iter %q: %q is not a range lo-hi with 1 <= lo <= hi", s, part)
			}
		} else if _, err := fmt.Sscanf(part, "%d", &lo); err != nil || lo < 1 {
			return nil, fmt.Errorf("--iter %q: %q is not an iteration >= 1 (write e.g. 1,101 or 1-200)", s, part)
		} else {
			hi = lo
		}
		for k := lo; k <= hi; k++ {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Dump trains cfg on data and writes the steps opt.Iters into dir.
// Progress lines go to log (may be nil).
func Dump(ctx context.Context, cfg config.Run, data *dataset.Split, dir string, opt Options, log io.Writer) error {
	if len(opt.Iters) == 0 {
		return fmt.Errorf("stepdump: no iterations to dump (give --iter, e.g. 1 or 1,101)")
	}
	if log == nil {
		log = io.Discard
	}
	st, err := train.NewStepper(cfg, data, train.StepperOptions{Im2col: opt.Im2col, From: opt.From})
	if err != nil {
		return err
	}
	defer st.Close()
	if opt.Iters[0] <= st.Iter() {
		return fmt.Errorf("stepdump: %s is at iteration %d; dump later iterations (--iter %d or more)", opt.From, st.Iter(), st.Iter()+1)
	}
	resolved, err := cfg.YAML()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("stepdump: %w (give a writable --out DIR)", err)
	}
	want := map[int]bool{}
	for _, k := range opt.Iters {
		want[k] = true
	}
	first, last := opt.Iters[0], opt.Iters[len(opt.Iters)-1]
	run := RunInfo{Format: Format, Steps: opt.Iters, FirstLoss: st.Iter() + 1}
	for k := st.Iter() + 1; k <= last; k++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !want[k] {
			loss, err := st.Step()
			if err != nil {
				return err
			}
			run.Losses = append(run.Losses, loss)
			continue
		}
		full := k == first || k == last || opt.FullEvery <= 1 || (k-first)%opt.FullEvery == 0
		w := &stepWriter{dir: filepath.Join(dir, fmt.Sprintf("step-%06d", k)), idx: Index{Tensors: map[string]Entry{}}}
		if err := os.MkdirAll(w.dir, 0o755); err != nil {
			return fmt.Errorf("stepdump: %w", err)
		}
		if full {
			w.state(st, "before")
		}
		loss, err := st.Step()
		if err != nil {
			return err
		}
		run.Losses = append(run.Losses, loss)
		w.step(st, cfg, string(resolved), opt, loss, full)
		if full {
			w.state(st, "after")
			w.eval(st)
		}
		if err := w.finish(); err != nil {
			return err
		}
		fmt.Fprintf(log, "dumped step %d (loss %.6f) to %s\n", k, loss, w.dir)
	}
	b, err := json.MarshalIndent(run, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "run.json"), b, 0o644)
}

// stepWriter collects one step's tensors and index.
type stepWriter struct {
	dir string
	idx Index
	err error
}

// f32 writes a float32 tensor (copied at once: the buffers change later).
func (w *stepWriter) f32(name string, shape []int, data []float32) {
	if w.err != nil {
		return
	}
	file := fileName(name) + ".f32"
	buf := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	w.err = os.WriteFile(filepath.Join(w.dir, file), buf, 0o644)
	w.idx.Tensors[name] = Entry{File: file, Shape: slices.Clone(shape), DType: "float32"}
}

// mask writes a mask as bytes into a codebook of its distinct values
// (lossless; a quarter of the float32 size), or as float32 when it has
// more than 256 of them.
func (w *stepWriter) mask(name string, shape []int, data []float32) {
	if w.err != nil {
		return
	}
	codes := map[uint32]byte{}
	var book []float32
	buf := make([]byte, len(data))
	for i, v := range data {
		b := math.Float32bits(v)
		c, ok := codes[b]
		if !ok {
			if len(book) == 256 {
				w.f32(name, shape, data)
				return
			}
			c = byte(len(book))
			codes[b] = c
			book = append(book, v)
		}
		buf[i] = c
	}
	file := fileName(name) + ".u8"
	w.err = os.WriteFile(filepath.Join(w.dir, file), buf, 0o644)
	w.idx.Tensors[name] = Entry{File: file, Shape: slices.Clone(shape), DType: "uint8", Codebook: book}
}

func (w *stepWriter) constant(name string, shape []int, v float32) {
	w.idx.Tensors[name] = Entry{Shape: slices.Clone(shape), Const: &v}
}

// state writes parameters, momentum and BatchNorm statistics with suffix when.
func (w *stepWriter) state(st *train.Stepper, when string) {
	net := st.Net()
	hist := st.History()
	for i, p := range net.Params {
		shape := []int(p.Value.Shape())
		w.f32("param/"+p.Name+"/"+when, shape, p.Data())
		w.f32("momentum/"+p.Name+"/"+when, shape, hist[i])
	}
	for _, name := range bnNames(st) {
		s := net.BN[name]
		w.f32("bn/"+name+"/mean/"+when, []int{len(s.Mean)}, s.Mean)
		w.f32("bn/"+name+"/var/"+when, []int{len(s.Var)}, s.Var)
	}
}

func bnNames(st *train.Stepper) []string {
	names := []string{}
	for name := range st.Net().BN {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// step writes what the step just run used and computed: batch, masks,
// gradients, and the index fields.
func (w *stepWriter) step(st *train.Stepper, cfg config.Run, resolved string, opt Options, loss float64, full bool) {
	net := st.Net()
	sol := st.Solver()
	r := cfg.Ratio()
	path := "direct"
	switch {
	case opt.Im2col:
		path = "im2col"
	case conv.SetName(cfg.KernelSet()) != "":
		path = conv.SetName(cfg.KernelSet())
	}
	w.idx = Index{
		Format: Format, Iteration: st.Iter(), Model: cfg.Model, Variant: string(cfg.Variant()),
		Ratio: map[string]float64{"p": r.P, "q": r.Q}, Gradient: string(cfg.Semantics()),
		Threads: st.Threads(), TrainSize: st.TrainSize(), ConvPath: path, ConvKernels: kernels.ConvSet(conv.SetName(cfg.KernelSet())), BLAS: kernels.Backend,
		Vector: kernels.Vector(), LR: cfg.LRAt(st.Iter()), Momentum: sol.Momentum, WeightDecay: sol.WeightDecay,
		BiasLRMult: sol.BiasLRMult, Loss: loss, Full: full, BN: bnNames(st), Config: resolved, Tensors: w.idx.Tensors,
		Params: []ParamInfo{}, Sites: []SiteInfo{},
	}
	if opt.Im2col {
		w.idx.ConvKernels = "im2col"
	}
	x, y := net.Input()
	w.f32("input/x", []int(net.X.Shape()), x)
	w.f32("input/labels", []int{len(y)}, y)
	mode := dropout.ModeOf(cfg.Variant(), cfg.Semantics())
	for _, s := range net.Sites {
		shape := []int(s.MF.Shape())
		w.idx.Sites = append(w.idx.Sites, SiteInfo{Name: s.Name, Shape: shape})
		// The graph holds a mask node for both passes; the one a variant
		// does not apply is not drawn (standard and forward share one node).
		if mode.UseF {
			w.mask("site/"+s.Name+"/mf", shape, s.Forward())
		} else {
			w.constant("site/"+s.Name+"/mf", shape, 1)
		}
		if mode.UseB {
			w.mask("site/"+s.Name+"/mb", shape, s.Backward())
		} else {
			w.constant("site/"+s.Name+"/mb", shape, 1)
		}
	}
	for _, p := range net.Params {
		w.idx.Params = append(w.idx.Params, ParamInfo{Name: p.Name, IsBias: p.IsBias})
		if full {
			g := p.Grad.Value().Data().([]float32)
			w.f32("param/"+p.Name+"/grad", []int(p.Value.Shape()), g[:len(p.Data())])
		}
	}
}

// eval writes the evaluation graph's logits for the first test images
// with the weights after the step.
func (w *stepWriter) eval(st *train.Stepper) {
	if w.err != nil {
		return
	}
	x, logits, err := st.Evaluate(evalImages)
	if err != nil {
		w.err = err
		return
	}
	shape := slices.Clone([]int(st.Net().X.Shape()))
	k := st.Net().Logits.Shape()[1]
	shape[0] = len(logits) / k
	w.f32("eval/x", shape, x)
	w.f32("eval/logits", []int{shape[0], k}, logits)
}

// evalImages is how many test images a full step evaluates.
const evalImages = 50

func (w *stepWriter) finish() error {
	if w.err != nil {
		return fmt.Errorf("stepdump: writing %s: %w", w.dir, w.err)
	}
	b, err := json.MarshalIndent(w.idx, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(w.dir, "index.json"), b, 0o644)
}

// fileName turns a tensor name into a file name ("param/conv1/W/grad" → "param__conv1__W__grad").
func fileName(name string) string { return strings.ReplaceAll(name, "/", "__") }
