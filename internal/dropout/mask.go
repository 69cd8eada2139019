package dropout

import (
	"math/rand/v2"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/pcg"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mode says which masks a site applies and which features its layer's
// weight gradient sees.
type Mode struct {
	UseF bool                 // forward value uses h ⊙ mf
	UseB bool                 // error to h is multiplied by mb
	Sem  experiment.Semantics // weight gradient: layer → h ⊙ mb, elementwise → h ⊙ mf
}

// ModeOf returns the masks variant v applies under semantics sem.
func ModeOf(v experiment.Variant, sem experiment.Semantics) Mode {
	return Mode{UseF: v.MasksForward(), UseB: v.MasksBackward(), Sem: sem}
}

// Masked reports whether the site applies any mask.
func (m Mode) Masked() bool { return m.UseF || m.UseB }

// weightMask returns which mask the weight gradient multiplies h by: 'f', 'b' or 0 for none.
func (m Mode) weightMask() byte {
	switch {
	case m.Sem == experiment.Elementwise && m.UseF:
		return 'f'
	case m.Sem != experiment.Elementwise && m.UseB:
		return 'b'
	}
	return 0
}

// Site is one dropout site: the mask inputs of the layer that consumes h.
// Unless the variant's backward mask is its own draw, MF and MB are one
// node, so one draw serves both passes.
type Site struct {
	Name   string
	MF, MB *G.Node
	mf, mb *tensor.Dense
}

// NewSite adds the mask input nodes of a site on an input of the given shape
// to g; variant v decides whether the backward mask is its own draw.
func NewSite(g *G.ExprGraph, name string, shape tensor.Shape, v experiment.Variant) *Site {
	mk := func(suffix string) (*G.Node, *tensor.Dense) {
		t := tensor.New(tensor.WithShape(shape.Clone()...), tensor.Of(tensor.Float32))
		t.Memset(float32(1))
		return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape.Clone()...), G.WithName(name+"/"+suffix), G.WithValue(t)), t
	}
	s := &Site{Name: name}
	s.MF, s.mf = mk("mf")
	if v.OwnBackwardDraw() {
		s.MB, s.mb = mk("mb")
	} else {
		s.MB, s.mb = s.MF, s.mf
	}
	return s
}

// Forward returns the forward mask's data (writable, e.g. for fixed masks in tests).
func (s *Site) Forward() []float32 { return s.mf.Float32s() }

// Backward returns the backward mask's data.
func (s *Site) Backward() []float32 { return s.mb.Float32s() }

// Sampler draws fresh masks for every site at every training step from its own seeded source.
type Sampler struct {
	Variant experiment.Variant
	Ratio   experiment.Ratio
	// Threads draws a large mask in this many parts at once, each part
	// from the source jumped ahead to where a single draw would be there:
	// the masks do not depend on it.
	Threads int
	pcg     *rand.PCG
}

// NewSampler returns a sampler for variant v and ratio r seeded with seed.
func NewSampler(v experiment.Variant, r experiment.Ratio, seed uint64) *Sampler {
	return &Sampler{Variant: v, Ratio: r, Threads: 1, pcg: rand.NewPCG(seed, 0x9e3779b97f4a7c15)}
}

// maskRules are the variants' mask rules: how a sampler draws one site's
// masks for a training step. Every variant of the variant table has one
// (TestEveryVariantHasAMaskRule); plain's draws nothing.
var maskRules = map[experiment.Variant]func(s *Sampler, site *Site){
	experiment.Plain: func(*Sampler, *Site) {},
	// MB is MF: one draw drops the features and their errors.
	experiment.Standard: func(s *Sampler, site *Site) { s.fill(site.Forward(), s.Ratio.P, false) },
	// MB is MF, which the backward pass does not apply.
	experiment.Forward: func(s *Sampler, site *Site) { s.fill(site.Forward(), s.Ratio.P, false) },
	// MB is its own node (its draw only), which the forward pass does not apply.
	experiment.Backward: func(s *Sampler, site *Site) { s.fill(site.Backward(), s.Ratio.P, false) },
	// mb = mf ⊙ ε_q: the backward pass drops what the forward pass did, and more.
	experiment.Augmented: func(s *Sampler, site *Site) {
		s.fill(site.Forward(), s.Ratio.P, false)
		copy(site.Backward(), site.Forward())
		s.fill(site.Backward(), s.Ratio.Q, true)
	},
	// mf and mb: two draws at p, the forward one first.
	experiment.Independent: func(s *Sampler, site *Site) {
		s.fill(site.Forward(), s.Ratio.P, false)
		s.fill(site.Backward(), s.Ratio.P, false)
	},
}

// Sample fills the masks of every site for one training step.
func (s *Sampler) Sample(sites []*Site) {
	rule, ok := maskRules[s.Variant]
	if !ok {
		// Validation admits only the variant table's variants, and each has a rule.
		panic("dropout: no mask rule for variant " + string(s.Variant))
	}
	for _, site := range sites {
		rule(s, site)
	}
}

// partPairs is the fewest draws worth a part of their own.
const partPairs = 1 << 14

// fill writes ε ~ Bernoulli(1-r)/(1-r) into dst, or multiplies dst by it.
func (s *Sampler) fill(dst []float32, r float64, multiply bool) {
	if r == 0 {
		if !multiply {
			for i := range dst {
				dst[i] = 1
			}
		}
		return
	}
	keep := 1 - r
	// A 32-bit uniform draw per element: two per PCG output, low half
	// first; an element is kept when its draw is below keep·2³².
	thresh, kept := pcg.Threshold(keep), float32(1/keep)
	pairs := len(dst) / 2
	if parts := min(s.Threads, pairs/partPairs); parts > 1 {
		kernels.Parallel(pairs, parts, func(_, lo, hi int) {
			p := pcg.Jump(s.pcg, uint64(lo))
			pcg.Eps(&p, dst[2*lo:2*hi], thresh, kept, multiply)
		})
		*s.pcg = pcg.Jump(s.pcg, uint64(pairs))
	} else {
		pcg.Eps(s.pcg, dst[:2*pairs], thresh, kept, multiply)
	}
	if n := 2 * pairs; n < len(dst) {
		if v := pcg.NewOf(thresh, kept).Eps(s.pcg.Uint64()); multiply {
			dst[n] *= v
		} else {
			dst[n] = v
		}
	}
}

// MarshalBinary saves the sampler's random state (for checkpoints).
func (s *Sampler) MarshalBinary() ([]byte, error) { return s.pcg.MarshalBinary() }

// UnmarshalBinary restores a state saved by MarshalBinary.
func (s *Sampler) UnmarshalBinary(b []byte) error { return s.pcg.UnmarshalBinary(b) }
