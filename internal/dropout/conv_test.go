package dropout_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A convolution without a site, for the kernel shapes the networks use
// beyond the gradient tests' 3×3 (ConvNet-Quick's 5×5 same convolutions,
// ResNet's stride-2 3×3) and a stride-1 one that shrinks the image: the
// output and ∂(Σ z⊙r)/∂x, ∂/∂W, ∂/∂b against direct loops.
func TestConvShapesAgainstLoops(t *testing.T) {
	for _, tc := range []struct{ n, c, h, w, m, k, pad, stride int }{
		{3, 2, 8, 8, 3, 5, 2, 1}, {2, 3, 7, 6, 4, 3, 1, 2}, {2, 2, 6, 7, 3, 5, 1, 1},
		{3, 8, 8, 16, 4, 3, 1, 1}, // the winograd set's input gradient (8 input maps)
	} {
		for _, path := range convPaths {
			threads := path.threads
			t.Run(fmt.Sprintf("%+v/%s", tc, path.name), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(tc.k), uint64(tc.stride)))
				oh := (tc.h+2*tc.pad-tc.k)/tc.stride + 1
				ow := (tc.w+2*tc.pad-tc.k)/tc.stride + 1
				x, w, b := randSlice(r, tc.n*tc.c*tc.h*tc.w, 1), randSlice(r, tc.m*tc.c*tc.k*tc.k, 0.5), randSlice(r, tc.m, 0.1)
				rw := randSlice(r, tc.n*tc.m*oh*ow, 1)
				g := G.NewGraph()
				node := func(name string, d []float32, s ...int) *G.Node {
					return G.NewTensor(g, tensor.Float32, len(s), G.WithName(name), G.WithValue(tensor.New(tensor.WithShape(s...), tensor.WithBacking(append([]float32(nil), d...)))))
				}
				xn, wn, bn := node("x", x, tc.n, tc.c, tc.h, tc.w), node("w", w, tc.m, tc.c, tc.k, tc.k), node("b", b, tc.m)
				spec := dropout.ConvSpec{Name: "c", K: tc.k, Pad: tc.pad, Stride: tc.stride, InputGrad: true, Threads: threads, Im2col: path.im2col, Kernels: path.kernels}
				z, err := dropout.Conv(spec, xn, nil, wn, bn)
				if err != nil {
					t.Fatal(err)
				}
				gr, err := G.Grad(G.Must(G.Sum(G.Must(G.HadamardProd(z, node("r", rw, tc.n, tc.m, oh, ow))))), xn, wn, bn)
				if err != nil {
					t.Fatal(err)
				}
				runGraph(t, g)
				wantZ := make([]float64, len(rw))
				dx, dw, db := make([]float64, len(x)), make([]float64, len(w)), make([]float64, len(b))
				for i := 0; i < tc.n; i++ {
					for m := 0; m < tc.m; m++ {
						for y := 0; y < oh; y++ {
							for xx := 0; xx < ow; xx++ {
								o := ((i*tc.m+m)*oh+y)*ow + xx
								s := float64(b[m])
								db[m] += float64(rw[o])
								for c := 0; c < tc.c; c++ {
									for ki := 0; ki < tc.k; ki++ {
										for kj := 0; kj < tc.k; kj++ {
											iy, ix := y*tc.stride-tc.pad+ki, xx*tc.stride-tc.pad+kj
											if iy < 0 || iy >= tc.h || ix < 0 || ix >= tc.w {
												continue
											}
											xi, wi := ((i*tc.c+c)*tc.h+iy)*tc.w+ix, ((m*tc.c+c)*tc.k+ki)*tc.k+kj
											s += float64(w[wi]) * float64(x[xi])
											dx[xi] += float64(w[wi]) * float64(rw[o])
											dw[wi] += float64(x[xi]) * float64(rw[o])
										}
									}
								}
								wantZ[o] = s
							}
						}
					}
				}
				for _, c := range []struct {
					name string
					got  []float32
					want []float64
				}{{"z", z.Value().Data().([]float32), wantZ}, {"dx", gr[0].Value().Data().([]float32), dx},
					{"dW", gr[1].Value().Data().([]float32), dw}, {"db", gr[2].Value().Data().([]float32), db}} {
					for i := range c.want {
						if math.Abs(float64(c.got[i])-c.want[i]) > 1e-4*(1+math.Abs(c.want[i])) {
							t.Fatalf("%s[%d] = %v, want %v", c.name, i, c.got[i], c.want[i])
						}
					}
				}
			})
		}
	}
}

