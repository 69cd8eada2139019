package kernels

import (
	"fmt"
	"github.com/dropexp/dropexp/internal/tile"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) ([]float32, []float64) {
	f, d := make([]float32, n), make([]float64, n)
	for i := range f {
		f[i] = float32(r.NormFloat64())
		d[i] = float64(f[i])
	}
	return f, d
}

func closeTo(t *testing.T, what string, got []float32, want []float64, scale float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > 1e-5*scale || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s[%d] = %v, want %v (|diff| %.3g > %.3g)", what, i, got[i], want[i], d, 1e-5*scale)
		}
	}
}

type directShape struct{ c, m, h, w, k int }

// tilesRun reports whether this build and CPU run the wide (AVX-512) or
// the AVX2 tiles: the assembly where the CPU has the instructions, and
// both widths where the tiles are Go loops.
func tilesRun(wide bool) bool {
	if !tile.Asm {
		return true
	}
	if wide {
		return tile.Wide
	}
	return tile.Available
}

// directCases pairs each shape with the tile widths this build and CPU run
// (tilesRun), all shapes where the tiles are assembly.
func directCases(shapes []directShape) (cs []struct {
	name  string
	shape directShape
	wide  bool
}) {
	for _, s := range shapes {
		if !tile.Asm && s.c*s.m*s.h*s.w > 4096 {
			// The Go loops are checked bit for bit against the assembly in
			// package tile; here the small odd shapes cover the layouts
			// (tails, partial blocks) and keep runs of one emulated FMA per
			// term short, under qemu too.
			continue
		}
		for _, wide := range []bool{false, true} {
			if !tilesRun(wide) {
				continue
			}
			cs = append(cs, struct {
				name  string
				shape directShape
				wide  bool
			}{fmt.Sprintf("%dx%dx%dx%d/k%d/wide=%v", s.c, s.m, s.h, s.w, s.k, wide), s, wide})
		}
	}
	return cs
}

var directShapes = []directShape{
	{3, 32, 32, 32, 5}, {32, 32, 16, 16, 5}, {32, 64, 8, 8, 5}, // ConvNet-Quick
	{16, 16, 32, 32, 3}, {32, 32, 16, 16, 3}, {64, 64, 8, 8, 3}, // ResNet-20
	{5, 7, 6, 9, 3}, {2, 3, 5, 4, 1}, {4, 5, 7, 3, 5}, // odd sizes, tails, 1×1
}

