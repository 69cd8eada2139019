// Package winograd computes same-size convolutions (stride 1) by
// Winograd's minimal filtering (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", CVPR 2016): F(4×4, 3×3) for 3×3 kernels
// (pad 1), each 4×4 block of outputs read from a 6×6 block of inputs
// through 36 products per pair of maps instead of 144, and F(2×2, 5×5)
// for 5×5 kernels (pad 2), each 2×2 block through 36 instead of 100, at
// the cost of transforming the inputs, the weights and the outputs. Both
// interpolate at the points 0, ±1, ±2 and ∞, so they share the input
// transform Bᵀ.
//
// The transforms run over all the tiles of a group of images at once, as
// long vectors: each input channel is first split into phase planes by
// row and column mod the output tile (16 planes for 4×4 tiles, 4 for
// 2×2), so that element (i, j) of every tile is one contiguous run (the
// direct convolution's grid trick: tiles are laid out tw+ext to a row,
// the extra columns junk). The 36 products are 36 matrix multiplies of
// the transformed weights (M×C) by the transformed inputs (C×tiles),
// computed by the direct convolution's 8×32 tile with one tap.
//
// Every output sums its channels in order, one multiply-add each, and the
// tiles of a group do not interact, so the result does not depend on how
// images are grouped or on the thread count. It differs from the direct
// convolution's by rounding (the transforms' coefficients 1/6, 1/12, 1/24
// and 4, 5, 8 are not exact in float32).
//
// The transforms of 16 tile positions at a time, the phase splits of 32-,
// 16- and 8-wide maps and the scatters of their outputs are assembly on
// AVX-512 (transform_amd64.s, split_amd64.s, split2_amd64.s), each
// documented by the Go loop in transform.go that runs elsewhere and gives
// the same bits.
//
// The last rows and columns of each image's tile grid are padding (for
// 3×3 kernels 5 of the 9 positions on 8×8 maps, 9 of 25 on 16×16, 17 of
// 81 on 32×32), so the products take the tiles alone: the input
// transforms read each vector of 16 tiles from the 32 grid positions that
// hold them (a packing), and the output scatter reads the tiles' outputs
// packed, rows of tw tiles. The 3×3 weight gradient's sums take the tiles
// in the grid's lanes but on 8×8 maps (packing them would move their
// rounding).
//
// The winograd kernel set (internal/conv) computes ResNet-20's same-size
// 3×3 convolutions of 16 to 64 maps and ConvNet-Quick's 5×5 ones of 32
// and 64 with it: forward passes, input gradients and weight gradients.
// BenchmarkStages measures it against the direct convolution's forward
// pass on those shapes, with each stage's share.
//
// ConvEpilogue applies an evaluation's BatchNorm with fixed statistics,
// residual and ReLU as the 3×3 scatter stores each output, with the
// operations of internal/kernels' separate pass (the evaluation chain's
// layers, internal/chain).
//
// GroupWeightGrad, SumGroups and WeightGrad compute the weight gradient:
// each group of images gives its U' whole, its 36 products per 4×4 block
// of maps summed in registers (tile.Dot16Sum), so the groups, which the
// caller fixes by the batch alone, add up in order whatever the threads.
// Its rounding, like the forward pass's, is larger than the direct
// convolution's: several times as far from the exact gradients over the
// gradient tests' twelve draws (results/bench/winograd-rounding.txt).
package winograd

import "github.com/dropexp/dropexp/internal/tile"

// Xi is the number of transformed positions: a 6×6 input tile.
const Xi = 36