// runGraph runs g once on a tape machine.
func runGraph(tb testing.TB, g *G.ExprGraph) {
	tb.Helper()
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		tb.Fatal(err)
	}
}

// An evaluation convolution with a fused BatchNorm (ConvSpec.Post) gives the
// same bits as the convolution followed by the BatchNorm op (and the add or
// add+ReLU op of a residual), on every path (8 maps of 8×8 take Winograd in
// the winograd set).
func TestConvPostMatchesBatchNorm(t *testing.T) {
	for _, tc := range []struct{ stride, n, c, h, m int }{{1, 3, 4, 9, 6}, {2, 3, 4, 9, 6}, {1, 3, 8, 8, 8}} {
		for _, path := range convPaths {
			for _, post := range []struct{ relu, res bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
				relu := post.relu
				t.Run(fmt.Sprintf("stride%d/%dx%dx%d/%s/%+v", tc.stride, tc.c, tc.h, tc.m, path.name, post), func(t *testing.T) {
					n, c, h, m := tc.n, tc.c, tc.h, tc.m
					r := rand.New(rand.NewPCG(5, uint64(tc.stride)))
					x, w := randSlice(r, n*c*h*h, 1), randSlice(r, m*c*9, 0.5)
					gamma, beta := randSlice(r, m, 1), randSlice(r, m, 1)
					oh := (h-1)/tc.stride + 1
					res := randSlice(r, n*m*oh*oh, 1)
					stats := layers.NewBNStats(m)
					for i := range stats.Mean {
						stats.Mean[i], stats.Var[i] = float32(r.NormFloat64()), float32(0.5+r.Float64())
					}
					run := func(fused bool) []float32 {
						g := G.NewGraph()
						node := func(name string, d []float32, s ...int) *G.Node {
							return G.NewTensor(g, tensor.Float32, len(s), G.WithName(name), G.WithValue(tensor.New(tensor.WithShape(s...), tensor.WithBacking(append([]float32(nil), d...)))))
						}
						xn, wn := node("x", x, n, c, h, h), node("w", w, m, c, 3, 3)
						gn, bn := node("gamma", gamma, m), node("beta", beta, m)
						var rn *G.Node
						if post.res {
							rn = node("res", res, n, m, oh, oh)
						}
						spec := dropout.ConvSpec{Name: "c", K: 3, Pad: 1, Stride: tc.stride, Threads: path.threads, Im2col: path.im2col, Kernels: path.kernels}
						if fused {
							spec.Post = &dropout.Post{ReLU: relu, Residual: rn, Affine: func(mu, sc, sh []float32) {
								stats.EvalAffine(mu, sc, sh, gamma, beta, 0)
							}}
						}
						z, err := dropout.Conv(spec, xn, nil, wn, nil)
						if err != nil {
							t.Fatal(err)
						}
						if !fused {
							if z, err = layers.BatchNorm(layers.BNConfig{Name: "bn", Threads: path.threads, ReLU: relu && !post.res}, z, gn, bn, stats); err != nil {
								t.Fatal(err)
							}
							if post.res && relu {
								z, err = layers.AddReLU("add", z, rn, path.threads)
							} else if post.res {
								z, err = layers.Add("add", z, rn, path.threads)
							}
							if err != nil {
								t.Fatal(err)
							}
						}
						runGraph(t, g)
						return append([]float32(nil), z.Value().Data().([]float32)...)
					}
					want, got := run(false), run(true)
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("fused[%d] = %v, BatchNorm op gives %v", i, got[i], want[i])
						}
					}
				})
			}
		}
	}
}
