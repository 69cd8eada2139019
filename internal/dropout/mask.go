package dropout

import (
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mode says which masks a site applies and which features its layer's
// weight gradient sees.
type Mode struct {
	UseF bool      // forward value uses h ⊙ mf
	UseB bool      // error to h is multiplied by mb
	Sem  Semantics // weight gradient: layer → h ⊙ mb, elementwise → h ⊙ mf
}

// Mode returns the masks variant v applies under semantics sem.
func (v Variant) Mode(sem Semantics) Mode {
	return Mode{UseF: v.MasksForward(), UseB: v.MasksBackward(), Sem: sem}
}

// Masked reports whether the site applies any mask.
func (m Mode) Masked() bool { return m.UseF || m.UseB }

// weightMask returns which mask the weight gradient multiplies h by: 'f', 'b' or 0 for none.
func (m Mode) weightMask() byte {
	switch {
	case m.Sem == Elementwise && m.UseF:
		return 'f'
	case m.Sem != Elementwise && m.UseB:
		return 'b'
	}
	return 0
}

// Site is one dropout site: the mask inputs of the layer that consumes h.
// For the standard variant MF and MB are one node, so one draw serves both passes.
type Site struct {
	Name   string
	MF, MB *G.Node
	mf, mb *tensor.Dense
}

// NewSite adds the mask input nodes of a site on an input of the given shape
// to g; variant v decides whether the backward mask is its own draw.
func NewSite(g *G.ExprGraph, name string, shape tensor.Shape, v Variant) *Site {
	mk := func(suffix string) (*G.Node, *tensor.Dense) {
		t := tensor.New(tensor.WithShape(shape.Clone()...), tensor.Of(tensor.Float32))
		t.Memset(float32(1))
		return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape.Clone()...), G.WithName(name+"/"+suffix), G.WithValue(t)), t
	}
	s := &Site{Name: name}
	s.MF, s.mf = mk("mf")
	if v == Backward || v == Augmented {
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
	Variant Variant
	Ratio   Ratio
	pcg     *rand.PCG
}

// NewSampler returns a sampler for variant v and ratio r seeded with seed.
func NewSampler(v Variant, r Ratio, seed uint64) *Sampler {
	return &Sampler{Variant: v, Ratio: r, pcg: rand.NewPCG(seed, 0x9e3779b97f4a7c15)}
}

// Sample fills the masks of every site for one training step.
func (s *Sampler) Sample(sites []*Site) {
	for _, site := range sites {
		switch s.Variant {
		case Standard, Forward:
			s.fill(site.Forward(), s.Ratio.P, false)
		case Backward:
			s.fill(site.Backward(), s.Ratio.P, false)
		case Augmented:
			s.fill(site.Forward(), s.Ratio.P, false)
			copy(site.Backward(), site.Forward())
			s.fill(site.Backward(), s.Ratio.Q, true)
		}
	}
}

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
	// A 32-bit uniform draw per element: two per PCG output, low half first.
	// An element is kept when its draw is below thresh; the choice is made
	// with a sign mask, not a branch, because at r = 0.3 a branch would be
	// mispredicted on about every third element.
	thresh := int64(keep * (1 << 32))
	sb := math.Float32bits(float32(1 / keep))
	eps := func(u uint64) float32 {
		return math.Float32frombits(sb & uint32((int64(u&0xffffffff)-thresh)>>63))
	}
	n := len(dst) &^ 1
	if multiply {
		for i := 0; i < n; i += 2 {
			u := s.pcg.Uint64()
			d := dst[i : i+2 : i+2]
			d[0] *= eps(u)
			d[1] *= eps(u >> 32)
		}
		if n < len(dst) {
			dst[n] *= eps(s.pcg.Uint64())
		}
		return
	}
	for i := 0; i < n; i += 2 {
		u := s.pcg.Uint64()
		d := dst[i : i+2 : i+2]
		d[0] = eps(u)
		d[1] = eps(u >> 32)
	}
	if n < len(dst) {
		dst[n] = eps(s.pcg.Uint64())
	}
}

// MarshalBinary saves the sampler's random state (for checkpoints).
func (s *Sampler) MarshalBinary() ([]byte, error) { return s.pcg.MarshalBinary() }

// UnmarshalBinary restores a state saved by MarshalBinary.
func (s *Sampler) UnmarshalBinary(b []byte) error { return s.pcg.UnmarshalBinary(b) }
