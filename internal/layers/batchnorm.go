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
	op := &bnOp{name: "bn:" + cfg.Name, cfg: cfg, stats: stats}
	return opbase.Apply(opbase.Spec{
		Name: op.name, In: opbase.Ts(4, 1, 1), Out: opbase.T(4),
		Shape: func(in []tensor.Shape) (tensor.Shape, error) {
			s := in[0]
			if len(s) != 4 || s[1] != len(op.stats.Mean) {
				return nil, fmt.Errorf("%s: input %v does not have %d channels", op.name, s, len(op.stats.Mean))
			}
			return s.Clone(), nil
		},
		Forward:  op.forward,
		Diff:     []bool{true, true, true},
		Backward: op.backward,
	}, x, gamma, beta)
}

// bnOp is one BatchNorm layer.
type bnOp struct {
	name  string
	cfg   BNConfig
	stats *BNStats
	out   opbase.Buffer
	// mean and inv are saved by a training forward pass for the backward
	// pass: the batch mean and 1/√(σ²+ε). The backward pass recomputes
	// x̂ = (x − μ)·inv from x with their float32 roundings, as the forward
	// pass used them, rather than keeping a copy of x̂ (one tensor less to
	// write per step and to hold).
	mean, inv []float64
	// relu, with a fused ReLU, is the affine map the forward pass
	// normalised each channel with, from which the backward pass
	// recomputes where the output y is not zero (kernels.ReLUOf) instead
	// of reading y.
	relu       []kernels.ReLUOf
	sums       *tensor.Dense // the gradient ops' outputs
	dx, dg, db opbase.Buffer
}

