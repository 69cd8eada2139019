package dropout_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Every output and gradient of a convolution and a fully connected layer
// with dropout sites is the same bits for any thread count, on the direct
// and the im2col paths. The sizes make the splits matter: 40 images of
// 8×8 make five im2col groups of eight and two row blocks of the linear
// layer, whose 512 inputs make four column blocks; a stride-2 convolution
// takes the im2col gradients whatever the CPU (the direct ones in the
// strided set), and a 3×3 one of 8 input maps Winograd's input gradient in
// the winograd set (where the CPU has AVX-512).
func TestOpsThreadInvariant(t *testing.T) {
	const n, h, m, classes = 40, 8, 8, 10
	for _, v := range []experiment.Variant{experiment.Standard, experiment.Backward, experiment.Augmented} {
		for _, sem := range []experiment.Semantics{experiment.Layer, experiment.Elementwise} {
			for _, path := range []struct {
				name         string
				stride       int
				im2col, keep bool
				kernels      experiment.Kernels
				c, k         int // input maps, kernel size
			}{{"direct", 1, false, false, experiment.DirectKernels, 3, 5}, {"im2col", 1, true, false, experiment.DirectKernels, 3, 5},
				{"im2col-kept", 1, true, true, experiment.DirectKernels, 3, 5}, {"stride2", 2, false, false, experiment.DirectKernels, 3, 5},
				{"stride2-strided", 2, false, false, experiment.StridedKernels, 3, 5},
				{"winograd", 1, false, false, experiment.WinogradKernels, 8, 3}} {
				t.Run(fmt.Sprintf("%s/%s/%s", v, sem, path.name), func(t *testing.T) {
					c, k := path.c, path.k
					r := rand.New(rand.NewPCG(3, 4))
					x, w1, b1 := randSlice(r, n*c*h*h, 1), randSlice(r, m*c*k*k, 0.3), randSlice(r, m, 0.1)
					oh := (h-1)/path.stride + 1
					d := m * oh * oh
					w2, b2 := randSlice(r, classes*d, 0.1), randSlice(r, classes, 0.1)
					labels := make([]float32, n)
					for i := range labels {
						labels[i] = float32(r.IntN(classes))
					}
					mf1, mb1 := masksFor(r, v, len(x))
					mf2, mb2 := masksFor(r, v, n*d)
					var want [][]float32
					for _, threads := range []int{1, 2, 3, 4, 8} {
						g := G.NewGraph()
						node := func(name string, data []float32, s ...int) *G.Node {
							return G.NewTensor(g, tensor.Float32, len(s), G.WithName(name), G.WithValue(tensorOf(data, s...)))
						}
						xn, w1n, b1n := node("x", x, n, c, h, h), node("w1", w1, m, c, k, k), node("b1", b1, m)
						w2n, b2n, yn := node("w2", w2, classes, d), node("b2", b2, classes), node("y", labels, n)
						site := func(name string, shape tensor.Shape, mf, mb []float32) *dropout.Site {
							s := dropout.NewSite(g, name, shape, v)
							copy(s.Forward(), mf)
							if v != experiment.Standard {
								copy(s.Backward(), mb)
							}
							return s
						}
						mode := dropout.ModeOf(v, sem)
						z1, err := dropout.Conv(dropout.ConvSpec{Name: "c", K: k, Pad: k / 2, Stride: path.stride, Mode: mode, InputGrad: true,
							Threads: threads, Im2col: path.im2col, KeepCols: path.keep, Kernels: path.kernels}, xn, site("s1", xn.Shape(), mf1, mb1), w1n, b1n)
						if err != nil {
							t.Fatal(err)
						}
						z2, err := dropout.Linear(dropout.LinearSpec{Name: "l", Mode: mode, InputGrad: true, Threads: threads},
							z1, site("s2", z1.Shape(), mf2, mb2), w2n, b2n)
						if err != nil {
							t.Fatal(err)
						}
						loss, err := layers.SoftmaxCrossEntropy("loss", z2, yn)
						if err != nil {
							t.Fatal(err)
						}
						gr, err := G.Grad(loss.Node, xn, w1n, b1n, w2n, b2n)
						if err != nil {
							t.Fatal(err)
						}
						runGraph(t, g)
						got := [][]float32{z1.Value().Data().([]float32), z2.Value().Data().([]float32)}
						for _, n := range gr {
							got = append(got, n.Value().Data().([]float32))
						}
						if want == nil {
							want = got
							continue
						}
						for k, name := range []string{"z1", "z2", "dx", "dW1", "db1", "dW2", "db2"} {
							for i := range want[k] {
								if math.Float32bits(got[k][i]) != math.Float32bits(want[k][i]) {
									t.Fatalf("threads %d: %s[%d] = %v, threads 1 gave %v", threads, name, i, got[k][i], want[k][i])
								}
							}
						}
					}
				})
			}
		}
	}
}
