package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestPoolOut(t *testing.T) {
	tests := []struct{ in, k, pad, stride, want int }{
		{32, 3, 0, 2, 16}, {16, 3, 0, 2, 8}, {8, 3, 0, 2, 4}, // Caffe rounds up
		{28, 3, 0, 2, 14}, {14, 3, 0, 2, 7}, {7, 3, 0, 2, 3},
		{6, 3, 0, 2, 3}, {5, 3, 0, 2, 2}, {4, 2, 0, 2, 2}, {5, 3, 1, 2, 3},
	}
	for _, tc := range tests {
		if got := PoolOut(tc.in, tc.k, tc.pad, tc.stride); got != tc.want {
			t.Errorf("PoolOut(%d,k%d,pad%d,s%d) = %d, want %d", tc.in, tc.k, tc.pad, tc.stride, got, tc.want)
		}
	}
}

// runPool pools a 1×1×H×W image and back-propagates δ through it.
func runPool(t *testing.T, kind PoolKind, img []float32, h, w int, delta []float32) (out, dx []float32) {
	t.Helper()
	r := gradsOf(t, func(ins ...*G.Node) (*G.Node, error) { return Pool("p", kind, ins[0], 3, 0, 2, 1) },
		delta, [][]int{{1, 1, h, w}}, img)
	return r[0], r[1]
}

func near(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-5 {
			return false
		}
	}
	return true
}

func TestPoolingAgainstHandValues(t *testing.T) {
	// 6×6 image holding 0..35; 3×3 windows, stride 2, rounding up → 3×3
	// output whose last row and column of windows are clipped to 2 pixels.
	img := make([]float32, 36)
	for i := range img {
		img[i] = float32(i)
	}
	ones := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
	t.Run("avg", func(t *testing.T) {
		out, dx := runPool(t, AvgPool, img, 6, 6, ones)
		// Window mean = 6·(mean row) + (mean column); clipped windows average only their pixels.
		want := []float32{7, 9, 10.5, 19, 21, 22.5, 28, 30, 31.5}
		if !near(out, want) {
			t.Errorf("avg pool = %v, want %v", out, want)
		}
		// (0,0) lies in one 9-pixel window; (5,5) in one 4-pixel window; (4,4) in
		// windows of 9, 6, 6 and 4 pixels.
		got := []float32{dx[0], dx[35], dx[28]}
		wantDx := []float32{1.0 / 9, 1.0 / 4, 1.0/9 + 1.0/6 + 1.0/6 + 1.0/4}
		if !near(got, wantDx) {
			t.Errorf("avg pool dx at (0,0),(5,5),(4,4) = %v, want %v", got, wantDx)
		}
	})
	t.Run("max", func(t *testing.T) {
		delta := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
		out, dx := runPool(t, MaxPool, img, 6, 6, delta)
		want := []float32{14, 16, 17, 26, 28, 29, 32, 34, 35}
		if !near(out, want) {
			t.Errorf("max pool = %v, want %v", out, want)
		}
		wantDx := make([]float32, 36)
		for i, at := range want {
			wantDx[int(at)] = delta[i]
		}
		if !near(dx, wantDx) {
			t.Errorf("max pool dx = %v, want %v", dx, wantDx)
		}
	})
}

func TestReLUAndLoss(t *testing.T) {
	g := G.NewGraph()
	z := G.NewMatrix(g, tensor.Float32, G.WithName("z"), G.WithValue(tensor.New(tensor.WithShape(3, 3),
		tensor.WithBacking([]float32{1, -2, 3, 0, 0, 0, 5, 1, -1}))))
	y := G.NewVector(g, tensor.Float32, G.WithName("y"), G.WithValue(tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{2, 1, -1}))))
	r, err := ReLU("r", z, 2)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := SoftmaxCrossEntropy("l", r, y)
	if err != nil {
		t.Fatal(err)
	}
	gr, err := G.Grad(loss.Node, z)
	if err != nil {
		t.Fatal(err)
	}
	runGraph(t, g)
	// Row 0: relu → (1,0,3), label 2; row 1: (0,0,0), label 1; row 2 is padding.
	e := math.Exp
	l0 := math.Log(e(1)+1+e(3)) - 3
	l1 := math.Log(3)
	if got := float64(loss.Node.Value().Data().(float32)); math.Abs(got-(l0+l1)/2) > 1e-6 {
		t.Errorf("loss = %v, want %v", got, (l0+l1)/2)
	}
	if loss.Correct() != 1 {
		t.Errorf("correct = %d, want 1 (row 0 right; row 1 ties go to class 0)", loss.Correct())
	}
	den := e(1) + 1 + e(3)
	want := []float32{float32(e(1) / den / 2), 0, float32((e(3)/den - 1) / 2), // column 1 has relu' = 0
		0, 0, 0, // row 1: input 0 → relu' = 0
		0, 0, 0} // padding row
	if got := gr[0].Value().Data().([]float32); !near(got, want) {
		t.Errorf("dz = %v, want %v", got, want)
	}
}

