package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dropexp/dropexp/internal/conv"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/opbase"
)

// Layer is the time one op of a training step took, per iteration.
type Layer struct {
	Name   string      `json:"name"`
	Pass   opbase.Pass `json:"-"`
	PassS  string      `json:"pass"`
	Ms     float64     `json:"ms_per_iter"`
	Share  float64     `json:"share_of_step"`
	GFlops float64     `json:"gflop_s,omitempty"` // 0 where the op does no counted FLOPs
}

// Layers is where one training step's time goes.
type Layers struct {
	Model     string   `json:"model"`
	Batch     int      `json:"batch"`
	Threads   int      `json:"threads"`
	Kernels   string   `json:"kernels"`
	PeakGFlop float64  `json:"peak_gflop_s"`
	StepMs    float64  `json:"step_ms"`
	MasksMs   float64  `json:"masks_ms"`
	UpdateMs  float64  `json:"update_ms"`
	Ops       []Layer  `json:"ops"`
	Passes    []Layer  `json:"passes"` // the convolution and linear ops summed by pass, then all element-wise ops
	Notes     []string `json:"notes,omitempty"`
}

// RunLayers times every op of o.Iters training steps (after o.Warmup
// untimed ones) and reads their FLOP rates against peak, the machine's
// measured multiply-add throughput (Peak) on o.Threads threads.
func RunLayers(o Options, peak float64) (Layers, error) {
	res := Layers{Model: o.Model, Batch: o.Batch, Threads: o.Threads, Kernels: kernels.Impl(conv.SetName(o.Kernels)), PeakGFlop: peak}
	ns, err := build(o)
	if err != nil {
		return res, err
	}
	defer ns.Close()
	for range o.Warmup {
		if err := ns.step(); err != nil {
			return res, err
		}
	}
	iters := max(o.Iters, 1)
	var masks, update time.Duration
	prof := opbase.StartProfile()
	t0 := time.Now()
	for range iters {
		t := time.Now()
		ns.sampler.Sample(ns.tr.Sites)
		masks += time.Since(t)
		if err := ns.tr.Run(); err != nil {
			prof.Stop()
			return res, err
		}
		t = time.Now()
		sgd(ns.tr.Params)
		update += time.Since(t)
	}
	step := time.Since(t0)
	prof.Stop()
	per := func(d time.Duration) float64 { return d.Seconds() * 1e3 / float64(iters) }
	res.StepMs, res.MasksMs, res.UpdateMs = per(step), per(masks), per(update)
	byPass := map[string]*Layer{}
	var order []string
	var counted time.Duration
	for _, op := range prof.Ops() {
		l := Layer{Name: op.Name, Pass: op.Pass, PassS: op.Pass.String(), Ms: per(op.Time), Share: op.Time.Seconds() / step.Seconds()}
		if op.Flops > 0 && op.Time > 0 {
			l.GFlops = op.Flops / op.Time.Seconds() / 1e9
		}
		res.Ops = append(res.Ops, l)
		counted += op.Time
		key := op.Pass.String()
		if op.Pass != opbase.Elementwise {
			key = strings.SplitN(op.Name, ":", 2)[0] + " " + key
		}
		p := byPass[key]
		if p == nil {
			p = &Layer{Name: key, Pass: op.Pass, PassS: op.Pass.String()}
			byPass[key] = p
			order = append(order, key)
		}
		p.Ms += l.Ms
		p.Share += l.Share
		if op.Flops > 0 {
			p.GFlops += op.Flops // summed here, made a rate below
		}
	}
	for _, k := range order {
		p := *byPass[k]
		if p.GFlops > 0 {
			p.GFlops = p.GFlops / float64(iters) / (p.Ms / 1e3) / 1e9
		}
		res.Passes = append(res.Passes, p)
	}
	if conv := res.sum("conv "); conv.Ms > 0 {
		res.Passes = append(res.Passes, conv)
	}
	res.Passes = append(res.Passes, Layer{Name: "masks (outside the graph)", Ms: res.MasksMs, Share: res.MasksMs / res.StepMs},
		Layer{Name: "update (outside the graph)", Ms: res.UpdateMs, Share: res.UpdateMs / res.StepMs})
	rest := step - counted - masks - update
	res.Passes = append(res.Passes, Layer{Name: "graph machine and other", Ms: per(rest), Share: rest.Seconds() / step.Seconds()})
	return res, nil
}

// sum is the convolution passes together: time, share and FLOP rate.
func (r Layers) sum(prefix string) Layer {
	s := Layer{Name: "all convolution passes"}
	var flops float64
	for _, p := range r.Passes {
		if strings.HasPrefix(p.Name, prefix) {
			s.Ms += p.Ms
			s.Share += p.Share
			flops += p.GFlops * p.Ms
		}
	}
	if s.Ms > 0 {
		s.GFlops = flops / s.Ms
	}
	return s
}

// Write prints r as two tables: every op, then the passes summed.
func (r Layers) Write(w io.Writer) error {
	fmt.Fprintf(w, "%s batch %d, %d threads, kernels %s\n", r.Model, r.Batch, r.Threads, r.Kernels)
	fmt.Fprintf(w, "step %.2f ms (%.0f img/s); peak %.1f GFLOP/s (dropexp bench --peak on %d threads); FLOPs counted as a direct convolution computes them\n\n",
		r.StepMs, float64(r.Batch)/r.StepMs*1e3, r.PeakGFlop, r.Threads)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(l Layer) {
		gf, pk := "", ""
		if l.GFlops > 0 {
			gf = fmt.Sprintf("%.1f", l.GFlops)
			if r.PeakGFlop > 0 {
				pk = fmt.Sprintf("%.0f %%", 100*l.GFlops/r.PeakGFlop)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.1f %%\t%s\t%s\t\n", l.Name, l.PassS, l.Ms, 100*l.Share, gf, pk)
	}
	fmt.Fprintf(tw, "op\tpass\tms/iter\tof step\tGFLOP/s\tof peak\t\n")
	for _, l := range r.Ops {
		row(l)
	}
	fmt.Fprintf(tw, "\t\t\t\t\t\t\n")
	fmt.Fprintf(tw, "passes\t\tms/iter\tof step\tGFLOP/s\tof peak\t\n")
	for _, l := range r.Passes {
		row(l)
	}
	return tw.Flush()
}