// Plan is F(4×4, 3×3) (K = 3) or F(2×2, 5×5) (K = 5) for c input and m
// output maps of h×w pixels, groups of g images at a time.
type Plan struct {
	C, M, H, W, G, K int
	mt, ext          int // output tile: mt×mt; a tile reads ext more of the grid's rows and columns (1, or 2 for K = 5)
	th, tw, ld       int // tile rows and columns per image; tile row stride (tw+ext)
	img              int // tile-grid positions per image: (th+ext)·ld
	nq               int // grid positions per group, rounded up to the GEMM tile
	phase            int // floats per phase run: nq + ext·(ld + 1), rounded up
	// pack, when not nil: the runs the products take hold the tiles
	// alone, qc = G·th·tw of them, without the grid's padding positions
	// (5 of every 9 on 8×8 maps, 9 of 25 on 16×16, 17 of 81 on 32×32);
	// else qc = nq.
	pack *packing
	qc   int
	// The transforms' offsets, fixed by the plan: the input transform's
	// reads of a channel's phases and writes of its runs, the output
	// transform's reads of a map's products and writes of its runs, and
	// the output-gradient transform's reads of a map's phases and writes
	// of its runs.
	inSoff, inDoff [36]int
	outSoff        [36]int
	outDoff        [16]int
	gradSoff       [16]int
	gradDoff       [36]int
	// Their largest destination and source offsets (his), for the
	// transforms' bounds checks; 2: the 5×5 transforms' first four.
	inHi, outHi, out2Hi, gradHi, grad2Hi [2]int
}

// Fits reports whether F(4×4, 3×3) or F(2×2, 5×5) computes this
// convolution here: a 3×3 kernel with pad 1 on maps a multiple of 4 in
// size, or a 5×5 kernel with pad 2 on maps a multiple of 2, stride 1,
// output maps a multiple of 8 (the GEMM tile's rows), and the AVX-512
// tile in hardware.
func Fits(c, m, h, w, k, pad, stride int) bool {
	shape := k == 3 && pad == 1 && h%4 == 0 && w%4 == 0 || k == 5 && pad == 2 && h%2 == 0 && w%2 == 0
	return shape && stride == 1 && m%8 == 0 && c > 0 && Available()
}

// tileOf is the output tile of a k×k kernel's plan: 4 for 3×3, 2 for 5×5.
func tileOf(k int) int { return 6 - k + 1 }

// Available reports whether this CPU runs Winograd's kernels: the AVX-512 tiles.
func Available() bool { return tile.Wide }

// NewPlan returns the plan of c→m maps of h×w for a k×k kernel (3 or 5),
// grouping 64 tiles' worth of images (256 for 5×5, whose transforms take
// four times as many tiles per output; at least one image) so the GEMMs
// are wide enough, the products over the tiles alone. In training (bench
// --layers) that ran ResNet-20's forward passes and input gradients
// 8–20 % faster than groups of 48–96 grid positions (128 tiles were
// slower on 8×8 maps); on ConvNet-Quick's 16×16 maps 256 tiles ran
// 5–10 % faster than 64 (BenchmarkStages).
func NewPlan(c, m, h, w, k int) *Plan {
	return NewPlanUpTo(c, m, h, w, k, 1<<20)
}

// NewPlanUpTo is NewPlan with groups of at most most images (but at
// least GroupStep(h, w, k)), for a caller that holds only a few images
// at a time; a group's result is the same whatever its size.
func NewPlanUpTo(c, m, h, w, k, most int) *Plan {
	st, mt, want := GroupStep(h, w, k), tileOf(k), 256
	if k == 3 {
		want = 64
	}
	tiles := h / mt * (w / mt)
	g := max(st, min(want/tiles, most)/st*st)
	return newGroupPlan(c, m, h, w, k, g, true)
}

// GroupStep is what a plan's group of images should be a multiple of for
// maps of h×w and a k×k kernel: 4 for 3×3 on 8×8 maps, whose 4 tiles an
// image then pack into whole vectors of 16, else 1.
func GroupStep(h, w, k int) int {
	if k == 3 && h == 8 && w == 8 {
		return 4
	}
	return 1
}

// Positions is the tile-grid positions per image of maps h×w under a k×k
// kernel's plan, tiles and padding.
func Positions(h, w, k int) int {
	mt := tileOf(k)
	ext := (k + mt - 2) / mt
	return (h/mt + ext) * (w/mt + ext)
}

