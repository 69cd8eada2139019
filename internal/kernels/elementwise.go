package kernels

import "math"

// The element-wise kernels below hand the longest prefix they can to a
// vector body (vec*.go: AVX2 when built with GOEXPERIMENT=simd on amd64,
// none otherwise) and finish in scalar Go. The vector bodies compute
// exactly what the scalar loops compute — the same operations in the same
// order, no fused multiply-add, reductions in the same four lanes — so a
// build with or without them gives bit-identical numbers. The scalar loops
// convert every product that is then added to float32, which the Go spec
// says rounds it: without that, compilers that fuse x*y + z (arm64, and
// amd64 with GOAMD64=v3) would give other bits.

// Mul multiplies dst by m element-wise.
func Mul(dst, m []float32) {
	m = m[:len(dst)]
	for i := vecMul(dst, m); i < len(dst); i++ {
		dst[i] *= m[i]
	}
}

// Interleave2 writes even[t] to dst[2t] and odd[t] to dst[2t+1]; even and
// odd hold at least (len(dst)+1)/2 and len(dst)/2 values.
func Interleave2(dst, even, odd []float32) {
	for x := vecInterleave2(dst, even, odd); x < len(dst); x++ {
		if x%2 == 0 {
			dst[x] = even[x/2]
		} else {
			dst[x] = odd[x/2]
		}
	}
}

// Deinterleave2 writes src[2t] (times mask[2t], when mask is not nil) to
// even[t] and src[2t+1] (times mask[2t+1]) to odd[t]; even and odd hold
// at least (len(src)+1)/2 and len(src)/2 values.
func Deinterleave2(even, odd, src, mask []float32) {
	if mask != nil {
		mask = mask[:len(src)]
	}
	for x := vecDeinterleave2(even, odd, src, mask); x < len(src); x++ {
		v := src[x]
		if mask != nil {
			v *= mask[x]
		}
		if x%2 == 0 {
			even[x/2] = v
		} else {
			odd[x/2] = v
		}
	}
}

// AddTo writes a+b into dst.
func AddTo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := vecAddTo(dst, a, b); i < len(dst); i++ {
		dst[i] = a[i] + b[i]
	}
}

// MulTo writes a⊙b into dst.
func MulTo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := vecMulTo(dst, a, b); i < len(dst); i++ {
		dst[i] = a[i] * b[i]
	}
}

// ReLU writes max(x, 0) into dst without branches, which matters because the
// sign of an activation is a coin flip the branch predictor cannot learn.
func ReLU(dst, x []float32) {
	x = x[:len(dst)]
	for i := vecReLU(dst, x); i < len(dst); i++ {
		dst[i] = relu(x[i])
	}
}

// ReLUGrad writes δ where y > 0 and 0 elsewhere, for y ≥ 0 (a ReLU's output), without branches.
func ReLUGrad(dst, y, d []float32) {
	y, d = y[:len(dst)], d[:len(dst)]
	for i := vecReLUGrad(dst, y, d); i < len(dst); i++ {
		dst[i] = math.Float32frombits(math.Float32bits(d[i]) & nonzero(y[i]))
	}
}

// lanes are four float32 partial sums; element i goes to lane i mod 4.
type lanes [4]float32

// fold adds the lanes in float64.
func (l *lanes) fold() float64 {
	return float64(l[0]) + float64(l[1]) + float64(l[2]) + float64(l[3])
}

// SumSq returns Σ(x−s) and Σ(x−s)² over x, with four independent float32
// accumulators (a single float64 chain is latency bound) folded into float64.
func SumSq(x []float32, s float32) (sum, sq float64) {
	var a, q lanes
	i := vecSumSq(x, s, &a, &q)
	return sumSqTail(x, s, i, &a, &q)
}

