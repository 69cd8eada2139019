package winograd

import (
	"math"

	"github.com/dropexp/dropexp/internal/kernels"
)

// bt6 is Bᵀ of F(4×4, 3×3) on one column d:
//
//	o0 = 4·d0 − 5·d2 + d4
//	o1 = −4·(d1 + d2) + d3 + d4
//	o2 = 4·(d1 − d2) − d3 + d4
//	o3 = 2·(d3 − d1) − d2 + d4
//	o4 = 2·(d1 − d3) − d2 + d4
//	o5 = 4·d1 − 5·d3 + d5
func bt6(o, d []float32) {
	a, b, c, e, f := d[1], d[2], d[3], d[4], d[5]
	o[0] = 4*d[0] - 5*b + e
	o[1] = -4*(a+b) + c + e
	o[2] = 4*(a-b) - c + e
	o[3] = 2*(c-a) - b + e
	o[4] = 2*(a-c) - b + e
	o[5] = 4*a - 5*c + f
}

// at6 is Aᵀ of F(4×4, 3×3) on one column m:
//
//	o0 = m0 + m1 + m2 + m3 + m4
//	o1 = (m1 − m2) + 2·(m3 − m4)
//	o2 = (m1 + m2) + 4·(m3 + m4)
//	o3 = (m1 − m2) + 8·(m3 − m4) + m5
func at6(o, m []float32) {
	s12, d12, s34, d34 := m[1]+m[2], m[1]-m[2], m[3]+m[4], m[3]-m[4]
	o[0], o[1], o[2], o[3] = m[0]+s12+s34, d12+2*d34, s12+4*s34, d12+8*d34+m[5]
}

// at2 is Aᵀ of F(2×2, 5×5) on one column m (at6's first two rows, the
// second with m5: the point at infinity enters the highest power):
//
//	o0 = m0 + m1 + m2 + m3 + m4
//	o1 = (m1 − m2) + 2·(m3 − m4) + m5
func at2(o, m []float32) {
	s12, d12, s34, d34 := m[1]+m[2], m[1]-m[2], m[3]+m[4], m[3]-m[4]
	o[0], o[1] = m[0]+s12+s34, d12+2*d34+m[5]
}

// twoPass is the tile transforms' loop: for each k < n, the nin×nin
// block x[i][j] = src[soff[nin·i+j]+k] goes through f (nin values to
// nout) row by row, then column by column of the result, to
// dst[doff[nout·a+b]+k].
func twoPass(dst []float32, doff []int, src []float32, soff []int, n, nin, nout int, f func(o, in []float32)) {
	in, out, t := make([]float32, nin), make([]float32, nout), make([]float32, nin*nout)
	for k := 0; k < n; k++ {
		for i := 0; i < nin; i++ {
			for j := range in {
				in[j] = src[soff[nin*i+j]+k]
			}
			f(t[i*nout:(i+1)*nout], in)
		}
		for b := 0; b < nout; b++ {
			for i := range in {
				in[i] = t[i*nout+b]
			}
			f(out, in)
			for a, v := range out {
				dst[doff[nout*a+b]+k] = v
			}
		}
	}
}

// inputTilesGo is inputTiles' loop: the 6×6 block d of each position goes
// to Bᵀ·d·B.
func inputTilesGo(dst []float32, doff *[36]int, src []float32, soff *[36]int, n int) {
	twoPass(dst, doff[:], src, soff[:], n, 6, 6, bt6)
}

// outputTilesGo is outputTiles' loop: the 6×6 block P of each position
// goes to the 4×4 Aᵀ·P·A.
func outputTilesGo(dst []float32, doff *[16]int, src []float32, soff *[36]int, n int) {
	twoPass(dst, doff[:], src, soff[:], n, 6, 4, at6)
}

// output2TilesGo is output2Tiles' loop: the 6×6 block P of each
// position goes to the 2×2 Aᵀ·P·A of F(2×2, 5×5).
func output2TilesGo(dst []float32, doff *[4]int, src []float32, soff *[36]int, n int) {
	twoPass(dst, doff[:], src, soff[:], n, 6, 2, at2)
}

