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
}

// BatchNorm adds y = γ (x − μ)/√(σ² + ε) + β per channel of an N×C×H×W node.
func BatchNorm(cfg BNConfig, x, gamma, beta *G.Node, stats *BNStats) (*G.Node, error) {
	if cfg.Eps == 0 {
		cfg.Eps = 1e-5
	}
	return G.ApplyOp(&bnOp{Base: opbase.Base{Name: "bn:" + cfg.Name}, cfg: cfg, stats: stats}, x, gamma, beta)
}

type bnOp struct {
	opbase.Base
	cfg       BNConfig
	stats     *BNStats
	out       opbase.Buffer
	xhat      opbase.Floats
	mean, inv []float64 // batch mean and 1/√(σ²+ε) of the last training run
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
	if len(op.mean) != c {
		op.mean, op.inv = make([]float64, c), make([]float64, c)
	}
	var xhat []float32
	if op.cfg.Train {
		xhat = op.xhat.Get(len(x))
	}
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
				mean = float64(op.stats.Mean[ch])
				inv = 1 / math.Sqrt(float64(op.stats.Var[ch])+op.cfg.Eps)
			}
			g, b := float32(float64(gamma[ch])*inv), beta[ch]
			mu, inv32 := float32(mean), float32(inv)
			for i := 0; i < n; i++ {
				off := (i*c + ch) * p
				src, dst := x[off:off+p], y[off:off+p]
				if xhat != nil {
					xh := xhat[off : off+p]
					for j, v := range src {
						xh[j] = (v - mu) * inv32
					}
				}
				for j, v := range src {
					dst[j] = (v-mu)*g + b
				}
			}
		}
	})
	return out, nil
}

func (op *bnOp) DiffWRT(int) []bool { return []bool{true, true, true} }
func (op *bnOp) SymDiff(ins G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if !op.cfg.Train {
		return nil, fmt.Errorf("%s: an evaluation-mode BatchNorm has no gradient", op.Name)
	}
	dx, err := G.ApplyOp(&bnGrad{Base: opbase.Base{Name: op.Name + "/dx"}, fwd: op, part: 'x'}, ins[1], grad)
	if err != nil {
		return nil, err
	}
	dg, err := G.ApplyOp(&bnGrad{Base: opbase.Base{Name: op.Name + "/dgamma"}, fwd: op, part: 'g'}, ins[1], grad)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(&bnGrad{Base: opbase.Base{Name: op.Name + "/dbeta"}, fwd: op, part: 'b'}, ins[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dg, db}, nil
}

// bnGrad computes one of ∂J/∂x, ∂J/∂γ, ∂J/∂β from γ and δ (x̂ comes from the forward op):
// ∂J/∂β = Σδ, ∂J/∂γ = Σδx̂, ∂J/∂x = γ/√(σ²+ε) · (δ − Σδ/m − x̂ Σδx̂/m).
type bnGrad struct {
	opbase.Base
	fwd  *bnOp
	part byte
	out  opbase.Buffer
}

func (op *bnGrad) Arity() int { return 2 }
func (op *bnGrad) Type() hm.Type {
	if op.part == 'x' {
		return opbase.Fn(4, 1, 4)
	}
	return opbase.Fn(1, 1, 4)
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
	xhat := op.fwd.xhat[:len(d)]
	var out *tensor.Dense
	if op.part == 'x' {
		out = op.out.Get(s, false)
	} else {
		out = op.out.Get(tensor.Shape{c}, false)
	}
	od := out.Float32s()
	m := float64(n * p)
	kernels.Parallel(c, op.fwd.cfg.Threads, func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var sd, sdx float64
			for i := 0; i < n; i++ {
				off := (i*c + ch) * p
				s1, s2 := kernels.SumDot(d[off:off+p], xhat[off:off+p])
				sd += s1
				sdx += s2
			}
			switch op.part {
			case 'b':
				od[ch] = float32(sd)
			case 'g':
				od[ch] = float32(sdx)
			default:
				k := float32(float64(gamma[ch]) * op.fwd.inv[ch])
				a, b := float32(sd/m), float32(sdx/m)
				for i := 0; i < n; i++ {
					off := (i*c + ch) * p
					xh, dst := xhat[off:off+p], od[off:off+p]
					for j, v := range d[off : off+p] {
						dst[j] = k * (v - a - xh[j]*b)
					}
				}
			}
		}
	})
	return out, nil
}
