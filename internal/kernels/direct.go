package kernels

import "github.com/dropexp/dropexp/internal/tile"

// Direct is a convolution with an odd k×k kernel and pad (k−1)/2, computed
// without im2col: each input channel is copied once into a zero-padded
// plane, and the assembly tiles multiply-add shifted rows of those planes.
// Outputs live on the padded width ("the grid"), so output position
// q = y·wp + x reads input position q + ki·wp + kj for tap (ki, kj); the
// grid's columns x ≥ W are junk that Unpad drops. With stride 2 each
// channel is split into four planes by the parity of row and column
// (padded[2i+a][2j+b] in plane 2a+b, rows ld = ⌈wp/2⌉ apart), so that
// output position q = y·ld + x reads q + (ki/2)·ld + kj/2 of plane
// (ki mod 2, kj mod 2): again a shifted row. With stride 2 the gradients
// run too — the weight gradient with δ laid on the output grid (PadGrid)
// and the forward pass's parity planes, the input gradient as four stride-1
// convolutions of δ, one per parity of the padded input (direct2.go) — but
// the networks do not take them: their sums run in another order than the
// im2col and col2im paths they use, so they would change the networks'
// bits (BenchmarkStride2WeightGrad, BenchmarkStride2InputGrad). Backward
// reports the passes the networks take.
type Direct struct {
	C, M, H, W, K int
	Stride        int
	OH, OW        int    // output size
	wp            int    // padded width
	ld            int    // grid and plane row stride: wp, or ⌈wp/2⌉ with stride 2
	span          int    // grid positions per map, OH·ld rounded up to a tile
	phase         int    // floats per padded plane (a quarter of a channel's with stride 2)
	plane         int    // floats per channel
	off           []int  // input offset of each tap
	bOff          []int  // input offset of each weight-gradient b row
	wide          bool   // AVX-512 tiles
	rows, cols    int    // output maps and grid positions per tile
	lanes         int    // partial sums per weight-gradient dot product
	g2            *grad2 // the stride-2 input gradient's geometry
}

// NewDirect returns the direct convolution of c input and m output maps of
// h×w pixels with a k×k kernel, or nil when it does not apply: the CPU
// does not run the tiles in hardware (AVX2/FMA), or the convolution is not
// a same-size stride-1 one or a stride-2 one with pad (k−1)/2. Elsewhere
// (other GOARCHes, -tags noasm) the tiles are Go loops, one emulated FMA per
// term, far slower than im2col and a BLAS matrix multiply, so they serve the
// tests only.
func NewDirect(c, m, h, w, k, pad, stride int) *Direct {
	if !tile.Available {
		return nil
	}
	return newDirect(c, m, h, w, k, pad, stride, tile.Wide)
}

// newDirect is NewDirect with the AVX-512 tiles (wide) or the AVX2 ones,
// so that tests cover both on a CPU that has both, and the Go loops where
// the tiles are not assembly.
func newDirect(c, m, h, w, k, pad, stride int, wide bool) *Direct {
	if (stride != 1 && stride != 2) || k%2 == 0 || pad != (k-1)/2 {
		return nil
	}
	d := &Direct{C: c, M: m, H: h, W: w, K: k, Stride: stride, wp: w + 2*pad, rows: 4, cols: 24, lanes: 8}
	if wide {
		d.wide, d.rows, d.cols, d.lanes = true, 8, 32, 16
	}
	d.OH, d.OW = ConvOut(h, k, pad, stride), ConvOut(w, k, pad, stride)
	if stride == 1 {
		d.ld = d.wp
		d.span = roundUp(h*d.ld, d.step())
		d.phase = roundUp(d.span+2*d.shift(), 8)
		d.plane = d.phase
		for ki := 0; ki < k; ki++ {
			for kj := 0; kj < k; kj++ {
				d.off = append(d.off, ki*d.ld+kj)
			}
		}
	} else {
		d.ld = (d.wp + 1) / 2
		hq := (h + 2*pad + 1) / 2
		d.span = roundUp(d.OH*d.ld, d.step())
		d.phase = roundUp(max(d.span+(k/2)*(d.ld+1), hq*d.ld), 8)
		d.plane = 4 * d.phase
		for ki := 0; ki < k; ki++ {
			for kj := 0; kj < k; kj++ {
				d.off = append(d.off, (ki%2*2+kj%2)*d.phase+(ki/2)*d.ld+kj/2)
			}
		}
	}
	// Where each weight-gradient b row (input channel r/k² shifted by
	// tap r%k²) starts; rows past the last repeat it, and their sums
	// are never read.
	if stride == 2 {
		d.g2 = d.newGrad2()
	}
	rows := c * k * k
	d.bOff = make([]int, roundUp(rows, 12)) // whole tiles of 3 or 4 rows
	for r := range d.bOff {
		rr := min(r, rows-1)
		d.bOff[r] = (rr/(k*k))*d.plane + d.off[rr%(k*k)]
	}
	return d
}