// tilesFit reports whether n positions from offsets no larger than hi
// stay inside s, and n is whole vectors, as the assembly needs (hi is
// what largest gives, once per plan: checking all 36 offsets on every
// call took 4 % of ResNet-20's evaluation).
func tilesFit(s []float32, hi, n int) bool {
	return n%16 == 0 && hi+n <= len(s)
}

// largest is the largest of off, or a value no buffer fits when one is
// negative.
func largest(off []int) int {
	hi := 0
	for _, o := range off {
		if o < 0 {
			return math.MaxInt / 2
		}
		hi = max(hi, o)
	}
	return hi
}

// his is the largest destination and source offsets of a transform.
func his(doff, soff []int) [2]int { return [2]int{largest(doff), largest(soff)} }

// splitPlaneGo writes the 16 phase planes of one channel of h×w pixels
// (plane floats apart, rows of ld = w/4+1, th+1 rows, h = 4·th): phase
// (a, b) holds padded pixel (4y+a, 4x+b), that is src pixel (4y+a−1,
// 4x+b−1) times mask's (when mask is not nil), or zero in the padding.
// When pad is not nil it also writes row r of src (times mask) to
// pad[r·pld:], for the direct convolution's planes.
func splitPlaneGo(dst []float32, plane, ld int, src, mask []float32, th, w int, pad []float32, pld int) {
	q := w / 4
	for r := 0; pad != nil && r < 4*th; r++ {
		row := pad[r*pld:][:w]
		for x := range row {
			row[x] = src[r*w+x]
			if mask != nil {
				row[x] = src[r*w+x] * mask[r*w+x]
			}
		}
	}
	for pr := 0; pr < 4*(th+1); pr++ { // padded row
		var row [4][]float32
		for b := range row {
			row[b] = dst[((pr%4)*4+b)*plane+(pr/4)*ld:][:ld]
		}
		r := pr - 1
		if r < 0 || r >= 4*th {
			for b := range row {
				clear(row[b])
			}
			continue
		}
		// Padded column 4x+b reads column 4x+b−1: phase 0 starts at
		// x = 1 (column 3), phases 1–3 at x = 0; the rest is padding.
		row[0][0] = 0
		for b := 1; b < 4; b++ {
			row[b][q] = 0
		}
		for b, c0 := range [4]int{3, 0, 1, 2} {
			out := row[b][:q]
			if b == 0 {
				out = row[0][1:]
			}
			for x := range out {
				c := r*w + c0 + 4*x
				out[x] = src[c]
				if mask != nil {
					out[x] = src[c] * mask[c]
				}
			}
		}
	}
}

// split2PlaneGo is splitPlaneGo for F(2×2, 5×5): the 4 phase planes of
// one channel of h×w pixels (plane floats apart, rows of ld = w/2+2,
// th+2 rows, h = 2·th): phase (a, b) holds padded pixel (2y+a, 2x+b),
// that is src pixel (2y+a−2, 2x+b−2) times mask's (when mask is not
// nil), or zero in the padding; with pad, also src's rows (times mask)
// at pad[r·pld:].
func split2PlaneGo(dst []float32, plane, ld int, src, mask []float32, th, w int, pad []float32, pld int) {
	at := func(r, c int) float32 {
		if mask != nil {
			return src[r*w+c] * mask[r*w+c]
		}
		return src[r*w+c]
	}
	for r := 0; pad != nil && r < 2*th; r++ {
		row := pad[r*pld:][:w]
		for x := range row {
			row[x] = at(r, x)
		}
	}
	for pr := 0; pr < 2*(th+2); pr++ { // padded row
		r := pr - 2
		for b := 0; b < 2; b++ {
			row := dst[((pr%2)*2+b)*plane+(pr/2)*ld:][:ld]
			row[0], row[ld-1] = 0, 0
			if r < 0 || r >= 2*th {
				clear(row)
				continue
			}
			// Padded column 2x+b is src column 2x+b−2: x = 1 … w/2.
			for x := 1; x <= w/2; x++ {
				row[x] = at(r, 2*x+b-2)
			}
		}
	}
}

