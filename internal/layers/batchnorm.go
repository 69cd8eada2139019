package layers

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/opbase"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BNStats are a BatchNorm layer's running mean and variance. They belong to
// the model (saved with its weights) and are shared by its training graph,
// which updates them, and its evaluation graph, which normalises with them;
// unlike Gorgonia's BatchNorm, nothing resets them when the mode changes.
type BNStats struct {
	Mean, Var []float32
}

// NewBNStats returns running statistics for c channels: mean 0, variance 1.
func NewBNStats(c int) *BNStats {
	s := &BNStats{Mean: make([]float32, c), Var: make([]float32, c)}
	for i := range s.Var {
		s.Var[i] = 1
	}
	return s
}

// BNConfig describes a BatchNorm layer.
type BNConfig struct {
	Name     string
	Train    bool    // batch statistics (and update the running ones) or running statistics
	Momentum float64 // weight of the new batch in the running averages (PyTorch's 0.1)
	Eps      float64
	Threads  int
	// ReLU applies max(·, 0) to the output inside the op, which saves a
	// pass over the activations in each direction.
	ReLU bool
}

// BatchNorm adds y = γ (x − μ)/√(σ² + ε) + β per channel of an N×C×H×W node
// (y = max(that, 0) with cfg.ReLU).
func BatchNorm(cfg BNConfig, x, gamma, beta *G.Node, stats *BNStats) (*G.Node, error) {
	if cfg.Eps == 0 {
		cfg.Eps = defaultEps
	}
	return G.ApplyOp(&bnOp{Base: opbase.Base{Name: "bn:" + cfg.Name}, cfg: cfg, stats: stats}, x, gamma, beta)
}

type bnOp struct {
	opbase.Base
	cfg   BNConfig
	stats *BNStats
	out   opbase.Buffer
	// The batch mean and 1/√(σ²+ε) of the last training run. The backward
	// pass recomputes x̂ = (x − μ)·inv from x with their float32 roundings,
	// as the forward pass used them, rather than keeping a copy of x̂ (one
	// tensor less to write per step and to hold).
	mean, inv []float64
	// The three gradient ops need the same per-channel sums Σδ and Σδx̂;
	// whichever runs first in a step computes them for the others.
	sd, sdx      []float64
	step, summed int // forward runs so far; the run the sums belong to
}

func (op *bnOp) Arity() int    { return 3 }
func (op *bnOp) Type() hm.Type { return opbase.Fn(4, 4, 1, 1) }
func (op *bnOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := opbase.Shape(ds[0])
	if err != nil {
		return nil, err
	}
	if len(s) != 4 || s[1] != len(op.stats.Mean) {
		return nil, fmt.Errorf("%s: input %v does not have %d channels", op.Name, s, len(op.stats.Mean))
	}
	return s.Clone(), nil
}

func (op *bnOp) Do(vs ...G.Value) (G.Value, error) {
	x, gamma, beta := opbase.F32(vs[0]), opbase.F32(vs[1]), opbase.F32(vs[2])
	s := vs[0].Shape()
	n, c, p := s[0], s[1], s[2]*s[3]
	out := op.out.Get(s, false)
	y := out.Float32s()
	if len(op.inv) != c {
		op.mean, op.inv = make([]float64, c), make([]float64, c)
		op.sd, op.sdx = make([]float64, c), make([]float64, c)
	}
	op.step++
	kernels.Parallel(c, op.cfg.Threads, func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var mean, inv float64
			if op.cfg.Train {
				// Sums are taken about the channel's first value, so a large
				// mean does not cancel the variance away.
				shift := x[ch*p]
				var sum, sq float64
				for i := 0; i < n; i++ {
					s1, s2 := kernels.SumSq(x[(i*c+ch)*p:(i*c+ch+1)*p], shift)
					sum += s1
					sq += s2
				}
				m := float64(n * p)
				v := max(sq/m-(sum/m)*(sum/m), 0)
				mean = float64(shift) + sum/m
				inv = 1 / math.Sqrt(v+op.cfg.Eps)
				op.mean[ch], op.inv[ch] = mean, inv
				mom := op.cfg.Momentum
				// Running variance is the unbiased estimate, as in PyTorch.
				op.stats.Mean[ch] = float32((1-mom)*float64(op.stats.Mean[ch]) + mom*mean)
				op.stats.Var[ch] = float32((1-mom)*float64(op.stats.Var[ch]) + mom*v*m/max(m-1, 1))
			} else {
				mean, inv = op.stats.running(ch, op.cfg.Eps)
			}
			mu, g, b := affine(mean, inv, gamma[ch], beta[ch])
			for i := 0; i < n; i++ {
				off := (i*c + ch) * p
				src, dst := x[off:off+p], y[off:off+p]
				if op.cfg.ReLU {
					kernels.NormalizeReLU(dst, src, mu, g, b)
				} else {
					kernels.Normalize(dst, src, mu, g, b)
				}
			}
		}
	})
	return out, nil
}

// affine returns the float32 μ, γ·inv and β that normalise as (x − μ)·g + b.
func affine(mean, inv float64, gamma, beta float32) (mu, g, b float32) {
	return float32(mean), float32(float64(gamma) * inv), beta
}