// SumSq4 is SumSq of four equally long x at once, the same bits: their
// four chains of additions interleave instead of waiting on each other.
func SumSq4(x *[4][]float32, s float32) (sum, sq [4]float64) {
	var a, q [4]lanes
	i := vecSumSq4(x, s, &a, &q)
	for k := range x {
		sum[k], sq[k] = sumSqTail(x[k], s, i, &a[k], &q[k])
	}
	return
}

// sumSqTail carries SumSq's lanes a, q on from element i to the end of x
// and folds them.
func sumSqTail(x []float32, s float32, i int, a, q *lanes) (sum, sq float64) {
	a0, a1, a2, a3, q0, q1, q2, q3 := a[0], a[1], a[2], a[3], q[0], q[1], q[2], q[3]
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		d0, d1, d2, d3 := v[0]-s, v[1]-s, v[2]-s, v[3]-s
		a0, a1, a2, a3 = a0+d0, a1+d1, a2+d2, a3+d3
		q0, q1, q2, q3 = q0+float32(d0*d0), q1+float32(d1*d1), q2+float32(d2*d2), q3+float32(d3*d3)
	}
	for ; i < len(x); i++ {
		d := x[i] - s
		a0 += d
		q0 += float32(d * d)
	}
	*a, *q = lanes{a0, a1, a2, a3}, lanes{q0, q1, q2, q3}
	return a.fold(), q.fold()
}

// ReLUOf is what the output y = relu((x − Mu)·G + B) of a fused ReLU, as
// NormalizeReLU computes it from x, is recomputed from, so that
// BatchNorm's backward pass masks δ by y ≠ 0 without reading y. Its zero
// value is no ReLU: every δ kept.
type ReLUOf struct {
	On       bool
	Mu, G, B float32
}

// keep returns all ones where relu((x − Mu)·G + B) ≠ 0, that is where
// (x − Mu)·G + B is positive (its sign bit clear, its bits not all zero:
// relu's keeps exactly those), and zero elsewhere.
func (r ReLUOf) keep(x float32) uint32 {
	u := int32(math.Float32bits(float32((x-r.Mu)*r.G) + r.B))
	return uint32((-u &^ u) >> 31)
}

// StdSums returns Σd′ and Σd′·x̂ with x̂ = (x − mu)·inv, accumulated like
// SumSq, where d′ = d⊙[y≠0] for the ReLU output y that r recomputes from x
// (r.On) and d′ = d otherwise: the sums of BatchNorm's backward pass, from
// its input x rather than a stored x̂ or y, which rounds the same.
func StdSums(d, x []float32, r ReLUOf, mu, inv float32) (sum, dot float64) {
	var a, q lanes
	i := vecStdSums(d, x[:len(d)], r, mu, inv, &a, &q)
	return stdSumsTail(d, x[:len(d)], r, mu, inv, i, &a, &q)
}

// StdSums4 is StdSums of four equally long pairs d, x at once, the same
// bits: their chains of additions interleave.
func StdSums4(d, x *[4][]float32, r ReLUOf, mu, inv float32) (sum, dot [4]float64) {
	var a, q [4]lanes
	i := vecStdSums4(d, x, r, mu, inv, &a, &q)
	for k := range d {
		sum[k], dot[k] = stdSumsTail(d[k], x[k][:len(d[k])], r, mu, inv, i, &a[k], &q[k])
	}
	return
}