func (op *bnOp) forward(vs []G.Value) (G.Value, error) {
	x, gamma, beta := opbase.F32(vs[0]), opbase.F32(vs[1]), opbase.F32(vs[2])
	s := vs[0].Shape()
	n, c, p := s[0], s[1], s[2]*s[3]
	out := op.out.Get(s, false)
	y := out.Float32s()
	if len(op.inv) != c {
		op.mean, op.inv, op.relu = make([]float64, c), make([]float64, c), make([]kernels.ReLUOf, c)
	}
	kernels.Parallel(c, op.cfg.Threads, func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var mean, inv float64
			if op.cfg.Train {
				// Sums are taken about the channel's first value, so a large
				// mean does not cancel the variance away.
				shift := x[ch*p]
				var sum, sq float64
				at := func(i int) []float32 { return x[(i*c+ch)*p : (i*c+ch+1)*p] }
				i := 0
				for ; i+4 <= n; i += 4 {
					s1, s2 := kernels.SumSq4(&[4][]float32{at(i), at(i + 1), at(i + 2), at(i + 3)}, shift)
					for k := range s1 {
						sum += s1[k]
						sq += s2[k]
					}
				}
				for ; i < n; i++ {
					s1, s2 := kernels.SumSq(at(i), shift)
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
			op.relu[ch] = kernels.ReLUOf{On: op.cfg.ReLU, Mu: mu, G: g, B: b}
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

// backward adds the gradient ops. ∂J/∂β = Σδ and ∂J/∂γ = Σδx̂ per channel
// are one op's output (sums, in float64), and ∂J/∂x =
// γ/√(σ²+ε) · (δ − Σδ/m − x̂ Σδx̂/m) needs them. The sums op computes ∂J/∂x
// as well, channel by channel right after the channel's sums, while its δ
// and x are still in cache (one pass less over both); the dx op only hands
// that buffer on. With a fused ReLU, δ means δ⊙[y>0], where y > 0 is
// recomputed from x (op.relu).
func (op *bnOp) backward(ins G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if !op.cfg.Train {
		return nil, fmt.Errorf("%s: an evaluation-mode BatchNorm has no gradient", op.name)
	}
	sumsType := G.TensorType{Dims: 2, Of: tensor.Float64}
	sums, err := opbase.Apply(opbase.Spec{
		Name: op.name + "/sums", In: opbase.Ts(4, 4, 1), Out: sumsType,
		Shape:   func(in []tensor.Shape) (tensor.Shape, error) { return tensor.Shape{2, in[0][1]}, nil },
		Forward: op.sumsForward,
	}, grad, ins[0], ins[1]) // δ, x, γ
	if err != nil {
		return nil, err
	}
	dx, err := opbase.Apply(opbase.Spec{
		Name: op.name + "/dx", In: append(opbase.Ts(4), sumsType), Out: opbase.T(4),
		Shape: func(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil },
		// The sums op has written ∂J/∂x into op.dx; δ is an input for its shape.
		Forward: func(vs []G.Value) (G.Value, error) { return op.dx.Get(vs[0].Shape(), false), nil },
	}, grad, sums)
	if err != nil {
		return nil, err
	}
	part := func(suffix string, row int, buf *opbase.Buffer) (*G.Node, error) {
		return opbase.Apply(opbase.Spec{
			Name: op.name + suffix, In: []hm.Type{sumsType}, Out: opbase.T(1),
			Shape: func(in []tensor.Shape) (tensor.Shape, error) { return tensor.Shape{in[0][1]}, nil },
			Forward: func(vs []G.Value) (G.Value, error) {
				s := vs[0].(*tensor.Dense).Float64s()
				c := len(s) / 2
				out := buf.Get(tensor.Shape{c}, false)
				od := out.Float32s()
				for ch := range od {
					od[ch] = float32(s[row*c+ch])
				}
				return out, nil
			},
		}, sums)
	}
	dg, err := part("/dgamma", 1, &op.dg)
	if err != nil {
		return nil, err
	}
	db, err := part("/dbeta", 0, &op.db)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dg, db}, nil
}

// sumsForward computes Σδ (row 0) and Σδx̂ (row 1) per channel from δ, x
// and γ, and then the channel's ∂J/∂x into op.dx.
func (op *bnOp) sumsForward(vs []G.Value) (G.Value, error) {
	d, gamma := opbase.F32(vs[0]), opbase.F32(vs[2])
	s := vs[0].Shape()
	n, c, p := s[0], s[1], s[2]*s[3]
	x := opbase.F32(vs[1])[:len(d)]
	if op.sums == nil || op.sums.Shape()[1] != c {
		op.sums = tensor.New(tensor.WithShape(2, c), tensor.Of(tensor.Float64))
	}
	out := op.sums
	sums := out.Float64s()
	dx := op.dx.Get(s, false).Float32s()
	m := float64(n * p)
	kernels.Parallel(c, op.cfg.Threads, func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var sd, sdx float64
			r, mu, inv := op.relu[ch], float32(op.mean[ch]), float32(op.inv[ch])
			at := func(s []float32, i int) []float32 { return s[(i*c+ch)*p : (i*c+ch+1)*p] }
			i := 0
			for ; i+4 <= n; i += 4 {
				dd := [4][]float32{at(d, i), at(d, i+1), at(d, i+2), at(d, i+3)}
				xx := [4][]float32{at(x, i), at(x, i+1), at(x, i+2), at(x, i+3)}
				s1, s2 := kernels.StdSums4(&dd, &xx, r, mu, inv)
				for k := range s1 {
					sd += s1[k]
					sdx += s2[k]
				}
			}
			for ; i < n; i++ {
				s1, s2 := kernels.StdSums(at(d, i), at(x, i), r, mu, inv)
				sd += s1
				sdx += s2
			}
			sums[ch], sums[c+ch] = sd, sdx
			k := float32(float64(gamma[ch]) * op.inv[ch])
			a, b := float32(sd/m), float32(sdx/m)
			for i := 0; i < n; i++ {
				kernels.BNGrad(at(dx, i), at(d, i), at(x, i), r, mu, inv, k, a, b)
			}
		}
	})
	return out, nil
}
