package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func randv(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func TestGemmAgainstLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		tA, tB  bool
		m, n, k int
		beta    float32
	}{
		{false, false, 3, 4, 5, 0}, {true, false, 7, 2, 3, 1}, {false, true, 4, 6, 2, 0.5}, {true, true, 5, 5, 5, 0}, {false, false, 2, 3, 0, 2},
	} {
		t.Run(fmt.Sprintf("%v%v%dx%dx%d", tc.tA, tc.tB, tc.m, tc.n, tc.k), func(t *testing.T) {
			a, b, c := randv(r, tc.m*tc.k+1), randv(r, tc.k*tc.n+1), randv(r, tc.m*tc.n)
			lda, ldb := tc.k, tc.n
			if tc.tA {
				lda = tc.m
			}
			if tc.tB {
				ldb = tc.k
			}
			want := make([]float64, len(c))
			for i := 0; i < tc.m; i++ {
				for j := 0; j < tc.n; j++ {
					s := float64(tc.beta) * float64(c[i*tc.n+j])
					for l := 0; l < tc.k; l++ {
						ai, bi := i*lda+l, l*ldb+j
						if tc.tA {
							ai = l*lda + i
						}
						if tc.tB {
							bi = j*ldb + l
						}
						av, bv := a[ai], b[bi]
						s += float64(av) * float64(bv)
					}
					want[i*tc.n+j] = s
				}
			}
			Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, a, max(lda, 1), b, max(ldb, 1), tc.beta, c, tc.n)
			for i := range c {
				if math.Abs(float64(c[i])-want[i]) > 1e-4 {
					t.Fatalf("c[%d] = %v, want %v", i, c[i], want[i])
				}
			}
		})
	}
}

// Col2im is the adjoint of Im2col: <im2col(x), c> = <x, col2im(c)>.
func TestIm2colAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, tc := range []struct{ c, h, w, k, pad, stride int }{
		{2, 5, 5, 3, 1, 1}, {3, 8, 6, 5, 2, 1}, {2, 7, 7, 3, 1, 2}, {1, 4, 4, 1, 0, 2}, {1, 1, 1, 3, 1, 1}, {1, 2, 1, 5, 2, 1}, {1, 3, 1, 3, 2, 1}, {2, 2, 3, 5, 3, 1},
	} {
		oh, ow := ConvOut(tc.h, tc.k, tc.pad, tc.stride), ConvOut(tc.w, tc.k, tc.pad, tc.stride)
		x := randv(r, tc.c*tc.h*tc.w)
		c := randv(r, tc.c*tc.k*tc.k*oh*ow)
		col := make([]float32, len(c))
		Im2col(x, tc.c, tc.h, tc.w, tc.k, tc.pad, tc.stride, col, oh*ow)
		img := make([]float32, len(x))
		Col2im(c, tc.c, tc.h, tc.w, tc.k, tc.pad, tc.stride, img, oh*ow)
		var lhs, rhs float64
		for i := range c {
			lhs += float64(col[i]) * float64(c[i])
		}
		for i := range x {
			rhs += float64(x[i]) * float64(img[i])
		}
		if math.Abs(lhs-rhs) > 1e-3 {
			t.Errorf("%+v: <im2col x, c> = %v, <x, col2im c> = %v", tc, lhs, rhs)
		}
		// Spot-check one entry: row (ch 0, ki, kj) = (0,0,0) at output (0,0) reads pixel (-pad,-pad).
		if tc.pad > 0 && col[0] != 0 {
			t.Errorf("%+v: padded entry = %v, want 0", tc, col[0])
		}
	}
}

func TestParallelCoversRange(t *testing.T) {
	for _, tc := range []struct{ n, workers int }{{0, 2}, {1, 4}, {10, 3}, {7, 1}, {5, 0}} {
		for _, mode := range []string{"parallel", "coarse", "each"} {
			var count atomic.Int64
			seen := make([]int32, tc.n)
			visit := func(w, i int) {
				if w < 0 || w >= max(tc.workers, 1) {
					t.Errorf("worker %d of %d", w, tc.workers)
				}
				atomic.AddInt32(&seen[i], 1)
				count.Add(1)
			}
			byRange := func(w, lo, hi int) {
				for i := lo; i < hi; i++ {
					visit(w, i)
				}
			}
			switch mode {
			case "each":
				Each(tc.n, tc.workers, visit)
			case "coarse":
				ParallelCoarse(tc.n, tc.workers, byRange)
			default:
				Parallel(tc.n, tc.workers, byRange)
			}
			if int(count.Load()) != tc.n {
				t.Errorf("n=%d workers=%d %s: visited %d", tc.n, tc.workers, mode, count.Load())
			}
			for i, s := range seen {
				if s != 1 {
					t.Errorf("n=%d %s: index %d visited %d times", tc.n, mode, i, s)
				}
			}
		}
	}
}

// Parallel from several goroutines at once, and within itself, still
// visits every index once (the team serves one caller; the others start
// goroutines), also after the team's helpers have parked.
func TestParallelConcurrentAndNested(t *testing.T) {
	const n, outer = 1000, 4
	for round := 0; round < 3; round++ {
		seen := make([]int32, n*outer)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				Parallel(outer, 2, func(_, lo, hi int) {
					for o := lo; o < hi; o++ {
						Parallel(n, 2, func(_, a, b int) {
							for i := a; i < b; i++ {
								atomic.AddInt32(&seen[o*n+i], 1)
							}
						})
					}
				})
			}()
		}
		wg.Wait()
		for i, c := range seen {
			if c != 4 {
				t.Fatalf("round %d: index %d visited %d times, want 4", round, i, c)
			}
		}
		time.Sleep(2 * spinFor) // let the helpers park
	}
}