// stdSumsTail carries StdSums' lanes a, q on from element i to the end of
// d and folds them.
func stdSumsTail(d, x []float32, r ReLUOf, mu, inv float32, i int, a, q *lanes) (sum, dot float64) {
	term := func(i int) float32 {
		if !r.On {
			return d[i]
		}
		return math.Float32frombits(math.Float32bits(d[i]) & r.keep(x[i]))
	}
	a0, a1, a2, a3, q0, q1, q2, q3 := a[0], a[1], a[2], a[3], q[0], q[1], q[2], q[3]
	for ; i+4 <= len(d); i += 4 {
		v0, v1, v2, v3 := term(i), term(i+1), term(i+2), term(i+3)
		w := x[i : i+4 : i+4]
		a0, a1, a2, a3 = a0+v0, a1+v1, a2+v2, a3+v3
		q0, q1, q2, q3 = q0+float32(v0*((w[0]-mu)*inv)), q1+float32(v1*((w[1]-mu)*inv)), q2+float32(v2*((w[2]-mu)*inv)), q3+float32(v3*((w[3]-mu)*inv))
	}
	for ; i < len(d); i++ {
		v := term(i)
		a0 += v
		q0 += float32(v * ((x[i] - mu) * inv))
	}
	*a, *q = lanes{a0, a1, a2, a3}, lanes{q0, q1, q2, q3}
	return a.fold(), q.fold()
}

// relu returns max(v, 0) without a branch.
func relu(v float32) float32 {
	u := math.Float32bits(v)
	return math.Float32frombits(u &^ uint32(int32(u)>>31))
}

// nonzero returns all ones if y ≠ 0 and zero otherwise, as a bit mask.
func nonzero(y float32) uint32 {
	u := math.Float32bits(y)
	return uint32(int32(u|-u) >> 31)
}

// Normalize writes (x − mu)·g + b into dst.
func Normalize(dst, x []float32, mu, g, b float32) {
	x = x[:len(dst)]
	for i := vecNormalize(dst, x, mu, g, b, false); i < len(dst); i++ {
		dst[i] = float32((x[i]-mu)*g) + b
	}
}

// NormalizeReLU writes max((x − mu)·g + b, 0) into dst.
func NormalizeReLU(dst, x []float32, mu, g, b float32) {
	x = x[:len(dst)]
	for i := vecNormalize(dst, x, mu, g, b, true); i < len(dst); i++ {
		dst[i] = relu(float32((x[i]-mu)*g) + b)
	}
}

// NormalizeAdd writes (x − mu)·g + b into dst, adds r when r is not nil,
// then takes max(·, 0) when relu is set: an evaluation BatchNorm, a
// residual sum and a ReLU with the bits of Normalize, AddReLU and
// NormalizeReLU, in one pass (dst may be x).
func NormalizeAdd(dst, x, r []float32, mu, g, b float32, relu bool) {
	NormalizeRows(dst, 0, x, 0, r, 0, 1, len(dst), mu, g, b, relu)
}

// AddReLU writes max(a + b, 0) into dst.
func AddReLU(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := vecAddReLU(dst, a, b); i < len(dst); i++ {
		dst[i] = relu(a[i] + b[i])
	}
}

// BNGrad writes k·(d′ − a − x̂·b) into dst, with x̂ = (x − mu)·inv and d′ as
// in StdSums: BatchNorm's input gradient.
func BNGrad(dst, d, x []float32, r ReLUOf, mu, inv, k, a, b float32) {
	d, x = d[:len(dst)], x[:len(dst)]
	for i := vecBNGrad(dst, d, x, r, mu, inv, k, a, b); i < len(dst); i++ {
		v := d[i]
		if r.On {
			v = math.Float32frombits(math.Float32bits(v) & r.keep(x[i]))
		}
		dst[i] = k * (v - a - float32(((x[i]-mu)*inv)*b))
	}
}

// AddScalar adds b to every element of dst.
func AddScalar(dst []float32, b float32) {
	for i := vecAddScalar(dst, b); i < len(dst); i++ {
		dst[i] += b
	}
}

// MaxRows writes into dst[x] the maximum over rows [y0,y1) of src[y·ld+x];
// a NaN among them makes it NaN, as Go's max does. With ld = 1, y0 = 0 and
// y1 = k it is the maximum of every k consecutive values, src[x:x+k].
func MaxRows(dst, src []float32, ld, y0, y1 int) {
	for x := vecMaxRows(dst, src, ld, y0, y1); x < len(dst); x++ {
		dst[x] = maxDown(src, ld, x, y0, y1)
	}
}