// TestDirectAgainstLoops checks the direct convolution's forward pass,
// input gradient and weight gradient against the textbook sums.
func TestDirectAgainstLoops(t *testing.T) {
	if !tilesRun(false) {
		t.Skip("no AVX2/FMA: the assembly tiles do not run on this CPU")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range directCases(directShapes) {
		s, wide := c.shape, c.wide
		t.Run(c.name, func(t *testing.T) {
			d := newDirect(s.c, s.m, s.h, s.w, s.k, (s.k-1)/2, 1, wide)
			const n = 3
			img, img64 := randSlice(r, n*s.c*s.h*s.w)
			mask, mask64 := randSlice(r, n*s.c*s.h*s.w)
			w, w64 := randSlice(r, s.m*s.c*s.k*s.k)
			delta, delta64 := randSlice(r, n*s.m*s.h*s.w)
			bias, _ := randSlice(r, s.m)
			in, out := s.c*s.h*s.w, s.m*s.h*s.w
			scale := float64(s.c * s.k * s.k)

			planes := make([]float32, n*s.c*d.Plane())
			dplanes := make([]float32, n*s.m*d.Plane())
			packed := make([]float32, d.PackedLen(s.m, s.c))
			packedT := make([]float32, d.PackedLen(s.c, s.m))
			d.Pack(packed, w)
			d.PackTransposed(packedT, w)
			grid := make([]float32, d.Rows(max(s.m, s.c))*d.Span())
			dw := make([]float32, len(w))
			for i := 0; i < n; i++ {
				// Junk in the buffers must not leak into results.
				for j := range grid {
					grid[j] = float32(math.NaN())
				}
				d.Pad(planes[i*s.c*d.Plane():], img[i*in:], mask[i*in:], s.c)
				d.Conv(grid, planes[i*s.c*d.Plane():], packed, s.c, s.m)
				got := make([]float32, out)
				d.Unpad(got, grid, s.m, bias, nil)
				masked := make([]float64, in)
				for j := range masked {
					masked[j] = img64[i*in+j] * mask64[i*in+j]
				}
				want, _, _ := naiveConvStride(masked, w64, s.c, s.m, s.h, s.w, s.k, (s.k-1)/2, 1)
				for j := range want {
					want[j] += float64(bias[j/(s.h*s.w)])
				}
				closeTo(t, "forward", got, want, scale)

				// Input gradient: ∂J/∂in[c] = Σ_m δ[m] ⋆ w[m][c], times mask.
				d.Pad(dplanes[i*s.m*d.Plane():], delta[i*out:], nil, s.m)
				d.Conv(grid, dplanes[i*s.m*d.Plane():], packedT, s.m, s.c)
				gotH := make([]float32, in)
				d.Unpad(gotH, grid, s.c, nil, mask[i*in:])
				wantH := make([]float64, in)
				p := (s.k - 1) / 2
				for m := 0; m < s.m; m++ {
					for y := 0; y < s.h; y++ {
						for x := 0; x < s.w; x++ {
							dv := delta64[i*out+(m*s.h+y)*s.w+x]
							for c := 0; c < s.c; c++ {
								for ki := 0; ki < s.k; ki++ {
									for kj := 0; kj < s.k; kj++ {
										iy, ix := y+ki-p, x+kj-p
										if iy >= 0 && iy < s.h && ix >= 0 && ix < s.w {
											wantH[(c*s.h+iy)*s.w+ix] += dv * w64[((m*s.c+c)*s.k+ki)*s.k+kj]
										}
									}
								}
							}
						}
					}
				}
				for j := range wantH {
					wantH[j] *= mask64[i*in+j]
				}
				closeTo(t, "input gradient", gotH, wantH, float64(s.m*s.k*s.k)*4)
			}

			// Weight gradient over the n images.
			lanes := make([]float32, d.LaneLen())
			d.WeightGrad(lanes, dplanes, planes, n)
			d.SumLanes(dw, lanes)
			wantW := make([]float64, len(w))
			p := (s.k - 1) / 2
			for i := 0; i < n; i++ {
				for m := 0; m < s.m; m++ {
					for c := 0; c < s.c; c++ {
						for ki := 0; ki < s.k; ki++ {
							for kj := 0; kj < s.k; kj++ {
								var sum float64
								for y := 0; y < s.h; y++ {
									for x := 0; x < s.w; x++ {
										iy, ix := y+ki-p, x+kj-p
										if iy >= 0 && iy < s.h && ix >= 0 && ix < s.w {
											j := (c*s.h+iy)*s.w + ix
											sum += delta64[i*out+(m*s.h+y)*s.w+x] * img64[i*in+j] * mask64[i*in+j]
										}
									}
								}
								wantW[((m*s.c+c)*s.k+ki)*s.k+kj] += sum
							}
						}
					}
				}
			}
			closeTo(t, "weight gradient", dw, wantW, float64(n*s.h*s.w)*4)
		})
	}
}

// naiveConvStride is the textbook convolution with a stride and padding.
func naiveConvStride(in, w []float64, c, m, h, wd, k, pad, stride int) ([]float64, int, int) {
	oh, ow := ConvOut(h, k, pad, stride), ConvOut(wd, k, pad, stride)
	out := make([]float64, m*oh*ow)
	for mm := 0; mm < m; mm++ {
		for y := 0; y < oh; y++ {
			for x := 0; x < ow; x++ {
				var s float64
				for cc := 0; cc < c; cc++ {
					for ki := 0; ki < k; ki++ {
						for kj := 0; kj < k; kj++ {
							iy, ix := y*stride+ki-pad, x*stride+kj-pad
							if iy >= 0 && iy < h && ix >= 0 && ix < wd {
								s += w[((mm*c+cc)*k+ki)*k+kj] * in[(cc*h+iy)*wd+ix]
							}
						}
					}
				}
				out[(mm*oh+y)*ow+x] = s
			}
		}
	}
	return out, oh, ow
}

// The stride-2 direct convolution (forward only) against the textbook sum,
// on ResNet-20's two downsampling shapes and odd sizes.
func TestDirectStride2AgainstLoops(t *testing.T) {
	if !tilesRun(false) {
		t.Skip("no AVX2/FMA: the assembly tiles do not run on this CPU")
	}
	r := rand.New(rand.NewPCG(3, 3))
	for _, c := range directCases([]directShape{{16, 32, 32, 32, 3}, {32, 64, 16, 16, 3}, {3, 5, 7, 9, 3}, {2, 9, 6, 5, 5}, {4, 3, 5, 5, 1}}) {
		s := c.shape
		pad := (s.k - 1) / 2
		d := newDirect(s.c, s.m, s.h, s.w, s.k, pad, 2, c.wide)
		img, img64 := randSlice(r, s.c*s.h*s.w)
		mask, mask64 := randSlice(r, s.c*s.h*s.w)
		w, w64 := randSlice(r, s.m*s.c*s.k*s.k)
		planes := make([]float32, s.c*d.Plane())
		for i := range planes {
			planes[i] = float32(math.NaN()) // Pad must write every float Conv reads
		}
		packed := make([]float32, d.PackedLen(s.m, s.c))
		grid := make([]float32, d.Rows(s.m)*d.Span())
		d.Pack(packed, w)
		d.Pad(planes, img, mask, s.c)
		d.Conv(grid, planes, packed, s.c, s.m)
		got := make([]float32, s.m*d.OH*d.OW)
		d.Unpad(got, grid, s.m, nil, nil)
		masked := make([]float64, len(img64))
		for i := range masked {
			masked[i] = img64[i] * mask64[i]
		}
		want, oh, ow := naiveConvStride(masked, w64, s.c, s.m, s.h, s.w, s.k, pad, 2)
		if oh != d.OH || ow != d.OW {
			t.Fatalf("%+v: output %dx%d, want %dx%d", s, d.OH, d.OW, oh, ow)
		}
		closeTo(t, c.name+" forward", got, want, float64(s.c*s.k*s.k)*4)
	}
}

// The weight gradient computed in ranges of tiles, each range reading
// only the δ maps TileMaps names (the others NaN), is the same bits as in
// one piece, for every way of cutting the tiles.
func TestDirectWeightGradTiles(t *testing.T) {
	if !tilesRun(false) {
		t.Skip("no AVX2/FMA: the assembly tiles do not run on this CPU")
	}
	r := rand.New(rand.NewPCG(5, 5))
	for _, c := range directCases(directShapes) {
		s := c.shape
		d := newDirect(s.c, s.m, s.h, s.w, s.k, (s.k-1)/2, 1, c.wide)
		const n = 3
		in, out := s.c*s.h*s.w, s.m*s.h*s.w
		img, _ := randSlice(r, n*in)
		delta, _ := randSlice(r, n*out)
		planes := make([]float32, n*s.c*d.Plane())
		dpl := make([]float32, n*s.m*d.Plane())
		for i := 0; i < n; i++ {
			d.Pad(planes[i*s.c*d.Plane():], img[i*in:], nil, s.c)
			d.Pad(dpl[i*s.m*d.Plane():], delta[i*out:], nil, s.m)
		}
		lanes := make([]float32, d.LaneLen())
		want := make([]float32, s.m*s.c*s.k*s.k)
		d.WeightGrad(lanes, dpl, planes, n)
		d.SumLanes(want, lanes)
		tiles := d.Tiles()
		for _, parts := range []int{2, 3, 7, tiles} {
			got := make([]float32, len(want))
			for i := range got {
				got[i] = float32(math.NaN())
			}
			for p := 0; p < parts; p++ {
				t0, t1 := Block(tiles, parts, p)
				m0, m1 := d.TileMaps(t0, t1)
				part := make([]float32, len(dpl))
				for i := range part {
					part[i] = float32(math.NaN())
				}
				for i := 0; i < n; i++ {
					d.Pad(part[(i*s.m+m0)*d.Plane():], delta[i*out+m0*s.h*s.w:i*out+m1*s.h*s.w], nil, m1-m0)
				}
				l0, l1 := d.TileLanes(t0, t1)
				clear(lanes[l0:l1])
				// Two calls: partial sums carry over from one to the next.
				d.WeightGradTiles(lanes, part, planes, 1, t0, t1)
				d.WeightGradTiles(lanes, part[s.m*d.Plane():], planes[s.c*d.Plane():], n-1, t0, t1)
				d.SumLanesTiles(got, lanes, t0, t1)
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s: %d parts: dW[%d] = %v, in one piece %v", c.name, parts, i, got[i], want[i])
				}
			}
		}
	}
}