// scatter2PlaneGo is scatterPlaneGo for F(2×2, 5×5): pixel (2ty+i,
// 2x+j) of the map is y[2i+j][ty·ld+x], plus bias when hasBias, times
// mask's pixel when mask is not nil.
func scatter2PlaneGo(dst, y, mask []float32, run, ld, th, w int, bias float32, hasBias bool) {
	for ty := 0; ty < th; ty++ {
		for i := 0; i < 2; i++ {
			row := dst[(2*ty+i)*w:][:w]
			for x := range row {
				v := y[(2*i+x%2)*run+ty*ld+x/2]
				if hasBias {
					v += bias
				}
				if mask != nil {
					v *= mask[(2*ty+i)*w+x]
				}
				row[x] = v
			}
		}
	}
}

// scatterEpi is an evaluation's epilogue on one output map, applied as
// the scatter writes it: ((v − μ)·g + b) + the residual's pixel (res
// not nil), then the ReLU when relu; affine holds μ, g, b.
type scatterEpi struct {
	affine [3]float32
	relu   bool
	res    []float32
}

// row applies the epilogue in place to row y (w pixels) of the map, by
// internal/kernels' NormalizeRows: the separate pass's own kernel.
func (e *scatterEpi) row(dst []float32, y, w int) {
	var r []float32
	if e.res != nil {
		r = e.res[y*w:][:w]
	}
	kernels.NormalizeRows(dst, 0, dst, 0, r, 0, 1, w, e.affine[0], e.affine[1], e.affine[2], e.relu)
}

// scatterPlaneGo writes one output map of 4·th rows of w from the 16
// runs of y (run floats apart): pixel (4ty+i, 4x+j) is y[4i+j][ty·ld+x],
// plus bias when hasBias, times mask's pixel when mask is not nil, then
// through e when not nil.
func scatterPlaneGo(dst, y, mask []float32, run, ld, th, w int, bias float32, hasBias bool, e *scatterEpi) {
	for ty := 0; ty < th; ty++ {
		for i := 0; i < 4; i++ {
			row := dst[(4*ty+i)*w:][:w]
			for x := range row {
				v := y[(4*i+x%4)*run+ty*ld+x/4]
				if hasBias {
					v += bias
				}
				if mask != nil {
					v *= mask[(4*ty+i)*w+x]
				}
				row[x] = v
			}
			if e != nil {
				e.row(row, 4*ty+i, w)
			}
		}
	}
}

// a4 is A (the transpose of Aᵀ) of F(4×4, 3×3) on one column g of an
// output gradient:
//
//	o0 = g0
//	o1 = (g0 + g2) + (g1 + g3)
//	o2 = (g0 + g2) − (g1 + g3)
//	o3 = (g0 + 4·g2) + (2·g1 + 8·g3)
//	o4 = (g0 + 4·g2) − (2·g1 + 8·g3)
//	o5 = g3
func a4(o, g []float32) {
	s02, s13 := g[0]+g[2], g[1]+g[3]
	p, q := g[0]+4*g[2], 2*g[1]+8*g[3]
	o[0], o[1], o[2], o[3], o[4], o[5] = g[0], s02+s13, s02-s13, p+q, p-q, g[3]
}

// a2 is A (the transpose of Aᵀ) of F(2×2, 5×5) on one column g of an
// output gradient:
//
//	o0 = g0
//	o1 = g0 + g1
//	o2 = g0 − g1
//	o3 = g0 + 2·g1
//	o4 = g0 − 2·g1
//	o5 = g1
func a2(o, g []float32) {
	t := 2 * g[1]
	o[0], o[1], o[2], o[3], o[4], o[5] = g[0], g[0]+g[1], g[0]-g[1], g[0]+t, g[0]-t, g[1]
}