// maxDown is the maximum of src[y·ld+x] over y in [y0,y1), NaN if any is.
func maxDown(src []float32, ld, x, y0, y1 int) float32 {
	m := src[y0*ld+x]
	for y := y0 + 1; y < y1; y++ {
		m = max(m, src[y*ld+x])
	}
	return m
}

// MaxRowsArg is MaxRows that also writes into at[x] the position y·ld+x
// in src of the first row holding the maximum (row y0 when it is NaN).
func MaxRowsArg(dst []float32, at []int32, src []float32, ld, y0, y1 int) {
	for x := vecMaxRowsArg(dst, at, src, ld, y0, y1); x < len(dst); x++ {
		m := maxDown(src, ld, x, y0, y1)
		a := int32(y0*ld + x)
		for y := y1 - 1; y >= y0; y-- {
			if src[y*ld+x] == m {
				a = int32(y*ld + x)
			}
		}
		dst[x], at[x] = m, a
	}
}

// WindowMaxArg writes into dst[x] the maximum of src[x:x+k] (as MaxRows
// with ld 1) and into at[x] the smallest key[x+j] (j < k) whose src[x+j]
// is that maximum; with a NaN maximum at[x] is the largest int32. src and
// key hold at least len(dst)+k−1 values.
func WindowMaxArg(dst []float32, at []int32, src []float32, key []int32, k int) {
	src, key = src[:len(dst)+k-1], key[:len(dst)+k-1]
	for x := vecWindowMaxArg(dst, at, src, key, k); x < len(dst); x++ {
		m := maxDown(src, 1, x, 0, k)
		dst[x], at[x] = m, firstKey(src, key, x, k, m)
	}
}

// firstKey is the smallest key[x+j] (j < k) whose src[x+j] is m, the
// largest int32 where none is (m NaN).
func firstKey(src []float32, key []int32, x, k int, m float32) int32 {
	a := int32(math.MaxInt32)
	for j := 0; j < k; j++ {
		if src[x+j] == m {
			a = min(a, key[x+j])
		}
	}
	return a
}

// StridedWindowMax is WindowMaxArg for windows s apart: dst[o] is the
// maximum of src[s·o : s·o+k] and, when at is not nil, at[o] the smallest
// key[s·o+j] (j < k) whose src[s·o+j] is that maximum (the largest int32
// where it is NaN). src and key (when at is not nil) hold at least
// s·(len(dst)−1)+k values.
//
// Where StridedVector(k, s) is false the windows are Go loops, whose max
// prefers +0 to −0 where the vector bodies' need not: pooling takes this
// kernel only where it is true, so that its bits are those of the
// stride-1 vector windows it replaces.
func StridedWindowMax(dst []float32, at []int32, src []float32, key []int32, k, s int) {
	o := vecStridedWindowMax(dst, at, src, key, k, s)
	for ; o < len(dst); o++ {
		x := s * o
		m := maxDown(src, 1, x, 0, k)
		dst[o] = m
		if at != nil {
			at[o] = firstKey(src, key, x, k, m)
		}
	}
}

// AvgPoolRow writes into dst[o] the sum over rows [y0,y1) of plane (rows
// w wide) and columns [s·o, s·o+k) ∩ [0,w), taken row by row and left to
// right from +0, divided by div[o]: a row of average pooling without
// padding, div holding the windows' sizes.
func AvgPoolRow(dst, plane []float32, w, y0, y1, k, s int, div []float32) {
	for o := vecAvgPoolRow(dst, plane, w, y0, y1, k, s, div); o < len(dst); o++ {
		var sum float32
		for y := y0; y < y1; y++ {
			for _, v := range plane[y*w+s*o : y*w+min(s*o+k, w)] {
				sum += v
			}
		}
		dst[o] = sum / div[o]
	}
}

