package model

import (
	"github.com/dropexp/dropexp/internal/threads"
	G "gorgonia.org/gorgonia"
)

// EstimateBytes estimates the memory the graphs of a run with options opt
// hold: every node's value in the training graph (forward, dropout masks
// and gradients) and in the evaluation graph, the nodes that carry the
// batch counted once per image. It builds both graphs at batch 1, which
// takes a fraction of a second, so that a batch too large for the
// machine is refused before anything of its size is allocated. Buffers
// the ops keep beside the graph (im2col columns, kernel workspaces) are
// not counted: it is a floor, not a ceiling.
func EstimateBytes(opt Options) (int64, error) {
	one := opt
	one.Batch, one.Exec = 1, threads.N(1)
	var total int64
	for _, train := range []bool{true, false} {
		one.Train = train
		net, err := Build(one, nil)
		if err != nil {
			return 0, err
		}
		for _, n := range net.Graph.AllNodes() {
			total += nodeBytes(n, int64(opt.Batch))
		}
		if train {
			for _, p := range net.Params {
				total += 2 * 4 * int64(p.Value.Shape().TotalSize()) // the solver's momentum and update
			}
		}
		net.Close() // only its shapes were wanted
	}
	return total, nil
}

// nodeBytes is the size of n's value at the given batch: a node whose
// first dimension is the batch (1 as built) grows with it.
func nodeBytes(n *G.Node, batch int64) int64 {
	s := n.Shape()
	if len(s) == 0 {
		return 8
	}
	size := int64(s.TotalSize()) * 4
	if s[0] == 1 && len(s) > 1 {
		size *= batch
	}
	return size
}