// A window with several equal maxima sends its gradient to the first in row-major order.
func TestMaxPoolTiesGoToFirst(t *testing.T) {
	img := []float32{
		1, 0, 1, 0, 1,
		0, 1, 0, 0, 0,
		1, 0, 1, 0, 1,
		0, 0, 0, 3, 0,
		1, 0, 1, 0, 1,
	}
	out, dx := runPool(t, MaxPool, img, 5, 5, []float32{1, 2, 3, 4})
	if want := []float32{1, 1, 1, 3}; !near(out, want) {
		t.Errorf("out = %v, want %v", out, want)
	}
	want := make([]float32, 25)
	want[0], want[2], want[10], want[18] = 1, 2, 3, 4
	if !near(dx, want) {
		t.Errorf("dx = %v, want %v", dx, want)
	}
}

// Training max pooling records, for every window, the first position of
// its maximum in row-major order: checked against a running argmax over
// direct loops, on inputs with many ties, at several geometries.
func TestMaxPoolArgmaxAgainstLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, tc := range []struct {
		h, w, k, pad, stride int
		arg                  bool
	}{{32, 32, 3, 0, 2, true}, {7, 9, 3, 1, 2, true}, {6, 6, 2, 0, 2, true}, {5, 8, 3, 1, 1, true}, {2, 2, 3, 0, 2, true}, {3, 1, 3, 1, 2, true}, {17, 19, 3, 0, 2, false}, {7, 9, 3, 1, 2, false}} {
		s := tensor.Shape{2, 3, tc.h, tc.w}
		x := make([]float32, s.TotalSize())
		for i := range x {
			x[i] = float32(rng.IntN(4)) - 2 // few values: ties in most windows
		}
		op, err := newPool("pool", MaxPool, s, tc.k, tc.pad, tc.stride, 2)
		if err != nil {
			t.Fatal(err)
		}
		op.withArg = tc.arg
		v, err := op.forward([]G.Value{tensor.New(tensor.WithShape(s...), tensor.WithBacking(x))})
		if err != nil {
			t.Fatal(err)
		}
		out := v.Data().([]float32)
		p := tc.h * tc.w
		for pl := 0; pl < s[0]*s[1]; pl++ {
			for oy := 0; oy < op.oh; oy++ {
				for ox := 0; ox < op.ow; ox++ {
					o := pl*op.oh*op.ow + oy*op.ow + ox
					best, at := float32(math.Inf(-1)), -1
					for y := max(oy*tc.stride-tc.pad, 0); y < min(oy*tc.stride-tc.pad+tc.k, tc.h); y++ {
						for xx := max(ox*tc.stride-tc.pad, 0); xx < min(ox*tc.stride-tc.pad+tc.k, tc.w); xx++ {
							if v := x[pl*p+y*tc.w+xx]; v > best {
								best, at = v, y*tc.w+xx
							}
						}
					}
					if out[o] != best || (tc.arg && int(op.argmax[o]) != at) {
						got := int32(-1)
						if tc.arg {
							got = op.argmax[o]
						}
						t.Fatalf("%+v plane %d window (%d,%d): max %v at %d, want %v at %d", tc, pl, oy, ox, out[o], got, best, at)
					}
				}
			}
		}
	}
}

// A window holding a NaN (a diverging run) pools to NaN, as PyTorch's does,
// and must not crash the backward pass: its gradient goes to the window's
// first element.
func TestMaxPoolNaNWindow(t *testing.T) {
	nan := float32(math.NaN())
	img := []float32{
		nan, nan, nan, 0, 1,
		nan, nan, nan, 0, 0,
		nan, nan, nan, 0, 0,
		0, 0, 0, 0, 0,
		0, 0, 0, 0, 0,
	}
	_, dx := runPool(t, MaxPool, img, 5, 5, []float32{1, 2, 3, 4})
	want := make([]float32, 25)
	want[0], want[2], want[10], want[12] = 1, 2, 3, 4
	for i := range want {
		if dx[i] != want[i] {
			t.Fatalf("dx = %v, want %v", dx, want)
		}
	}
}