// grad2TilesGo is grad2Tiles' loop: the 2×2 block g of an output
// gradient at each position goes to the 6×6 A·g·Aᵀ of F(2×2, 5×5).
func grad2TilesGo(dst []float32, doff *[36]int, src []float32, soff *[4]int, n int) {
	twoPass(dst, doff[:], src, soff[:], n, 2, 6, a2)
}

// gradTilesGo is gradTiles' loop: the 4×4 block g of an output gradient
// at each position goes to the 6×6 A·g·Aᵀ.
func gradTilesGo(dst []float32, doff *[36]int, src []float32, soff *[16]int, n int) {
	twoPass(dst, doff[:], src, soff[:], n, 4, 6, a4)
}

// packing packs the tiles of a group's tile grids without the grid's
// padding positions (the last column and row of each image's grid): n
// images of th×tw tiles on grids of ld-position rows, img positions per
// image. In assembly the packed tiles go 16 to a
// vector, vector v picking its tiles by idx from the 32 grid positions at
// base[v]: a tile grid of 8×8 maps is 3×3 (4 images a vector), of 16×16
// maps 5×5 (one image), of 32×32 maps 9×9 (two tile rows).
type packing struct {
	n, th, tw, ld, img int
	base               []int32    // each vector's first grid position
	idx                [16]uint32 // its tiles' positions from there
}

// newPacking returns the packing of n images' tile grids, nil when its
// tiles are not whole vectors of 16 that each lie within 32 positions of
// their first, in the same pattern.
func newPacking(n, th, tw, ld, img int) *packing {
	pk := &packing{n: n, th: th, tw: tw, ld: ld, img: img}
	tiles := n * th * tw
	if tiles%16 != 0 {
		return nil
	}
	for v := 0; v < tiles/16; v++ {
		b := pk.pos(16 * v)
		pk.base = append(pk.base, int32(b))
		for l := 0; l < 16; l++ {
			d := pk.pos(16*v+l) - b
			if d >= 32 || (v > 0 && pk.idx[l] != uint32(d)) {
				return nil
			}
			pk.idx[l] = uint32(d)
		}
	}
	return pk
}

// reach is how many grid positions a packed transform reads: up to 32
// from the last vector's base.
func (pk *packing) reach() int { return int(pk.base[len(pk.base)-1]) + 32 }

// pos is the grid position of packed tile t.
func (pk *packing) pos(t int) int {
	k, yx := t/(pk.th*pk.tw), t%(pk.th*pk.tw)
	return k*pk.img + yx/pk.tw*pk.ld + yx%pk.tw
}

// packedTwoPass is twoPass over pk's packed tiles: tile t reads its block
// at its grid position q, src[soff[·]+q], and writes dst[doff[·]+t].
func packedTwoPass(pk *packing, dst []float32, doff []int, src []float32, soff []int, nin, nout int, f func(o, in []float32)) {
	for t := 0; t < 16*len(pk.base); t++ {
		twoPass(dst[t:], doff, src[pk.pos(t):], soff, 1, nin, nout, f)
	}
}

// inputTilesPackedGo is inputTilesGo over pk's packed tiles.
func inputTilesPackedGo(pk *packing, dst []float32, doff *[36]int, src []float32, soff *[36]int) {
	packedTwoPass(pk, dst, doff[:], src, soff[:], 6, 6, bt6)
}

// gradTilesPackedGo is gradTilesGo over pk's packed tiles.
func gradTilesPackedGo(pk *packing, dst []float32, doff *[36]int, src []float32, soff *[16]int) {
	packedTwoPass(pk, dst, doff[:], src, soff[:], 4, 6, a4)
}

// grad2TilesPackedGo is grad2TilesGo over pk's packed tiles.
func grad2TilesPackedGo(pk *packing, dst []float32, doff *[36]int, src []float32, soff *[4]int) {
	packedTwoPass(pk, dst, doff[:], src, soff[:], 2, 6, a2)
}
