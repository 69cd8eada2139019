package layers

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
)

// bnRun runs BatchNorm on x with loss Σ y⊙r and returns y and the gradients (training only).
func bnRun(t *testing.T, train bool, x, gamma, beta, r []float32, shape []int, stats *BNStats) (y, dx, dg, db []float32) {
	t.Helper()
	bn := func(ins ...*G.Node) (*G.Node, error) {
		return BatchNorm(BNConfig{Name: "bn", Train: train, Momentum: 0.1, Threads: 2}, ins[0], ins[1], ins[2], stats)
	}
	shapes := [][]int{shape, {shape[1]}, {shape[1]}}
	if train {
		res := gradsOf(t, bn, r, shapes, x, gamma, beta)
		return res[0], res[1], res[2], res[3]
	}
	g := G.NewGraph()
	out, err := bn(inputs(g, shapes, x, gamma, beta)...)
	if err != nil {
		t.Fatal(err)
	}
	runGraph(t, g)
	return out.Value().Data().([]float32), nil, nil, nil
}

func TestBatchNormAgainstFormulas(t *testing.T) {
	const n, c, h, w = 4, 3, 2, 2
	rng := rand.New(rand.NewPCG(5, 5))
	rs := func(k int, scale, off float64) []float32 {
		s := make([]float32, k)
		for i := range s {
			s[i] = float32(rng.NormFloat64()*scale + off)
		}
		return s
	}
	x, r := rs(n*c*h*w, 2, 1), rs(n*c*h*w, 1, 0)
	gamma, beta := rs(c, 0.5, 1), rs(c, 0.5, 0)
	stats := NewBNStats(c)
	y, dx, dg, db := bnRun(t, true, x, gamma, beta, r, []int{n, c, h, w}, stats)
	const eps, p, m = 1e-5, h * w, n * h * w
	for ch := 0; ch < c; ch++ {
		var mean, v float64
		idx := func(i, j int) int { return (i*c+ch)*p + j }
		for i := 0; i < n; i++ {
			for j := 0; j < p; j++ {
				mean += float64(x[idx(i, j)]) / m
			}
		}
		for i := 0; i < n; i++ {
			for j := 0; j < p; j++ {
				d := float64(x[idx(i, j)]) - mean
				v += d * d / m
			}
		}
		inv := 1 / math.Sqrt(v+eps)
		var sd, sdx float64
		for i := 0; i < n; i++ {
			for j := 0; j < p; j++ {
				xh := (float64(x[idx(i, j)]) - mean) * inv
				if want := float64(gamma[ch])*xh + float64(beta[ch]); math.Abs(float64(y[idx(i, j)])-want) > 1e-4 {
					t.Fatalf("y[%d] = %v, want %v", idx(i, j), y[idx(i, j)], want)
				}
				sd += float64(r[idx(i, j)])
				sdx += float64(r[idx(i, j)]) * xh
			}
		}
		if math.Abs(float64(db[ch])-sd) > 1e-4 || math.Abs(float64(dg[ch])-sdx) > 1e-4 {
			t.Errorf("channel %d: dβ=%v dγ=%v, want %v %v", ch, db[ch], dg[ch], sd, sdx)
		}
		for i := 0; i < n; i++ {
			for j := 0; j < p; j++ {
				xh := (float64(x[idx(i, j)]) - mean) * inv
				want := float64(gamma[ch]) * inv * (float64(r[idx(i, j)]) - sd/m - xh*sdx/m)
				if math.Abs(float64(dx[idx(i, j)])-want) > 1e-4 {
					t.Errorf("dx[%d] = %v, want %v", idx(i, j), dx[idx(i, j)], want)
				}
			}
		}
		// Running statistics after one batch: 0.9·(0, 1) + 0.1·(mean, unbiased variance).
		if math.Abs(float64(stats.Mean[ch])-0.1*mean) > 1e-5 || math.Abs(float64(stats.Var[ch])-(0.9+0.1*v*m/(m-1))) > 1e-4 {
			t.Errorf("running stats %v %v, want %v %v", stats.Mean[ch], stats.Var[ch], 0.1*mean, 0.9+0.1*v*m/(m-1))
		}
	}
}

// Evaluation normalises with the running statistics and leaves them alone;
// switching back to training continues from them instead of resetting.
func TestBatchNormRunningStatsSurviveEval(t *testing.T) {
	const n, c = 2, 2
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	r := make([]float32, len(x))
	gamma, beta := []float32{1, 1}, []float32{0, 0}
	stats := &BNStats{Mean: []float32{2, -1}, Var: []float32{4, 0.25}}
	y, _, _, _ := bnRun(t, false, x, gamma, beta, r, []int{n, c, 2, 2}, stats)
	if stats.Mean[0] != 2 || stats.Var[1] != 0.25 {
		t.Fatalf("evaluation changed the running statistics: %+v", stats)
	}
	if want := float32((1 - 2) / math.Sqrt(4+1e-5)); math.Abs(float64(y[0]-want)) > 1e-5 {
		t.Errorf("eval y[0] = %v, want %v", y[0], want)
	}
	if want := float32((5 + 1) / math.Sqrt(0.25+1e-5)); math.Abs(float64(y[4]-want)) > 1e-4 {
		t.Errorf("eval y[4] = %v, want %v", y[4], want)
	}
	bnRun(t, true, x, gamma, beta, r, []int{n, c, 2, 2}, stats)
	// Channel 0 holds 1..4 and 9..12: mean 6.5.
	if want := 0.9*2 + 0.1*6.5; math.Abs(float64(stats.Mean[0])-want) > 1e-5 {
		t.Errorf("after eval and train, running mean = %v, want %v (not reset)", stats.Mean[0], want)
	}
}
