package layers

import (
	"fmt"
	"math"

	"github.com/dropexp/dropexp/internal/opbase"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Loss is the mean softmax cross-entropy over the labelled rows of a batch.
// Rows whose label is negative are padding and count for nothing, so a
// partial last evaluation batch can run through a fixed-size graph.
type Loss struct {
	Node *G.Node
	op   *lossOp
}

// Correct returns how many labelled rows the last run classified right.
func (l *Loss) Correct() int { return l.op.correct }

// Sum returns the summed (not mean) loss of the labelled rows of the last run.
func (l *Loss) Sum() float64 { return l.op.sum }

// SoftmaxCrossEntropy adds the loss of N×K logits against N labels (class
// indices stored as float32).
func SoftmaxCrossEntropy(name string, logits, labels *G.Node) (*Loss, error) {
	op := &lossOp{name: "loss:" + name}
	n, err := opbase.Apply(opbase.Spec{
		Name: op.name, In: opbase.Ts(2, 1), Out: opbase.T(0),
		Shape: func(in []tensor.Shape) (tensor.Shape, error) {
			if len(in[0]) != 2 {
				return nil, fmt.Errorf("%s: want N×K logits, got %v", op.name, in[0])
			}
			return tensor.ScalarShape(), nil
		},
		Forward:  op.forward,
		Diff:     []bool{true, false},
		Backward: op.backward,
	}, logits, labels)
	if err != nil {
		return nil, err
	}
	return &Loss{Node: n, op: op}, nil
}

// lossOp is the loss layer. Its forward pass saves the softmax, the labels
// and their count for the gradient.
type lossOp struct {
	name    string
	prob    opbase.Floats
	labels  []int
	count   int
	correct int
	sum     float64
	dzOut   opbase.Buffer
}

func (op *lossOp) forward(vs []G.Value) (G.Value, error) {
	z, lab := opbase.F32(vs[0]), opbase.F32(vs[1])
	s := vs[0].Shape()
	n, k := s[0], s[1]
	p := op.prob.Get(n * k)
	if cap(op.labels) < n {
		op.labels = make([]int, n)
	}
	op.labels = op.labels[:n]
	op.correct, op.sum, op.count = 0, 0, 0
	for i := 0; i < n; i++ {
		row, pr := z[i*k:(i+1)*k], p[i*k:(i+1)*k]
		op.labels[i] = int(lab[i])
		if lab[i] < 0 {
			clear(pr)
			op.labels[i] = -1
			continue
		}
		mx, arg := row[0], 0
		for j, v := range row {
			if v > mx {
				mx, arg = v, j
			}
		}
		var den float64
		for j, v := range row {
			e := math.Exp(float64(v - mx))
			pr[j] = float32(e)
			den += e
		}
		for j := range pr {
			pr[j] = float32(float64(pr[j]) / den)
		}
		y := op.labels[i]
		if y >= k {
			return nil, fmt.Errorf("%s: label %d out of range for %d classes", op.name, y, k)
		}
		// log-sum-exp form keeps the loss finite when p[y] underflows.
		op.sum += math.Log(den) - float64(row[y]-mx)
		op.count++
		if arg == y {
			op.correct++
		}
	}
	mean := float32(0)
	if op.count > 0 {
		mean = float32(op.sum / float64(op.count))
	}
	return G.NewF32(mean), nil
}

// backward adds ∂J/∂z = (softmax(z) − onehot(y)) / N_labelled · g; inputs z, g.
func (op *lossOp) backward(ins G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := opbase.Apply(opbase.Spec{
		Name: op.name + "/dz", In: opbase.Ts(2, 0), Out: opbase.T(2), Shape: opbase.SameShape,
		Forward: op.grad,
	}, ins[0], grad)
	return G.Nodes{d, nil}, err
}

// grad is the loss gradient from the saved softmax and labels.
func (op *lossOp) grad(vs []G.Value) (G.Value, error) {
	s := vs[0].Shape()
	n, k := s[0], s[1]
	g := opbase.F32(vs[1])[0]
	out := op.dzOut.Get(s, false)
	od := out.Float32s()
	scale := g / float32(max(op.count, 1))
	p := op.prob[:n*k]
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			od[i*k+j] = p[i*k+j] * scale
		}
		if y := op.labels[i]; y >= 0 {
			od[i*k+y] -= scale
		}
	}
	return out, nil
}