// Im2col against the definition: col[(ch,ki,kj), (y,x)] = img[ch, y·s−pad+ki, x·s−pad+kj], 0 outside.
func TestIm2colAgainstDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, tc := range []struct{ c, h, w, k, pad, stride int }{
		{2, 5, 5, 3, 1, 1}, {3, 8, 6, 5, 2, 1}, {2, 7, 7, 3, 1, 2}, {1, 4, 4, 1, 0, 2}, {2, 3, 3, 5, 2, 1}, {1, 1, 1, 3, 1, 1}, {1, 2, 1, 5, 2, 1}, {1, 3, 1, 3, 2, 1}, {2, 2, 3, 5, 3, 1},
	} {
		oh, ow := ConvOut(tc.h, tc.k, tc.pad, tc.stride), ConvOut(tc.w, tc.k, tc.pad, tc.stride)
		x := randv(r, tc.c*tc.h*tc.w)
		ld := oh*ow + 3
		col := randv(r, tc.c*tc.k*tc.k*ld)
		Im2col(x, tc.c, tc.h, tc.w, tc.k, tc.pad, tc.stride, col, ld)
		for ch := 0; ch < tc.c; ch++ {
			for ki := 0; ki < tc.k; ki++ {
				for kj := 0; kj < tc.k; kj++ {
					for y := 0; y < oh; y++ {
						for xx := 0; xx < ow; xx++ {
							iy, ix := y*tc.stride-tc.pad+ki, xx*tc.stride-tc.pad+kj
							var want float32
							if iy >= 0 && iy < tc.h && ix >= 0 && ix < tc.w {
								want = x[(ch*tc.h+iy)*tc.w+ix]
							}
							if got := col[((ch*tc.k+ki)*tc.k+kj)*ld+y*ow+xx]; got != want {
								t.Fatalf("%+v: col[(%d,%d,%d),(%d,%d)] = %v, want %v", tc, ch, ki, kj, y, xx, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// ResNet-20's first stage: 16 maps of 32×32, 3×3 kernel, padding 1.
func BenchmarkIm2colSame3x3(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	x := randv(r, 16*32*32)
	col := make([]float32, 16*9*32*32)
	b.SetBytes(int64(len(col) * 4))
	for range b.N {
		Im2col(x, 16, 32, 32, 3, 1, 1, col, 32*32)
	}
}

func BenchmarkCol2imSame3x3(b *testing.B) {
	r := rand.New(rand.NewPCG(6, 6))
	col := randv(r, 16*9*32*32)
	img := make([]float32, 16*32*32)
	b.SetBytes(int64(len(col) * 4))
	for range b.N {
		Col2im(col, 16, 32, 32, 3, 1, 1, img, 32*32)
	}
}

// Impl names the three kernel choices in the form dropexp version prints
// and a run summary records; a kernel set beyond the default adds its
// name where the direct convolution runs.
func TestImpl(t *testing.T) {
	for _, set := range []string{"", "strided", "winograd"} {
		conv := ConvImpl()
		if set != "" && conv != "im2col" {
			conv += " " + set
		}
		if ConvSet(set) != conv {
			t.Errorf("ConvSet(%q) = %q, want %q", set, ConvSet(set), conv)
		}
		m := regexp.MustCompile(`^blas (\S+), vector (\S+), conv (\S+( strided| winograd)?)$`).FindStringSubmatch(Impl(set))
		if m == nil || m[1] != Backend || m[2] != Vector() || m[3] != conv {
			t.Errorf("Impl(%q) = %q, want \"blas %s, vector %s, conv %s\"", set, Impl(set), Backend, Vector(), conv)
		}
	}
}

// A team survives what once left its bookkeeping wrong: a wake-up token
// that arrives with no job, and a caller's chunk that panics (a sweep
// recovers the panic and trains its next run with the same team).
func TestTeamStaleWakeAndPanic(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 3 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	}
	count := func() int64 {
		var c atomic.Int64
		Parallel(999, 3, func(_, lo, hi int) { c.Add(int64(hi - lo)) })
		return c.Load()
	}
	if got := count(); got != 999 {
		t.Fatalf("visited %d of 999", got)
	}
	tm := teamOf(3)
	for round := 0; round < 3; round++ {
		time.Sleep(2 * spinFor) // let the helpers park
		for _, h := range tm.helpers {
			select {
			case h.wake <- struct{}{}: // a token with no job
			default:
			}
		}
		if got := count(); got != 999 {
			t.Fatalf("round %d after a stale wake-up: visited %d of 999", round, got)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the chunk's panic did not reach the caller")
			}
		}()
		Parallel(999, 3, func(w, lo, hi int) {
			if w == 0 {
				panic("chunk 0")
			}
			time.Sleep(time.Millisecond)
		})
	}()
	for round := 0; round < 3; round++ {
		if got := count(); got != 999 {
			t.Fatalf("after a panic: visited %d of 999", got)
		}
	}
}
