package train

import "github.com/dropexp/dropexp/internal/model"

// Solver is Caffe's SGD with momentum: v = μv + lr·mult·(g + λw); w = w − v.
type Solver struct {
	Momentum, WeightDecay, BiasLRMult float64
	params                            []*model.Param
	history                           [][]float32
}

// NewSolver returns a solver for params with zero momentum history.
func NewSolver(params []*model.Param, momentum, weightDecay, biasLRMult float64) *Solver {
	s := &Solver{Momentum: momentum, WeightDecay: weightDecay, BiasLRMult: biasLRMult, params: params}
	for _, p := range params {
		s.history = append(s.history, make([]float32, len(p.Data())))
	}
	return s
}

// Step applies one update with learning rate lr using the gradients of the last run.
func (s *Solver) Step(lr float64) {
	mu, wd := float32(s.Momentum), float32(s.WeightDecay)
	for i, p := range s.params {
		rate := lr
		if p.IsBias {
			rate *= s.BiasLRMult
		}
		r := float32(rate)
		w, v := p.Data(), s.history[i]
		g := p.Grad.Value().Data().([]float32)[:len(w)]
		v = v[:len(w)]
		for j := range w {
			v[j] = mu*v[j] + r*(g[j]+wd*w[j])
			w[j] -= v[j]
		}
	}
}

// History returns the momentum buffers, one per parameter (for checkpoints).
func (s *Solver) History() [][]float32 { return s.history }