// EvalAffine fills mu, g and b with what an evaluation-mode BatchNorm with
// these statistics, γ, β and ε (0: the default) computes (x − mu)·g + b with,
// so another op can apply it to the same bits.
func (s *BNStats) EvalAffine(mu, g, b, gamma, beta []float32, eps float64) {
	if eps == 0 {
		eps = defaultEps
	}
	for ch := range s.Mean {
		mean, inv := s.running(ch, eps)
		mu[ch], g[ch], b[ch] = affine(mean, inv, gamma[ch], beta[ch])
	}
}

// running returns channel ch's running mean and 1/√(σ²+ε), the statistics
// an evaluation normalises with.
func (s *BNStats) running(ch int, eps float64) (mean, inv float64) {
	return float64(s.Mean[ch]), 1 / math.Sqrt(float64(s.Var[ch])+eps)
}

// defaultEps is BatchNorm's ε when the config leaves it 0 (PyTorch's).
const defaultEps = 1e-5

func (op *bnOp) DiffWRT(int) []bool { return []bool{true, true, true} }
func (op *bnOp) SymDiff(ins G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if !op.cfg.Train {
		return nil, fmt.Errorf("%s: an evaluation-mode BatchNorm has no gradient", op.Name)
	}
	var out G.Nodes
	for _, part := range []struct {
		suffix string
		part   byte
	}{{"/dx", 'x'}, {"/dgamma", 'g'}, {"/dbeta", 'b'}} {
		ins := G.Nodes{ins[1], grad, ins[0]}
		if op.cfg.ReLU {
			ins = append(ins, output)
		}
		d, err := G.ApplyOp(&bnGrad{Base: opbase.Base{Name: op.Name + part.suffix}, fwd: op, part: part.part}, ins...)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// bnGrad computes one of ∂J/∂x, ∂J/∂γ, ∂J/∂β from γ, δ and x:
// ∂J/∂β = Σδ, ∂J/∂γ = Σδx̂, ∂J/∂x = γ/√(σ²+ε) · (δ − Σδ/m − x̂ Σδx̂/m).
// With a fused ReLU its fourth input is the output y and δ means δ⊙[y>0].
type bnGrad struct {
	opbase.Base
	fwd  *bnOp
	part byte
	out  opbase.Buffer
}

func (op *bnGrad) Arity() int {
	if op.fwd.cfg.ReLU {
		return 4
	}
	return 3
}
func (op *bnGrad) Type() hm.Type {
	ins := []int{1, 4, 4, 4}[:op.Arity()]
	if op.part == 'x' {
		return opbase.Fn(4, ins...)
	}
	return opbase.Fn(1, ins...)
}
func (op *bnGrad) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := opbase.Shape(ds[1])
	if err != nil {
		return nil, err
	}
	if op.part == 'x' {
		return s.Clone(), nil
	}
	return tensor.Shape{s[1]}, nil
}
func (op *bnGrad) Do(vs ...G.Value) (G.Value, error) {
	gamma, d := opbase.F32(vs[0]), opbase.F32(vs[1])
	s := vs[1].Shape()
	n, c, p := s[0], s[1], s[2]*s[3]
	x := opbase.F32(vs[2])[:len(d)]
	var out *tensor.Dense
	if op.part == 'x' {
		out = op.out.Get(s, false)
	} else {
		out = op.out.Get(tensor.Shape{c}, false)
	}
	od := out.Float32s()
	var y []float32
	if op.fwd.cfg.ReLU {
		y = opbase.F32(vs[3])[:len(d)]
	}
	f := op.fwd
	if f.summed != f.step {
		kernels.Parallel(c, f.cfg.Threads, func(_, lo, hi int) {
			for ch := lo; ch < hi; ch++ {
				var sd, sdx float64
				for i := 0; i < n; i++ {
					off := (i*c + ch) * p
					var ys []float32
					if y != nil {
						ys = y[off : off+p]
					}
					s1, s2 := kernels.StdSums(d[off:off+p], x[off:off+p], ys, float32(f.mean[ch]), float32(f.inv[ch]))
					sd += s1
					sdx += s2
				}
				f.sd[ch], f.sdx[ch] = sd, sdx
			}
		})
		f.summed = f.step
	}
	switch op.part {
	case 'b':
		for ch := range od {
			od[ch] = float32(f.sd[ch])
		}
		return out, nil
	case 'g':
		for ch := range od {
			od[ch] = float32(f.sdx[ch])
		}
		return out, nil
	}
	m := float64(n * p)
	kernels.Parallel(c, f.cfg.Threads, func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			k := float32(float64(gamma[ch]) * f.inv[ch])
			a, b := float32(f.sd[ch]/m), float32(f.sdx[ch]/m)
			for i := 0; i < n; i++ {
				off := (i*c + ch) * p
				var ys []float32
				if y != nil {
					ys = y[off : off+p]
				}
				kernels.BNGrad(od[off:off+p], d[off:off+p], x[off:off+p], ys, float32(f.mean[ch]), float32(f.inv[ch]), k, a, b)
			}
		}
	})
	return out, nil
}
