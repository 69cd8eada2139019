package dropout

import (
	"github.com/chewxy/hm"
	"github.com/dropexp/dropexp/internal/kernels"
	"github.com/dropexp/dropexp/internal/opbase"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// layout places a site layer's inputs: h, then mf and mb when the site
// masks anything, then W, then b when the layer has a bias (-1: absent).
type layout struct {
	masked, bias bool
}

func (l layout) positions() (h, mf, mb, w, b int) {
	h, mf, mb, w, b = 0, -1, -1, 1, -1
	if l.masked {
		mf, mb, w = 1, 2, 3
	}
	if l.bias {
		b = w + 1
	}
	return
}

// nodes orders a site layer's input nodes as positions says.
func (l layout) nodes(h *G.Node, site *Site, w, b *G.Node) G.Nodes {
	ins := G.Nodes{h}
	if l.masked {
		ins = append(ins, site.MF, site.MB)
	}
	ins = append(ins, w)
	if l.bias {
		ins = append(ins, b)
	}
	return ins
}

// types returns the inputs' types: x for h and the masks, w for W, and
// a vector for b.
func (l layout) types(x, w hm.Type) []hm.Type {
	ts := []hm.Type{x}
	if l.masked {
		ts = append(ts, x, x)
	}
	ts = append(ts, w)
	if l.bias {
		ts = append(ts, opbase.T(1))
	}
	return ts
}

// diffWRT marks W and b differentiable, and h when its gradient is wanted.
func (l layout) diffWRT(n int, inputGrad bool) []bool {
	d := make([]bool, n)
	hi, _, _, wi, bi := l.positions()
	d[hi] = inputGrad
	d[wi] = true
	if bi >= 0 {
		d[bi] = true
	}
	return d
}

// backward adds the gradient nodes of a site layer named name: dh applies
// to (W, δ[, mb]), dW to (h, δ[, the mask the semantics pick]) and the bias
// gradient sums δ. The masks get no gradient.
func (l layout) backward(m Mode, inputGrad bool, name string, ins G.Nodes, grad *G.Node, dh, dW G.Op, threads int) (G.Nodes, error) {
	hi, mfi, mbi, wi, bi := l.positions()
	ret := make(G.Nodes, len(ins))
	var err error
	if inputGrad {
		args := G.Nodes{ins[wi], grad}
		if m.UseB {
			args = append(args, ins[mbi])
		}
		if ret[hi], err = G.ApplyOp(dh, args...); err != nil {
			return nil, err
		}
	}
	args := G.Nodes{ins[hi], grad}
	switch m.weightMask() {
	case 'f':
		args = append(args, ins[mfi])
	case 'b':
		args = append(args, ins[mbi])
	}
	if ret[wi], err = G.ApplyOp(dW, args...); err != nil {
		return nil, err
	}
	if bi >= 0 {
		if ret[bi], err = opbase.Apply(biasGrad(name+"/db", threads), grad); err != nil {
			return nil, err
		}
	}
	return ret, nil
}

// biasGrad sums δ over the batch and any spatial axes: ∂J/∂b[m] = Σₙ Σₚ δ[n,m,p].
func biasGrad(name string, threads int) opbase.Spec {
	var buf opbase.Buffer
	return opbase.Spec{
		Name: name,
		In:   []hm.Type{hm.TypeVariable('a')},
		Out:  opbase.T(1),
		Shape: func(in []tensor.Shape) (tensor.Shape, error) {
			return tensor.Shape{in[0][1]}, nil
		},
		Forward: func(vs []G.Value) (G.Value, error) {
			s := vs[0].Shape()
			d := opbase.F32(vs[0])
			n, m := s[0], s[1]
			p := len(d) / (n * m)
			out := buf.Get(tensor.Shape{m}, true)
			sumMaps(out.Float32s(), d, n, m, p, threads)
			return out, nil
		},
	}
}

// sumMaps adds each map's sum over the n images of d (n×m maps of p) into
// od[m]. Workers take blocks of four maps, and sum four at once: four
// chains of dependent adds keep the adder busy where one would wait on
// each add. Each map's sum keeps its order, whatever the threads.
func sumMaps(od, d []float32, n, m, p, threads int) {
	kernels.Parallel((m+3)/4, threads, func(_, lo, hi int) {
		for i := 0; i < n; i++ {
			j := 4 * lo
			for ; j+4 <= min(4*hi, m); j += 4 {
				a := d[(i*m+j)*p : (i*m+j+1)*p]
				b, c, e := d[(i*m+j+1)*p:][:len(a)], d[(i*m+j+2)*p:][:len(a)], d[(i*m+j+3)*p:][:len(a)]
				var s0, s1, s2, s3 float32
				for k, v := range a {
					s0 += v
					s1 += b[k]
					s2 += c[k]
					s3 += e[k]
				}
				od[j] += s0
				od[j+1] += s1
				od[j+2] += s2
				od[j+3] += s3
			}
			for ; j < min(4*hi, m); j++ {
				var sum float32
				for _, v := range d[(i*m+j)*p : (i*m+j+1)*p] {
					sum += v
				}
				od[j] += sum
			}
		}
	})
}