// AvgPoolRowGrad adds g[o] to every element of window o (rows [y0,y1),
// columns [s·o, s·o+k) ∩ [0,w)) of plane, window by window: the
// backward pass of a row of AvgPoolRow, g being δ divided by the sizes.
func AvgPoolRowGrad(plane, g []float32, w, y0, y1, k, s int) {
	if vecAvgPoolRowGrad(plane, g, w, y0, y1, k, s) {
		return
	}
	for o, v := range g {
		for y := y0; y < y1; y++ {
			row := plane[y*w+s*o : y*w+min(s*o+k, w)]
			for i := range row {
				row[i] += v
			}
		}
	}
}

// StridedVector reports whether StridedWindowMax's windows of k values s
// apart run in vector registers on this CPU (and AvgPoolRow's and
// AvgPoolRowGrad's, on rows of at most 32 values).
func StridedVector(k, s int) bool { return stridedVector(k, s) }

// Lanes is how many floats the element-wise kernels' vector bodies take at
// a time; a caller that rounds its lengths up to a multiple leaves them no
// scalar tail.
const Lanes = 8

// Part returns s[i·n : (i+1)·n], or nil when s is nil: one image or map of
// an optional tensor such as a mask or a residual.
func Part(s []float32, i, n int) []float32 {
	if s == nil {
		return nil
	}
	return s[i*n : (i+1)*n]
}

// UnpadRows copies h rows of w values, ld apart in src and w apart in dst,
// adding bias when addBias is set and then multiplying by mask (rows w
// apart) when it is not nil: the output copy of a direct convolution.
func UnpadRows(dst, src, mask []float32, h, w, ld int, bias float32, addBias bool) {
	x0 := vecUnpadRows(dst, src, mask, h, w, ld, bias, addBias)
	for y := 0; y < h; y++ {
		row, in := dst[y*w:(y+1)*w], src[y*ld:y*ld+w]
		for x := x0; x < w; x++ {
			v := in[x]
			if addBias {
				v += bias
			}
			if mask != nil {
				v *= mask[y*w+x]
			}
			row[x] = v
		}
	}
}

// NormalizeRows is NormalizeAdd over h rows of w values, the rows of dst,
// src and r dld, sld and rld apart.
func NormalizeRows(dst []float32, dld int, src []float32, sld int, r []float32, rld, h, w int, mu, g, b float32, withReLU bool) {
	x0 := vecNormalizeRows(dst, dld, src, sld, r, rld, h, w, mu, g, b, withReLU)
	for y := 0; y < h; y++ {
		row, in := dst[y*dld:y*dld+w], src[y*sld:y*sld+w]
		for x := x0; x < w; x++ {
			v := float32((in[x]-mu)*g) + b
			if r != nil {
				v += r[y*rld+x]
			}
			if withReLU {
				v = relu(v)
			}
			row[x] = v
		}
	}
}

// PadRows writes h rows of w values from src (times mask, rows w apart,
// when it is not nil) into dst at s + y·ld and zeroes the rest of
// dst[:total]: one zero-padded plane of a direct convolution.
func PadRows(dst, src, mask []float32, h, w, ld, s, total int) {
	ClearBorders(dst, h, w, ld, s, total)
	x0 := vecPadRows(dst[s:], src, mask, h, w, ld)
	for y := 0; y < h; y++ {
		row, in := dst[s+y*ld:s+y*ld+w], src[y*w:(y+1)*w]
		for x := x0; x < w; x++ {
			if mask != nil {
				row[x] = in[x] * mask[y*w+x]
			} else {
				row[x] = in[x]
			}
		}
	}
}

// ClearBorders zeroes what surrounds h rows of w values at s + y·ld in
// dst[:total]: the padding of a plane whose pixels are written elsewhere.
func ClearBorders(dst []float32, h, w, ld, s, total int) {
	dst = dst[:total]
	clear(dst[:s])
	for y := 0; y < h; y++ {
		end := s + (y+1)*ld
		if y == h-1 {
			end = total
		}
		clear(dst[s+y*ld+w : end])
	}
}