// NewGroupPlan returns the plan of c→m maps of h×w for a k×k kernel that
// takes g images at a time (the weight gradient's groups are larger than
// Conv's). Its products take the tiles alone for 5×5 kernels where the
// grid's padding is a third of it or more, and for 3×3 on 8×8 maps only:
// the weight gradient's sums run over the positions in lanes, so packing
// moves their rounding, and the 3×3 sums kept the whole grid's.
func NewGroupPlan(c, m, h, w, k, g int) *Plan {
	packed := GroupStep(h, w, k) == 4
	if k == 5 {
		packed = 3*(h/2)*(w/2) <= 2*Positions(h, w, k)
	}
	return newGroupPlan(c, m, h, w, k, g, packed)
}

// newGroupPlan is NewGroupPlan, with the products over the tiles alone
// when packed (and the group's tiles are whole vectors), else over the
// whole tile grid.
func newGroupPlan(c, m, h, w, k, g int, packed bool) *Plan {
	mt := tileOf(k)
	p := &Plan{C: c, M: m, H: h, W: w, G: g, K: k, mt: mt, ext: (k + mt - 2) / mt, th: h / mt, tw: w / mt}
	p.ld = p.tw + p.ext
	p.img = (p.th + p.ext) * p.ld
	p.nq = roundUp(p.G*p.img, 16)
	p.phase = roundUp(p.nq+p.ext*(p.ld+1), 16)
	p.qc = p.nq
	if packed {
		if p.pack = newPacking(g, p.th, p.tw, p.ld, p.img); p.pack != nil {
			p.qc = g * p.th * p.tw
		}
	}
	p.offsets()
	return p
}

// offsets fills the transforms' offsets. A tile at grid position q reads
// d[i][j] from phase (i%mt, j%mt) at q + (i/mt)·ld + j/mt; its output
// (gradient) pixel (i, j) is padded pixel (i+pad, j+pad), pad = K/2.
func (p *Plan) offsets() {
	mt, pad, nq, qc := p.mt, p.K/2, p.nq, p.qc
	stride := nq // between runs: the grid's positions, or packed its tiles
	if p.pack != nil {
		stride = qc
	}
	for i := 0; i < 6; i++ {
		for j := 0; j < 6; j++ {
			p.inSoff[i*6+j] = ((i%mt)*mt+j%mt)*p.phase + (i/mt)*p.ld + j/mt
		}
	}
	for a := range p.inDoff {
		p.inDoff[a] = a * stride
		p.outSoff[a] = a * qc
		p.gradDoff[a] = a * p.M * stride
	}
	for i := 0; i < mt*mt; i++ {
		p.outDoff[i] = 24*nq + i*nq // Y's runs in tmp
		if p.pack != nil {
			p.outDoff[i] = i * qc // in grid, where the scatter reads them
		}
	}
	for i := 0; i < mt; i++ {
		for j := 0; j < mt; j++ {
			p.gradSoff[mt*i+j] = (((i+pad)%mt)*mt+(j+pad)%mt)*p.phase + ((i+pad)/mt)*p.ld + (j+pad)/mt
		}
	}
	p.inHi = his(p.inDoff[:], p.inSoff[:])
	p.outHi, p.out2Hi = his(p.outDoff[:], p.outSoff[:]), his(p.outDoff[:4], p.outSoff[:])
	p.gradHi, p.grad2Hi = his(p.gradDoff[:], p.gradSoff[:]), his(p.gradDoff[:], p.gradSoff[:4])
}

// scratch cuts scratch into the phase planes of maps maps (and 32 floats
// past them: a packed transform reads 32 positions from each vector's
// first), the transformed inputs (c maps), the products or transformed
// output gradients (m maps), the transforms' runs and, packed, one map's
// outputs.
func (p *Plan) scratch(scratch []float32, maps int) (phases, v, prod, tmp, grid []float32) {
	phases = scratch[:maps*p.mt*p.mt*p.phase+32]
	v = scratch[len(phases):][:Xi*p.C*p.qc]
	prod = scratch[len(phases)+len(v):][:Xi*p.M*p.qc]
	tmp = scratch[len(phases)+len(v)+len(prod):][:40*p.nq]
	if p.pack != nil {
		grid = scratch[len(phases)+len(v)+len(prod)+len(tmp):][:16*p.qc]
	}
	return
}