// PadGrid writes ch maps of OH×OW pixels onto the output grid (rows ld
// apart, the junk columns and the rest of each span zero): δ as the
// stride-2 weight gradient reads it.
func (d *Direct) PadGrid(dst, img []float32, ch int) {
	p := d.OH * d.OW
	for c := 0; c < ch; c++ {
		g := dst[c*d.span : (c+1)*d.span]
		clear(g)
		for y := 0; y < d.OH; y++ {
			copy(g[y*d.ld:y*d.ld+d.OW], img[c*p+y*d.OW:c*p+(y+1)*d.OW])
		}
	}
}

// step is the granularity of a grid's width: a whole tile, or half of one
// where Conv16Half can take the last 16 columns.
func (d *Direct) step() int {
	if d.wide {
		return d.cols / 2
	}
	return d.cols
}

// Backward reports whether the networks take the direct convolution's
// gradients by default (stride 1), rather than the forward pass only; the
// stride-2 gradients (InputGrad2, WeightGrad on PadDelta's grid) are the
// strided kernel set's.
func (d *Direct) Backward() bool { return d.Stride == 1 }

// DeltaLen returns the floats one map of δ takes as the weight gradient
// reads it: a padded plane at stride 1, the output grid at stride 2.
func (d *Direct) DeltaLen() int {
	if d.Stride == 2 {
		return d.span
	}
	return d.plane
}

// PadDelta writes ch maps of δ as the weight gradient reads them (DeltaLen
// floats each).
func (d *Direct) PadDelta(dst, delta []float32, ch int) {
	if d.Stride == 2 {
		d.PadGrid(dst, delta, ch)
		return
	}
	d.Pad(dst, delta, nil, ch)
}

