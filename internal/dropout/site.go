package dropout

import (
	"github.com/dropexp/dropexp/internal/opbase"
	G "gorgonia.org/gorgonia"
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

func (l layout) arity() int {
	_, _, _, w, b := l.positions()
	return max(w, b) + 1
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
		if ret[bi], err = G.ApplyOp(&BiasGrad{Base: opbase.Base{Name: name + "/db"}, Threads: threads}, grad); err != nil {
			return nil, err
		}
	}
	return ret, nil
}
