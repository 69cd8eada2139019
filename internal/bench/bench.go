// Package bench measures training and evaluation throughput of a network on
// synthetic data, with the peak resident memory and the heap bytes allocated
// per training iteration, for comparison with other implementations.
package bench

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dropexp/dropexp/internal/conv"
	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/model"
	"github.com/dropexp/dropexp/internal/threads"
)

// Options select what to measure.
type Options struct {
	Model   string
	Batch   int
	Iters   int // timed iterations per block
	Warmup  int
	Blocks  int // timed blocks; the median is reported
	Threads int
	Variant experiment.Variant
	Ratio   float64
	Kernels experiment.Kernels
}

// Result is one measurement, in the JSON form scripts/bench_compare.sh reads.
type Result struct {
	Impl              string  `json:"impl"`
	Model             string  `json:"model"`
	Batch             int     `json:"batch"`
	Threads           int     `json:"threads"`
	BLAS              string  `json:"blas"`
	TrainImgS         float64 `json:"train_img_s"`
	EvalImgS          float64 `json:"eval_img_s"`
	PeakRSSMB         float64 `json:"peak_rss_mb"`
	AllocBytesPerIter float64 `json:"alloc_bytes_per_iter"`
}

// nets are the training and evaluation graphs of a benchmark, on
// synthetic data, and one training step as the trainer runs it.
type nets struct {
	tr, ev  *model.Net
	sampler *dropout.Sampler
}

// build makes the graphs o describes and fills their inputs.
func build(o Options) (*nets, error) {
	opt := model.Options{Model: o.Model, Batch: o.Batch, C: 3, H: 32, W: 32, Classes: 10,
		Variant: o.Variant, Semantics: experiment.Layer, Exec: threads.N(o.Threads), Train: true,
		Kernels: o.Kernels}
	tr, err := model.Build(opt, nil)
	if err != nil {
		return nil, err
	}
	model.Init(tr.Params, rand.New(rand.NewPCG(1, 1)))
	opt.Train = false
	ev, err := model.Build(opt, tr)
	if err != nil {
		tr.Close()
		return nil, err
	}
	rng := rand.New(rand.NewPCG(2, 2))
	for _, n := range []*model.Net{tr, ev} {
		x, y := n.Input()
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		for i := range y {
			y[i] = float32(rng.IntN(10))
		}
	}
	sampler := dropout.NewSampler(o.Variant, experiment.Ratio{P: o.Ratio}, 3)
	sampler.Threads = o.Threads
	return &nets{tr: tr, ev: ev, sampler: sampler}, nil
}

func (n *nets) Close() {
	n.ev.Close()
	n.tr.Close()
}

// step is a training step as the trainer runs it, minus the data copy:
// masks, forward, backward, and an update of every parameter (a small
// fixed cost, included because the other side of a comparison has it).
func (n *nets) step() error {
	n.sampler.Sample(n.tr.Sites)
	if err := n.tr.Run(); err != nil {
		return err
	}
	sgd(n.tr.Params)
	return nil
}

// Run builds the training and evaluation graphs and times them.
func Run(o Options) (Result, error) {
	o.Blocks = max(o.Blocks, 1)
	res := Result{Impl: "dropexp", Model: o.Model, Batch: o.Batch, Threads: o.Threads, BLAS: kernels.Backend + "+" + kernels.Vector() + "+" + kernels.ConvSet(conv.SetName(o.Kernels))}
	ns, err := build(o)
	if err != nil {
		return res, err
	}
	defer ns.Close()
	ev, step := ns.ev, ns.step
	for range o.Warmup {
		if err := step(); err != nil {
			return res, err
		}
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var rates []float64
	for range o.Blocks {
		t0 := time.Now()
		for range o.Iters {
			if err := step(); err != nil {
				return res, err
			}
		}
		rates = append(rates, float64(o.Iters*o.Batch)/time.Since(t0).Seconds())
	}
	runtime.ReadMemStats(&ms1)
	res.TrainImgS = median(rates)
	res.AllocBytesPerIter = float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(o.Iters*o.Blocks)
	for range max(o.Warmup, 1) {
		if err := ev.Run(); err != nil {
			return res, err
		}
	}
	rates = rates[:0]
	for range o.Blocks {
		t0 := time.Now()
		for range o.Iters {
			if err := ev.Run(); err != nil {
				return res, err
			}
		}
		rates = append(rates, float64(o.Iters*o.Batch)/time.Since(t0).Seconds())
	}
	res.EvalImgS = median(rates)
	res.PeakRSSMB = peakRSS()
	return res, nil
}

// sgd applies a plain momentum-free update so the benchmark touches every parameter as training does.
func sgd(params []*model.Param) {
	for _, p := range params {
		w, g := p.Data(), p.Grad.Value().Data().([]float32)
		for i := range w {
			w[i] -= 1e-6 * g[i]
		}
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// peakRSS reads the process's peak resident set (VmHWM) in MB; 0 where /proc is missing.
func peakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// String formats a result for people.
func (r Result) String() string {
	return fmt.Sprintf("%s %s batch %d threads %d (%s): train %.0f img/s, eval %.0f img/s, peak RSS %.0f MB, %.0f B allocated/iteration",
		r.Impl, r.Model, r.Batch, r.Threads, r.BLAS, r.TrainImgS, r.EvalImgS, r.PeakRSSMB, r.AllocBytesPerIter)
}