// ConvImpl names the convolution kernels this CPU runs: the direct
// convolution's AVX-512 or AVX2 tiles, or im2col and matrix multiplies.
func ConvImpl() string {
	switch {
	case tile.Wide:
		return "direct-avx512"
	case tile.Available:
		return "direct-avx2"
	}
	return "im2col"
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// Plane returns the floats one input channel takes, padded.
func (d *Direct) Plane() int { return d.plane }

// Span returns the floats one output map takes on the grid.
func (d *Direct) Span() int { return d.span }

// Rows returns n maps rounded up to the tile height, the row count of a grid.
func (d *Direct) Rows(n int) int { return roundUp(n, d.rows) }

// shift is where pixel (0,0) sits in a padded plane.
func (d *Direct) shift() int { p := (d.K - 1) / 2; return p*d.wp + p }

// Interior is where Pad writes the pixels of a stride-1 plane: row y at
// shift + y·ld, the rest of the plane padding (ClearBorders zeroes it).
func (d *Direct) Interior() (ld, shift int) { return d.wp, d.shift() }

// Pad writes ch maps of h×w pixels (times mask, when mask is not nil) into
// ch zero-padded planes.
func (d *Direct) Pad(dst, img, mask []float32, ch int) {
	p := d.H * d.W
	if d.Stride == 2 {
		d.padPhases(dst, img, mask, ch)
		return
	}
	for c := 0; c < ch; c++ {
		PadRows(dst[c*d.plane:], img[c*p:(c+1)*p], Part(mask, c, p), d.H, d.W, d.wp, d.shift(), d.plane)
	}
}

// padPhases is Pad for stride 2: four planes per channel by the parity
// of the padded row and column. Padded column 2j + b is image column
// x = 2j + b − pad, so the column phase bE ≡ pad (mod 2) takes the even
// columns of a row and the other phase the odd ones: one deinterleave per
// image row.
func (d *Direct) padPhases(dst, img, mask []float32, ch int) {
	h, w, pad := d.H, d.W, (d.K-1)/2
	hq := (h + 2*pad + 1) / 2
	bE, bO := pad%2, 1-pad%2
	jE, jO := (pad-bE)/2, (pad-bO+1)/2 // where x = 0 and x = 1 land
	nE, nO := min((w+1)/2, d.ld-jE), min(w/2, d.ld-jO)
	sw := min(w, 2*nE, 2*nO+1) // the image columns that fit the rows
	for c := 0; c < ch; c++ {
		src, m := img[c*h*w:(c+1)*h*w], Part(mask, c, h*w)
		// One clear of the channel's four planes costs less than clearing
		// each row's borders (hundreds of short clears per image).
		clear(dst[c*d.plane : (c+1)*d.plane])
		for a := 0; a < 2; a++ {
			pe := dst[c*d.plane+(2*a+bE)*d.phase : c*d.plane+(2*a+bE+1)*d.phase]
			po := dst[c*d.plane+(2*a+bO)*d.phase : c*d.plane+(2*a+bO+1)*d.phase]
			for i := 0; i < hq; i++ {
				y := 2*i + a - pad
				if y < 0 || y >= h {
					continue
				}
				var mk []float32
				if m != nil {
					mk = m[y*w : y*w+sw]
				}
				Deinterleave2(pe[i*d.ld+jE:(i+1)*d.ld], po[i*d.ld+jO:(i+1)*d.ld], src[y*w:y*w+sw], mk)
			}
		}
	}
}

// PackedLen returns the floats Pack writes for out output and in input maps.
func (d *Direct) PackedLen(out, in int) int { return d.Rows(out) * in * d.K * d.K }

// Pack lays out weights w (M×C×k×k) for Conv as tiles of output maps:
// [block][c][tap][map in the block], zero for the maps past M.
func (d *Direct) Pack(dst, w []float32) {
	t := d.K * d.K
	d.pack(dst, w, d.M, d.C, d.C*t, t, false)
}

// PackTransposed lays out weights w (M×C×k×k) for the input gradient: the
// convolution of δ's M maps into C maps with every kernel turned by 180°.
func (d *Direct) PackTransposed(dst, w []float32) {
	t := d.K * d.K
	d.pack(dst, w, d.C, d.M, t, d.C*t, true)
}

// pack lays out out×in kernels for Conv, kernel (o, i) starting at
// w[o·os + i·is], its taps in order or (turn) reversed.
func (d *Direct) pack(dst, w []float32, out, in, os, is int, turn bool) {
	t := d.K * d.K
	dst = dst[:d.PackedLen(out, in)]
	for b := 0; b < d.Rows(out); b += d.rows {
		blk := dst[b*in*t : (b+d.rows)*in*t]
		for r := 0; r < d.rows; r++ {
			if b+r >= out {
				for j := r; j < len(blk); j += d.rows {
					blk[j] = 0
				}
				continue
			}
			for i := 0; i < in; i++ {
				k := w[(b+r)*os+i*is:][:t]
				for tap := 0; tap < t; tap++ {
					src := tap
					if turn {
						src = t - 1 - tap
					}
					blk[(i*t+tap)*d.rows+r] = k[src]
				}
			}
		}
	}
}

// Conv computes out output maps on the grid (d.Rows(out) rows of Span
// floats) from in padded planes and weights packed for them.
func (d *Direct) Conv(grid, planes, packed []float32, in, out int) {
	t := d.K * d.K
	rows := d.Rows(out)
	_ = grid[rows*d.span-1]
	_ = planes[in*d.plane-1]
	_ = packed[rows*in*t-1]
	for b := 0; b < rows; b += d.rows {
		d.tileRow(grid[b*d.span:], d.span, planes, d.plane, d.off, &packed[b*in*t], in)
	}
}

// tileRow runs the tiles along one block of d.rows output maps of a grid
// (span floats a map) from in maps of planes (plane floats a map), with
// the taps at off and the block's packed weights w.
func (d *Direct) tileRow(grid []float32, span int, planes []float32, plane int, off []int, w *float32, in int) {
	conv := tile.Conv
	if d.wide {
		conv = tile.Conv16
	}
	q := 0
	for ; q+d.cols <= span; q += d.cols {
		conv(&grid[q], span, &planes[q], plane, &off[0], len(off), w, in)
	}
	if q < span {
		tile.Conv16Half(&grid[q], span, &planes[q], plane, &off[0], len(off), w, in)
	}
}

// Unpad copies out maps from the grid to h×w images, adding bias[m] (when
// bias is not nil) and then multiplying by mask (when not nil).
func (d *Direct) Unpad(dst, grid []float32, out int, bias, mask []float32) {
	p := d.OH * d.OW
	for m := 0; m < out; m++ {
		var bv float32
		if bias != nil {
			bv = bias[m]
		}
		UnpadRows(dst[m*p:(m+1)*p], grid[m*d.span:], Part(mask, m, p), d.OH, d.OW, d.ld, bv, bias != nil)
	}
}

// dotRows is how many a rows and b rows one weight-gradient tile takes.
func (d *Direct) dotRows() int {
	if d.wide {
		return 4
	}
	return 3
}

// LaneLen returns the floats of the partial sums WeightGrad accumulates.
func (d *Direct) LaneLen() int {
	tr := d.dotRows()
	return roundUp(d.M, tr) * roundUp(d.C*d.K*d.K, tr) * d.lanes
}

// Layout places pixel (y, x) of map m of an activation at m·Map + Off +
// y·Ld + x: dense maps, or the zero-padded planes a stride-1 Direct convolves.
type Layout struct{ Map, Off, Ld int }

// Dense is the layout of c maps of h×w pixels one after another.
func Dense(h, w int) Layout { return Layout{Map: h * w, Ld: w} }

// Padded reports whether l leaves room around maps of h×w pixels.
func (l Layout) Padded(h, w int) bool { return l != Dense(h, w) }

// In returns the layout of the planes Pad writes for a stride-1 convolution.
func (d *Direct) In() Layout { return Layout{Map: d.plane, Off: d.shift(), Ld: d.wp} }

// Out returns the dense layout of the convolution's output maps.
func (d *Direct) Out() Layout { return Dense(d.OH, d.OW) }

// Normalize copies out maps from the grid to dst, laid out as dl, as
// NormalizeAdd does, with res's maps (laid out as rl) when res is not nil:
// an evaluation BatchNorm, residual sum and ReLU applied while the maps are
// still in cache. Padded planes get zero borders, ready to be convolved.
func (d *Direct) Normalize(dst []float32, dl Layout, grid []float32, out int, mu, g, b, res []float32, rl Layout, relu bool) {
	for m := 0; m < out; m++ {
		o := dst[m*dl.Map : (m+1)*dl.Map]
		var r []float32
		if res != nil {
			r = res[m*rl.Map+rl.Off:]
		}
		NormalizeRows(o[dl.Off:], dl.Ld, grid[m*d.span:], d.ld, r, rl.Ld, d.OH, d.OW, mu[m], g[m], b[m], relu)
		if dl.Padded(d.OH, d.OW) {
			ClearBorders(o, d.OH, d.OW, dl.Ld, dl.Off, dl.Map)
		}
	}
}

// WeightGrad adds ∂J/∂W of imgs images to lanes (LaneLen floats of partial
// sums, which SumLanes turns into M×C×k×k), from δ and the layer's input as
// padded planes (M and C planes per image, consecutive). Keeping partial
// sums across calls leaves one horizontal sum per weight and step.
func (d *Direct) WeightGrad(lanes, delta, planes []float32, imgs int) {
	d.WeightGradTiles(lanes, delta, planes, imgs, 0, d.Tiles())
}

// Tiles returns how many tiles the weight gradient is made of: blocks of
// dotRows output maps by dotRows unrolled input rows, output maps major.
// Each tile's partial sums are its own, so workers that take disjoint
// ranges of tiles compute the same bits whatever the split.
func (d *Direct) Tiles() int {
	tr := d.dotRows()
	return (d.M + tr - 1) / tr * ((d.C*d.K*d.K + tr - 1) / tr)
}

// TileMaps returns the output maps [lo,hi) whose δ tiles [t0,t1) read:
// WeightGradTiles needs only those planes of δ.
func (d *Direct) TileMaps(t0, t1 int) (lo, hi int) {
	if t0 >= t1 {
		return 0, 0
	}
	tr := d.dotRows()
	rt := (d.C*d.K*d.K + tr - 1) / tr
	return t0 / rt * tr, min(((t1-1)/rt+1)*tr, d.M)
}

// TileLanes returns the part [lo,hi) of lanes that tiles [t0,t1) accumulate into.
func (d *Direct) TileLanes(t0, t1 int) (lo, hi int) {
	tr := d.dotRows()
	size := tr * tr * d.lanes
	return t0 * size, t1 * size
}

// WeightGradTiles is WeightGrad for tiles [t0,t1) only.
func (d *Direct) WeightGradTiles(lanes, delta, planes []float32, imgs, t0, t1 int) {
	if imgs == 0 || t0 >= t1 {
		return
	}
	t := d.K * d.K
	rows := d.C * t
	n := roundUp(d.H*d.wp, d.lanes)
	s, amap := d.shift(), d.plane
	if d.Stride == 2 {
		n, s, amap = roundUp(d.OH*d.ld, d.lanes), 0, d.span
	}
	sa, sb := d.M*amap, d.C*d.plane
	_ = delta[imgs*sa-1]
	_ = planes[imgs*sb-1]
	_ = lanes[d.LaneLen()-1]
	var a, b [4]*float32
	tr := d.dotRows()
	rt := (rows + tr - 1) / tr
	size := tr * tr * d.lanes
	for k := t0; k < t1; k++ {
		m, r := k/rt*tr, k%rt*tr
		if k == t0 || r == 0 {
			for i := 0; i < tr; i++ {
				a[i] = &delta[min(m+i, d.M-1)*amap+s]
			}
		}
		for i, o := range d.bOff[r : r+tr] {
			b[i] = &planes[o]
		}
		if d.wide {
			tile.Dot16(&lanes[k*size], &a, &b, n, imgs, sa, sb)
		} else {
			tile.Dot(&lanes[k*size], a[0], a[1], a[2], b[0], b[1], b[2], n, imgs, sa, sb)
		}
	}
}

// SumLanes writes the weight gradient held in lanes to dw (M×C×k×k).
func (d *Direct) SumLanes(dw, lanes []float32) { d.SumLanesTiles(dw, lanes, 0, d.Tiles()) }

// SumLanesTiles writes the weights of tiles [t0,t1) from lanes to dw.
func (d *Direct) SumLanesTiles(dw, lanes []float32, t0, t1 int) {
	rows := d.C * d.K * d.K
	tr := d.dotRows()
	rt := (rows + tr - 1) / tr
	size := tr * tr * d.lanes
	for k := t0; k < t1; k++ {
		m, r := k/rt*tr, k%rt*tr
		blk := lanes[k*size : (k+1)*size]
		for i := 0; i < tr && m+i < d.M; i++ {
			for j := 0; j < tr && r+j < rows; j++ {
				dw[(m+i)*rows+r+j] = hsum(blk[(tr*i+j)*d.lanes : (tr*i+j+1)*d.lanes])
			}
		}
	}
}

// hsum adds 8 or 16 lanes pairwise: halves, then quarters, then the
// last two pairs.
func hsum(l []float32) float32 {
	if v, ok := vecHsum(l); ok {
		return v
	}
	for len(l) > 1 {
		h := len(l) / 2
		for i := 0; i < h; i++ {
			l[i] += l[i+h]
		}
		l = l[:h]
	}
	return l[0]
}
