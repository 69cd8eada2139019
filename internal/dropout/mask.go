package dropout

import (
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/kernels"

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
	// A 32-bit uniform draw per element: two per PCG output, low half first.
	// An element is kept when its draw is below thresh; the choice is made
	// with a sign mask, not a branch, because at r = 0.3 a branch would be
	// mispredicted on about every third element.
	e := eps{thresh: int64(keep * (1 << 32)), kept: math.Float32bits(float32(1 / keep))}
	pairs := len(dst) / 2
	if parts := min(s.Threads, pairs/partPairs); parts > 1 {
		kernels.Parallel(pairs, parts, func(_, lo, hi int) {
			p := jump(s.pcg, uint64(lo))
			e.pairs(&p, dst[2*lo:2*hi], multiply)
		})
		*s.pcg = jump(s.pcg, uint64(pairs))
	} else {
		e.pairs(s.pcg, dst[:2*pairs], multiply)
	}
	if n := 2 * pairs; n < len(dst) {
		if v := e.of(s.pcg.Uint64()); multiply {
			dst[n] *= v
		} else {
			dst[n] = v
		}
	}
}

// eps turns a 32-bit draw into ε: kept (1/(1−r)) below thresh, else +0.
type eps struct {
	thresh int64
	kept   uint32
}

func (e eps) of(u uint64) float32 {
	return math.Float32frombits(e.kept & uint32((int64(u&0xffffffff)-e.thresh)>>63))
}

// pairs draws dst's ε two per output of p (len(dst) even), writing them
// or multiplying dst by them.
func (e eps) pairs(p *rand.PCG, dst []float32, multiply bool) {
	if multiply {
		for i := 0; i < len(dst); i += 2 {
			u := p.Uint64()
			d := dst[i : i+2 : i+2]
			d[0] *= e.of(u)
			d[1] *= e.of(u >> 32)
		}
		return
	}
	for i := 0; i < len(dst); i += 2 {
		u := p.Uint64()
		d := dst[i : i+2 : i+2]
		d[0] = e.of(u)
		d[1] = e.of(u >> 32)
	}
}

// jump returns p as it will be after k more outputs, in O(log k): the
// PCG's state follows s ← s·mul + inc mod 2¹²⁸, and k steps of it are
// one step with mul^k and inc·(mul^(k−1) + … + 1) (Brown, "Random number
// generation with arbitrary strides", 1994).
func jump(p *rand.PCG, k uint64) rand.PCG {
	var b [20]byte
	enc, _ := p.AppendBinary(b[:0])
	s := u128{binary.BigEndian.Uint64(enc[4:]), binary.BigEndian.Uint64(enc[12:])}
	mul, inc := u128{2549297995355413924, 4865540595714422341}, u128{6364136223846793005, 1442695040888963407}
	accMul, accInc := u128{0, 1}, u128{}
	for ; k > 0; k >>= 1 {
		if k&1 == 1 {
			accMul, accInc = accMul.mul(mul), accInc.mul(mul).add(inc)
		}
		inc = mul.add(u128{0, 1}).mul(inc)
		mul = mul.mul(mul)
	}
	s = accMul.mul(s).add(accInc)
	binary.BigEndian.PutUint64(enc[4:], s.hi)
	binary.BigEndian.PutUint64(enc[12:], s.lo)
	var q rand.PCG
	if err := q.UnmarshalBinary(enc); err != nil {
		panic(err) // an encoding AppendBinary just wrote
	}
	return q
}

// u128 is an unsigned 128-bit integer; arithmetic wraps mod 2¹²⁸.
type u128 struct{ hi, lo uint64 }

func (a u128) mul(b u128) u128 {
	hi, lo := bits.Mul64(a.lo, b.lo)
	return u128{hi + a.hi*b.lo + a.lo*b.hi, lo}
}

func (a u128) add(b u128) u128 {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi, _ := bits.Add64(a.hi, b.hi, c)
	return u128{hi, lo}
}

// MarshalBinary saves the sampler's random state (for checkpoints).
func (s *Sampler) MarshalBinary() ([]byte, error) { return s.pcg.MarshalBinary() }

// UnmarshalBinary restores a state saved by MarshalBinary.
func (s *Sampler) UnmarshalBinary(b []byte) error { return s.pcg.UnmarshalBinary(b) }