// scratchLen is the floats scratch cuts for maps maps of phase planes.
func (p *Plan) scratchLen(maps int) int {
	n := maps*p.mt*p.mt*p.phase + 32 + Xi*p.C*p.qc + Xi*p.M*p.qc + 40*p.nq
	if p.pack != nil {
		n += 16 * p.qc
	}
	return n
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// WeightsLen is the floats TransformWeights writes.
func (p *Plan) WeightsLen() int { return Xi * p.M * p.C }

// ScratchLen is the floats Conv needs as scratch for one group.
func (p *Plan) ScratchLen() int {
	return p.scratchLen(p.C)
}

// g64 is F(4×4, 3×3)'s weight transform G (6×3) and g564 F(2×2, 5×5)'s
// G₅ (6×5), in float64 for the weight gradient's last transform, as
// rows of five (G's last two columns zero).
var g64 = [6][5]float64{
	{1.0 / 4, 0, 0},
	{-1.0 / 6, -1.0 / 6, -1.0 / 6},
	{-1.0 / 6, 1.0 / 6, -1.0 / 6},
	{1.0 / 24, 1.0 / 12, 1.0 / 6},
	{1.0 / 24, -1.0 / 12, 1.0 / 6},
	{0, 0, 1},
}

// g564: row a is s_a·(1, x_a, x_a², x_a³, x_a⁴) at the points 0, 1, −1,
// 2, −2 with G's scales s_a, the last row (0, 0, 0, 0, 1).
var g564 = func() (g [6][5]float64) {
	points := [5]float64{0, 1, -1, 2, -2}
	for a, x := range points {
		v := g64[a][0]
		for j := 0; j < 5; j++ {
			g[a][j] = v
			v *= x
		}
	}
	g[5][4] = 1
	return g
}()

// g5 is G₅ in float32, for the weight transform: each entry rounds to
// the float32 nearest its fraction.
var g5 = func() (g [6][5]float32) {
	for i, row := range g564 {
		for j, v := range row {
			g[i][j] = float32(v)
		}
	}
	return g
}()

// g is G in float32, for the weight transform: each entry rounds to the
// float32 nearest the exact fraction (none is a double-rounding case).
var g = func() (g [6][3]float32) {
	for i := range g {
		for j := range g[i] {
			g[i][j] = float32(g64[i][j])
		}
	}
	return g
}()

// TransformWeights writes U = G·w·Gᵀ of the m×c×3×3 weights w (when
// transposed, w is c×m×3×3 and is read turned by 180°, the kernel of the
// input gradient) packed for the GEMM tile: U[ξ][m/8][c][m%8].
func (p *Plan) TransformWeights(u, w []float32, transposed bool) {
	p.TransformWeightsMaps(u, w, transposed, 0, p.M)
}

// TransformWeightsMaps is TransformWeights for output maps [m0, m1) only,
// so that threads can share the work.
func (p *Plan) TransformWeightsMaps(u, w []float32, transposed bool, m0, m1 int) {
	// Whole blocks of 8 maps go eight lanes at a time where the CPU can,
	// each lane the loop below; the maps before and after them one by one.
	b0, b1 := (m0+7)/8*8, m1/8*8
	if b0 < b1 && transformWeights8(p, u, w, transposed, b0, b1) {
		p.transformWeightsLoop(u, w, transposed, m0, b0)
		p.transformWeightsLoop(u, w, transposed, b1, m1)
		return
	}
	p.transformWeightsLoop(u, w, transposed, m0, m1)
}

// transformWeightsLoop is TransformWeightsMaps one map at a time.
func (p *Plan) transformWeightsLoop(u, w []float32, transposed bool, m0, m1 int) {
	if p.K == 5 {
		p.transformWeights5(u, w, transposed, m0, m1)
		return
	}
	for m := m0; m < m1; m++ {
		for c := 0; c < p.C; c++ {
			var k [3][3]float32
			for i := 0; i < 3; i++ {
				for j := 0; j < 3; j++ {
					if transposed {
						k[i][j] = w[((c*p.M+m)*3+2-i)*3+2-j]
					} else {
						k[i][j] = w[((m*p.C+c)*3+i)*3+j]
					}
				}
			}
			var t [6][3]float32 // G·k
			for a := 0; a < 6; a++ {
				for j := 0; j < 3; j++ {
					t[a][j] = g[a][0]*k[0][j] + g[a][1]*k[1][j] + g[a][2]*k[2][j]
				}
			}
			for a := 0; a < 6; a++ {
				for b := 0; b < 6; b++ {
					v := t[a][0]*g[b][0] + t[a][1]*g[b][1] + t[a][2]*g[b][2]
					u[((a*6+b)*p.M/8+m/8)*p.C*8+c*8+m%8] = v
				}
			}
		}
	}
}

// transformWeights5 is TransformWeightsMaps for 5×5 kernels: U = G₅·w·G₅ᵀ.
func (p *Plan) transformWeights5(u, w []float32, transposed bool, m0, m1 int) {
	for m := m0; m < m1; m++ {
		for c := 0; c < p.C; c++ {
			var k [5][5]float32
			for i := 0; i < 5; i++ {
				for j := 0; j < 5; j++ {
					if transposed {
						k[i][j] = w[((c*p.M+m)*5+4-i)*5+4-j]
					} else {
						k[i][j] = w[((m*p.C+c)*5+i)*5+j]
					}
				}
			}
			var t [6][5]float32 // G₅·k
			for a := 0; a < 6; a++ {
				for j := 0; j < 5; j++ {
					t[a][j] = g5[a][0]*k[0][j] + g5[a][1]*k[1][j] + g5[a][2]*k[2][j] + g5[a][3]*k[3][j] + g5[a][4]*k[4][j]
				}
			}
			for a := 0; a < 6; a++ {
				for b := 0; b < 6; b++ {
					v := t[a][0]*g5[b][0] + t[a][1]*g5[b][1] + t[a][2]*g5[b][2] + t[a][3]*g5[b][3] + t[a][4]*g5[b][4]
					u[((a*6+b)*p.M/8+m/8)*p.C*8+c*8+m%8] = v
				}
			}
		}
	}
}

// Padded is where Conv also writes its input (times inMask) as it reads
// it: the pixels of channel c of image k at Planes[(k·C+c)·Plane+Shift:],
// rows LD apart (the direct convolution's padded planes, whose borders
// the caller keeps zero).
type Padded struct {
	Planes           []float32
	Plane, LD, Shift int
}

// Conv computes the convolution of the first n ≤ G images of x (NCHW, c
// maps each), times inMask when not nil, with the weights u transformed
// by TransformWeights, into out (NCHW, m maps each), adding bias when not
// nil and then multiplying by outMask when not nil; with keep it also
// writes the input there. scratch holds ScratchLen floats.
func (p *Plan) Conv(out, x, inMask, outMask, u, bias, scratch []float32, n int, keep *Padded) {
	p.conv(out, x, inMask, outMask, u, bias, scratch, n, keep, nil)
}

// Epilogue is an evaluation's normalisation, which ConvEpilogue applies
// to each output as it writes it: ((v − Mu[m])·G[m] + B[m]) plus the
// residual's pixel (Res, laid out as the output, when not nil), then the
// ReLU when ReLU; internal/kernels' NormalizeAdd's operations, so its bits.
type Epilogue struct {
	Mu, G, B []float32
	ReLU     bool
	Res      []float32
}

// ConvEpilogue is Conv without masks, bias or keep for a 3×3 kernel,
// each output through e as it is written (one pass over the outputs
// fewer than the epilogue after Conv).
func (p *Plan) ConvEpilogue(out, x, u, scratch []float32, n int, e *Epilogue) {
	p.conv(out, x, nil, nil, u, nil, scratch, n, nil, e)
}

func (p *Plan) conv(out, x, inMask, outMask, u, bias, scratch []float32, n int, keep *Padded, e *Epilogue) {
	if e != nil && p.K != 3 {
		panic("winograd: ConvEpilogue takes 3×3 kernels")
	}
	phases, v, prod, tmp, grid := p.scratch(scratch, p.C)
	p.splitMaps(phases, x, inMask, n, p.C, keep)
	for c := 0; c < p.C; c++ {
		p.inputTransform(v, phases[c*p.mt*p.mt*p.phase:], tmp, c)
	}
	p.multiply(prod, v, u)
	for m := 0; m < p.M; m++ {
		var b float32
		if bias != nil {
			b = bias[m]
		}
		p.outputTransform(out, outMask, prod, tmp, grid, m, n, b, bias != nil, e)
	}
}

// splitMaps writes the mt² phase planes of every channel of n images of
// maps maps (times mask when not nil, and also to keep when not nil):
// phase (a, b) of channel c holds input pixel (4y+a−1, 4x+b−1) of image
// k at k·img + y·ld + x (K = 5: pixel (2y+a−2, 2x+b−2)), zero in the
// padding. Each image's th+ext rows of
// ld are written whole, so nothing is cleared first; what lies past the
// n images is left as it was and feeds only tiles that are not output.
func (p *Plan) splitMaps(phases, x, mask []float32, n, maps int, keep *Padded) {
	hw := p.H * p.W
	for c := 0; c < maps; c++ {
		ph := phases[c*p.mt*p.mt*p.phase:][:p.mt*p.mt*p.phase]
		for k := 0; k < n; k++ {
			at := (k*maps + c) * hw
			var ms []float32
			if mask != nil {
				ms = mask[at:][:hw]
			}
			var pad []float32
			pld := 0
			if keep != nil {
				pad, pld = keep.Planes[(k*maps+c)*keep.Plane+keep.Shift:], keep.LD
			}
			if p.K == 5 {
				split2Plane(ph[k*p.img:], p.phase, p.ld, x[at:][:hw], ms, p.th, p.W, pad, pld)
				continue
			}
			splitPlane(ph[k*p.img:], p.phase, p.ld, x[at:][:hw], ms, p.th, p.W, pad, pld)
		}
	}
}

// inputTransform writes V = Bᵀ·d·B of channel c for every tile position
// into v[c][ξ][q] (a channel's 36 runs together, so that its stores stay
// in a few kilobytes), reading d[i][j] of the tile at q from phase
// (i%mt, j%mt) at q + (i/mt)·ld + j/mt; tmp holds 576 floats. Packed, it
// reads the tiles alone (each vector's from the 32 positions that hold
// them) and writes them one after another.
func (p *Plan) inputTransform(v, ph, tmp []float32, c int) {
	if p.pack == nil {
		inputTiles(v[c*Xi*p.nq:], &p.inDoff, ph, &p.inSoff, tmp, p.nq, p.inHi)
		return
	}
	inputTilesPacked(p.pack, v[c*Xi*p.qc:], &p.inDoff, ph, &p.inSoff, tmp, p.inHi)
}

// multiply computes prod[m][ξ][q] = Σ_c u[ξ][m][c]·v[c][ξ][q] with the
// direct convolution's tile (one tap at offset 0), channels in order; a
// map's 36 runs lie together for the output transform.
func (p *Plan) multiply(prod, v, u []float32) {
	off := [1]int{0}
	nq := p.qc
	for xi := 0; xi < Xi; xi++ {
		in := v[xi*nq:]
		for b := 0; b < p.M/8; b++ {
			w := &u[(xi*p.M/8+b)*p.C*8]
			o := prod[(8*b*Xi+xi)*nq:]
			q := 0
			for ; q+32 <= nq; q += 32 {
				tile.Conv16(&o[q], Xi*nq, &in[q], Xi*nq, &off[0], 1, w, p.C)
			}
			if q < nq {
				tile.Conv16Half(&o[q], Xi*nq, &in[q], Xi*nq, &off[0], 1, w, p.C)
			}
		}
	}
}

// outputTransform writes Y = Aᵀ·P·A of map m for every tile of the n
// images into out, adding bias when hasBias, times mask when not nil,
// then through e when not nil. Y's mt² runs lie in tmp from 24·nq (runs
// of nq over the tile grid: rows of ld, images img apart; tmp holds 40
// runs); packed, in grid (runs of qc over the tiles alone: rows of tw,
// images th·tw apart), where the scatter reads them as they lie.
func (p *Plan) outputTransform(out, mask, prod, tmp, grid []float32, m, n int, bias float32, hasBias bool, e *Epilogue) {
	nq, qc := p.nq, p.qc
	dst, y, run, ld, img := tmp, tmp[24*nq:], nq, p.ld, p.img
	if p.pack != nil {
		dst, y, run, ld, img = grid, grid, qc, p.tw, p.th*p.tw
	}
	if p.K == 5 {
		output2Tiles(dst, (*[4]int)(p.outDoff[:4]), prod[m*Xi*qc:], &p.outSoff, tmp, qc, p.out2Hi)
	} else {
		outputTiles(dst, &p.outDoff, prod[m*Xi*qc:], &p.outSoff, tmp, qc, p.outHi)
	}
	hw := p.H * p.W
	for k := 0; k < n; k++ {
		at := (k*p.M + m) * hw
		var mk []float32
		if mask != nil {
			mk = mask[at:][:hw]
		}
		if p.K == 5 {
			scatter2Plane(out[at:][:hw], y[k*img:], mk, run, ld, p.th, p.W, bias, hasBias)
			continue
		}
		var se *scatterEpi
		if e != nil {
			se = &scatterEpi{affine: [3]float32{e.Mu[m], e.G[m], e.B[m]}, relu: e.ReLU}
			if e.Res != nil {
				se.res = e.Res[at:][:hw]
			}
		}
		scatterPlane(out[at:][:hw], y[k*img:], mk, run, ld, p.th, p.W, bias, hasBias, se)
	}
}

// The weight gradient: with V = Bᵀ·d·B of each input tile (as the forward
// pass transforms it) and D = A·δ·Aᵀ of the output gradient's tile, the
// gradient of the transformed weights is U'[ξ][m][c] = Σ_tiles D[ξ][m]·V[ξ][c]
// (36 matrix products over all tiles of the batch), and that of the
// weights Gᵀ·U'·G. Tiles past the images are zero in D, so they add
// nothing. A group's U' is summed in full in registers (tile.Dot16Sum),
// so groups add up in whatever order the caller fixes.

// SumsLen is the floats of a group's U', which GroupWeightGrad writes.
func (p *Plan) SumsLen() int { return Xi * p.M * p.C }

// sumAt is where U'[ξ][i][j] lies in sums: blocks of 4×4 maps,
// sums[((ξ·M/4 + i/4)·C/4 + j/4)·16 + 4·(i%4) + j%4].
func (p *Plan) sumAt(xi, i, j int) int {
	return ((xi*p.M/4+i/4)*p.C/4+j/4)*16 + 4*(i%4) + j%4
}

// GradScratchLen is the floats GroupWeightGrad needs as scratch.
func (p *Plan) GradScratchLen() int {
	return p.scratchLen(max(p.C, p.M))
}

// GroupWeightGrad writes into sums (SumsLen floats, as sumAt lays them
// out) U' of the first n ≤ G images' output gradients d (m maps each)
// and features x ⊙ mask (c maps; mask nil: none).
func (p *Plan) GroupWeightGrad(sums, x, mask, d, scratch []float32, n int) {
	nq, qc := p.nq, p.qc
	phases, v, dm, tmp, _ := p.scratch(scratch, max(p.C, p.M))
	p.splitMaps(phases, x, mask, n, p.C, nil)
	p.clearTails(phases, n, p.C)
	for c := 0; c < p.C; c++ {
		p.inputTransform(v, phases[c*p.mt*p.mt*p.phase:], tmp, c)
	}
	p.splitMaps(phases, d, nil, n, p.M, nil)
	p.clearTails(phases, n, p.M)
	soff, doff, mt := &p.gradSoff, &p.gradDoff, p.mt
	for m := 0; m < p.M; m++ {
		dst, src := dm[m*nq:], phases[m*mt*mt*p.phase:]
		if p.pack != nil {
			dst = dm[m*qc:]
		}
		switch {
		case p.pack == nil && p.K == 5:
			grad2Tiles(dst, doff, src, (*[4]int)(soff[:4]), tmp, nq, p.grad2Hi)
		case p.pack == nil:
			gradTiles(dst, doff, src, soff, tmp, nq, p.gradHi)
		case p.K == 5:
			grad2TilesPacked(p.pack, dst, doff, src, (*[4]int)(soff[:4]), tmp, p.grad2Hi)
		default:
			gradTilesPacked(p.pack, dst, doff, src, soff, tmp, p.gradHi)
		}
	}
	for xi := 0; xi < Xi; xi++ {
		for mb := 0; mb < p.M/4; mb++ {
			var a [4]*float32
			for i := range a {
				a[i] = &dm[(xi*p.M+4*mb+i)*qc]
			}
			for cb := 0; cb < p.C/4; cb++ {
				var b [4]*float32
				for j := range b {
					b[j] = &v[((4*cb+j)*Xi+xi)*qc]
				}
				tile.Dot16Sum(&sums[p.sumAt(xi, 4*mb, 4*cb)], &a, &b, qc, 1, 0, 0)
			}
		}
	}
}

// clearTails zeroes every phase plane of maps channels past the n images,
// so that the tiles there (and the last images' tiles that reach into
// them) read zeros.
func (p *Plan) clearTails(phases []float32, n, maps int) {
	for c := 0; c < maps*p.mt*p.mt; c++ {
		clear(phases[c*p.phase+n*p.img : (c+1)*p.phase])
	}
}

// SumGroups writes into u elements [e0, e1) of U', the sum of groups
// U's (each SumsLen floats in parts, laid out as GroupWeightGrad writes
// them) taken in order, in float64: U' is much larger than Gᵀ·U'·G,
// which cancels, and the sum costs little beside the products.
func (p *Plan) SumGroups(u []float64, parts []float32, groups, e0, e1 int) {
	sl := p.SumsLen()
	e0 = sumGroups8(u, parts, sl, groups, e0, e1)
	for e := e0; e < e1; e++ {
		u[e] = float64(parts[e])
	}
	for k := 1; k < groups; k++ {
		part := parts[k*sl:]
		for e := e0; e < e1; e++ {
			u[e] += float64(part[e])
		}
	}
}

// WeightGrad writes the gradient of the m×c×k×k weights, Gᵀ·U'·G in
// float64, from U' (as SumGroups writes it) into dw, for output maps
// [m0, m1) only, so that threads can share the work. Whole blocks of 4
// maps go through weightGrad16 where the CPU has it (the same products
// and sums in the same order, so the same bits), the rest through
// weightGradLoop.
func (p *Plan) WeightGrad(dw []float32, u []float64, m0, m1 int) {
	v0, v1 := roundUp(m0, 4), m1&^3
	if v0 < v1 && p.C%4 == 0 && weightGrad16(p, dw, u, v0, v1) {
		p.weightGradLoop(dw, u, m0, v0)
		p.weightGradLoop(dw, u, v1, m1)
		return
	}
	p.weightGradLoop(dw, u, m0, m1)
}

// weightGradLoop is WeightGrad one pair of maps at a time. Each product is
// rounded before its sum (the conversions forbid fusing them), as the
// vector form computes it.
func (p *Plan) weightGradLoop(dw []float32, u []float64, m0, m1 int) {
	k := p.K
	gk := g64[:]
	if k == 5 {
		gk = g564[:]
	}
	stride := p.M * p.C // between U'[ξ][m][c] and U'[ξ+1][m][c]
	for m := m0; m < m1; m++ {
		for c := 0; c < p.C; c++ {
			um := u[p.sumAt(0, m, c):]
			var t [6][5]float64 // U'·G
			for a := 0; a < 6; a++ {
				for j := 0; j < k; j++ {
					for b := 0; b < 6; b++ {
						t[a][j] += float64(um[(a*6+b)*stride] * gk[b][j])
					}
				}
			}
			for i := 0; i < k; i++ {
				for j := 0; j < k; j++ {
					var s float64
					for a := 0; a < 6; a++ {
						s += float64(gk[a][i] * t[a][j])
					}
					dw[((m*p.C+c)*k+i)*k+j] = float32(s)
				}
			}
		}
	}
}