// The option-A shortcut against direct loops: out[n][c+pad][y][x] =
// in[n][c][y·s][x·s] and zero in the padded channels; its gradient routes
// back to the kept pixels and is zero at the skipped ones.
func TestShortcutAAgainstLoops(t *testing.T) {
	for _, tc := range []struct{ n, c, h, w, s, outC, threads int }{{3, 2, 5, 6, 2, 6, 2}, {2, 4, 4, 4, 1, 4, 1}, {4, 1, 7, 3, 2, 3, 2}} {
		rng := rand.New(rand.NewPCG(7, uint64(tc.c)))
		in := tensor.Shape{tc.n, tc.c, tc.h, tc.w}
		x, d := make([]float32, in.TotalSize()), []float32(nil)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		op, err := newShortcut("shortcut", in, tc.s, tc.outC, tc.threads)
		if err != nil {
			t.Fatal(err)
		}
		os := tensor.Shape{tc.n, op.outC, op.oh, op.ow}
		v, err := op.forward([]G.Value{tensor.New(tensor.WithShape(in...), tensor.WithBacking(x))})
		if err != nil {
			t.Fatal(err)
		}
		out := v.Data().([]float32)
		d = make([]float32, os.TotalSize())
		for i := range d {
			d[i] = float32(rng.NormFloat64())
		}
		g, err := op.grad([]G.Value{tensor.New(tensor.WithShape(os...), tensor.WithBacking(d))})
		if err != nil {
			t.Fatal(err)
		}
		dx := g.Data().([]float32)
		wantDx := make([]float32, len(x))
		pad := (tc.outC - tc.c) / 2
		for i := 0; i < tc.n; i++ {
			for c := 0; c < tc.outC; c++ {
				for y := 0; y < os[2]; y++ {
					for xx := 0; xx < os[3]; xx++ {
						o := ((i*tc.outC+c)*os[2]+y)*os[3] + xx
						var want float32
						if ic := c - pad; ic >= 0 && ic < tc.c {
							j := ((i*tc.c+ic)*tc.h+y*tc.s)*tc.w + xx*tc.s
							want = x[j]
							wantDx[j] = d[o]
						}
						if out[o] != want {
							t.Fatalf("%+v: out[%d] = %v, want %v", tc, o, out[o], want)
						}
					}
				}
			}
		}
		for i := range dx {
			if dx[i] != wantDx[i] {
				t.Fatalf("%+v: dx[%d] = %v, want %v", tc, i, dx[i], wantDx[i])
			}
		}
	}
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Errorf("%s: element %d is %v, want %v", what, i, got[i], want[i])
			return
		}
	}
}

// Average pooling a row of windows at a time gives the bits of the loops
// over windows, forward and back, at the shapes of the networks and odd
// ones (windows clipped by the border, strides 1 to 3, rows narrower than
// a vector and wider than the vector body takes, padding), with zeros of
// both signs among the values.
func TestAvgPoolRowsMatchLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ h, w, k, pad, s int }{
		{16, 16, 3, 0, 2}, {8, 8, 3, 0, 2}, {32, 32, 3, 0, 2}, {15, 15, 3, 0, 2}, {5, 7, 3, 0, 2}, {2, 6, 3, 0, 2},
		{9, 13, 3, 0, 3}, {6, 6, 2, 0, 2}, {7, 5, 3, 0, 1}, {3, 3, 3, 0, 2}, {20, 21, 5, 0, 3}, {4, 40, 3, 0, 2},
		{33, 33, 3, 0, 2}, {8, 8, 3, 1, 2}, {2, 2, 3, 0, 2},
	} {
		op, err := newPool("pool", AvgPool, tensor.Shape{1, 1, tc.h, tc.w}, tc.k, tc.pad, tc.s, 1)
		if err != nil {
			t.Fatal(err)
		}
		plane := make([]float32, tc.h*tc.w)
		for i := range plane {
			switch rng.IntN(8) {
			case 0:
				plane[i] = 0
			case 1:
				plane[i] = float32(math.Copysign(0, -1))
			default:
				plane[i] = float32(rng.NormFloat64())
			}
		}
		d := make([]float32, op.oh*op.ow)
		for i := range d {
			d[i] = float32(rng.NormFloat64())
		}
		want := make([]float32, len(d))
		for oy := 0; oy < op.oh; oy++ {
			for ox := 0; ox < op.ow; ox++ {
				want[oy*op.ow+ox] = op.avgAt(plane, oy, ox, tc.h, tc.w)
			}
		}
		got := make([]float32, len(d))
		op.avgPlane(plane, got, make([]float32, op.ow), tc.h, tc.w)
		sameBits(t, fmt.Sprintf("%+v forward", tc), got, want)
		wantDx, gotDx := make([]float32, len(plane)), make([]float32, len(plane))
		op.avgGradLoop(wantDx, d, tc.h, tc.w)
		op.avgGradPlane(gotDx, d, make([]float32, op.ow), tc.h, tc.w)
		sameBits(t, fmt.Sprintf("%+v backward", tc), gotDx, wantDx)
	}
}
