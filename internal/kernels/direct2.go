package kernels

// The input gradient of a stride-2 Direct convolution, by the same tiles.
// Pixel (Y, X) of the padded input takes w[m][c][ki][kj]·δ[m][oy][ox] from
// every output (oy, ox) with Y = 2·oy + ki and X = 2·ox + kj. Split by the
// parity (a, b) of (Y, X), Y = 2i + a and X = 2j + b, each parity plane is
// a stride-1 convolution of δ with its own taps: ki = a + 2u, kj = b + 2v,
// reading δ at (i − u, j − v). δ is padded by r = (k−1)/2 rows and columns
// on the top and left (zeros elsewhere) so that every tap is a shifted row,
// and the four parity planes of each input map are interleaved back at the
// end. Every weight and every δ value is used once: no multiply by a zero
// of a dilated δ.
//
// The networks do not take it: its sums run in another order than the
// col2im path they use, so it would change their bits.

// grad2 is the geometry of a stride-2 input gradient.
type grad2 struct {
	r, ld int         // δ's top and left padding; row stride of δ's planes and the parity grids
	hq    int         // rows of a parity grid
	span  int         // floats per map of a parity grid, rounded to the tiles' step
	plane int         // floats per padded map of δ
	taps  [4][][2]int // (ki, kj) of each parity's taps, u major
	off   [4][]int    // each tap's offset in δ's planes
}

func (d *Direct) newGrad2() *grad2 {
	k, pad := d.K, (d.K-1)/2
	g := &grad2{r: (k - 1) / 2, hq: (d.H + 2*pad + 1) / 2}
	g.ld = max(d.OW+g.r, d.ld)
	g.span = roundUp(g.hq*g.ld, d.step())
	// Reads reach r rows and columns past a grid position, and a tile's
	// columns past the span's end.
	g.plane = roundUp(g.span+g.r*g.ld+g.r+d.cols, 8)
	for ph := range g.taps {
		a, b := ph/2, ph%2
		for ki := a; ki < k; ki += 2 {
			for kj := b; kj < k; kj += 2 {
				u, v := (ki-a)/2, (kj-b)/2
				g.taps[ph] = append(g.taps[ph], [2]int{ki, kj})
				g.off[ph] = append(g.off[ph], (g.r-u)*g.ld+(g.r-v))
			}
		}
	}
	return g
}

// Grad2PlaneLen returns the floats one map of δ takes padded for the
// stride-2 input gradient.
func (d *Direct) Grad2PlaneLen() int { return d.g2.plane }

// Grad2GridLen returns the floats of one image's parity grids.
func (d *Direct) Grad2GridLen() int { return 4 * d.Rows(d.C) * d.g2.span }

// Grad2PackedLen returns the floats PackGrad2 writes.
func (d *Direct) Grad2PackedLen() int { return d.Rows(d.C) * d.M * d.K * d.K }

// PackGrad2 lays out weights w (M×C×k×k) for InputGrad2: per parity, tiles
// of input maps [block][m][tap][map in the block], zero past C.
func (d *Direct) PackGrad2(dst, w []float32) {
	g, t := d.g2, d.K*d.K
	dst = dst[:d.Grad2PackedLen()]
	at := 0
	for ph := range g.taps {
		nt := len(g.taps[ph])
		for b := 0; b < d.Rows(d.C); b += d.rows {
			for m := 0; m < d.M; m++ {
				for ti, kk := range g.taps[ph] {
					for r := 0; r < d.rows; r++ {
						v := float32(0)
						if c := b + r; c < d.C {
							v = w[(m*d.C+c)*t+kk[0]*d.K+kk[1]]
						}
						dst[at+((b*d.M+m*d.rows)*nt)+ti*d.rows+r] = v
					}
				}
			}
		}
		at += d.Rows(d.C) * d.M * nt
	}
}

// PadGrad2 writes ch maps of δ (OH×OW) into planes padded for InputGrad2.
func (d *Direct) PadGrad2(dst, delta []float32, ch int) {
	g := d.g2
	p := d.OH * d.OW
	for m := 0; m < ch; m++ {
		PadRows(dst[m*g.plane:], delta[m*p:(m+1)*p], nil, d.OH, d.OW, g.ld, g.r*g.ld+g.r, g.plane)
	}
}

// InputGrad2 computes the parity grids of one image's input gradient from
// δ's padded planes (PadGrad2) and the packed weights (PackGrad2).
func (d *Direct) InputGrad2(grids, planes, packed []float32) {
	g := d.g2
	rows := d.Rows(d.C)
	at := 0
	for ph := range g.taps {
		nt := len(g.taps[ph])
		grid := grids[ph*rows*g.span : (ph+1)*rows*g.span]
		for b := 0; b < rows; b += d.rows {
			d.tileRow(grid[b*g.span:], g.span, planes, g.plane, g.off[ph], &packed[at+b*d.M*nt], d.M)
		}
		at += rows * d.M * nt
	}
}

// UnpadGrad2 interleaves the parity grids into the input gradient's C
// maps of H×W (times mask, when not nil): row y of a map is row i of the
// parity a grids, y + pad = 2i + a, its even columns from one column
// parity and its odd ones from the other.
func (d *Direct) UnpadGrad2(dx, grids, mask []float32) {
	g, pad := d.g2, (d.K-1)/2
	rows, p := d.Rows(d.C), d.H*d.W
	b0, j0 := pad%2, pad/2    // x = 2t reads column t + j0 of parity b0
	b1, j1 := 1-b0, (pad+1)/2 // x = 2t+1 reads column t + j1 of parity b1
	for c := 0; c < d.C; c++ {
		for y := 0; y < d.H; y++ {
			a, i := (y+pad)%2, (y+pad)/2
			even := grids[((2*a+b0)*rows+c)*g.span+i*g.ld+j0:]
			odd := grids[((2*a+b1)*rows+c)*g.span+i*g.ld+j1:]
			out := dx[c*p+y*d.W : c*p+(y+1)*d.W]
			Interleave2(out, even[:(d.W+1)/2], odd[:d.W/2])
			if mask != nil {
				Mul(out, mask[c*p+y*d.W:c*p+(y+1)*d.W])
			}
		}
	}
}
