// Package kernels holds the numeric inner loops the network ops are built
// from: single-precision matrix multiply (Gemm: gonum's pure Go, or
// OpenBLAS with the openblas build tag), im2col/col2im, the direct
// convolution on the assembly tiles of package tile (Direct), the
// element-wise kernels with their vector bodies (AVX2 with
// GOEXPERIMENT=simd, bit-identical to the scalar loops), and the
// parallel-for (Parallel, Each) that splits a job across a team of worker
// goroutines, with Block cutting sums so that their bits do not depend on
// the thread count. Impl names the kernel set a build runs on a CPU: the
// same set gives the same bits.
package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Impl names the kernel set this build runs on this CPU, e.g. "blas
// openblas, vector avx2, conv direct-avx512": the matrix multiply, the
// element-wise vector bodies and the convolution. A run's numbers are the
// same bits for any thread count, and for the same kernel set; another
// set (another BLAS, the AVX2 tiles instead of the AVX-512 ones) rounds
// differently. set names the kernel set beyond the default one where the
// direct convolution runs ("conv direct-avx512 strided").
func Impl(set string) string {
	return "blas " + Backend + ", vector " + Vector() + ", conv " + ConvSet(set)
}

// ConvSet is ConvImpl followed by the name of the kernel set beyond the
// default one ("strided", "winograd"; "" for the default) where the
// direct convolution runs (elsewhere the sets are one).
func ConvSet(set string) string {
	if conv := ConvImpl(); set != "" && conv != "im2col" {
		return conv + " " + set
	}
	return ConvImpl()
}

// Gemm computes C = op(A)·op(B) + beta·C for row-major float32 matrices,
// where op(A) is m×k and op(B) is k×n; tA/tB transpose A/B.
func Gemm(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scaleRows(m, n, beta, c, ldc)
		return
	}
	gemm(tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

func scaleRows(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			row[j] *= beta
		}
	}
}

// ConvOut returns the output size of a convolution along one axis.
func ConvOut(in, k, pad, stride int) int { return (in+2*pad-k)/stride + 1 }

// Im2col unrolls one C×H×W image into a (C·k·k)×(OH·OW) matrix whose rows
// start ld floats apart (ld ≥ OH·OW lets several images share one matrix),
// so a convolution becomes one matrix multiply; padding reads as zero.
func Im2col(img []float32, c, h, w, k, pad, stride int, col []float32, ld int) {
	oh, ow := ConvOut(h, k, pad, stride), ConvOut(w, k, pad, stride)
	p := oh * ow
	if stride == 1 && oh == h && ow == w {
		im2colSame(img, c, h, w, k, pad, col, ld)
		return
	}
	for ch := 0; ch < c; ch++ {
		plane := img[ch*h*w : (ch+1)*h*w]
		for ki := 0; ki < k; ki++ {
			for kj := 0; kj < k; kj++ {
				r := (ch*k+ki)*k + kj
				row := col[r*ld : r*ld+p]
				for y := 0; y < oh; y++ {
					iy := y*stride - pad + ki
					dst := row[y*ow : (y+1)*ow]
					if iy < 0 || iy >= h {
						zero(dst)
						continue
					}
					src := plane[iy*w : (iy+1)*w]
					if stride == 1 {
						// Contiguous run: only the ends can fall into the padding.
						// Rows are short (8–32 floats), so plain loops beat the
						// call overhead of clear and copy.
						x0 := kj - pad
						lo, hi := validRange(x0, ow, w)
						if lo == hi {
							zero(dst)
							continue
						}
						zero(dst[:lo])
						in := src[lo+x0 : hi+x0]
						out := dst[lo:hi]
						for x := range out {
							out[x] = in[x]
						}
						zero(dst[hi:])
						continue
					}
					for x := range dst {
						ix := x*stride - pad + kj
						if ix >= 0 && ix < w {
							dst[x] = src[ix]
						} else {
							dst[x] = 0
						}
					}
				}
			}
		}
	}
}

// sameShift describes row (ki, kj) of a stride-1 convolution whose output
// has the input's size: output pixel i reads input pixel i+off, for the
// output rows [y0,y1) that stay inside the image, except in the output
// columns [0,x0) and [x1,w) that fall into the left or right padding.
func sameShift(h, w, ki, kj, pad int) (off, y0, y1, x0, x1 int) {
	dy, dx := ki-pad, kj-pad
	x0 = min(w, max(0, -dx))
	return dy*w + dx, max(0, -dy), min(h, h-dy), x0, max(x0, min(w, w-dx))
}

// sameRows calls fn for every unrolled row (channel ch, kernel offset ki, kj)
// of a stride-1 convolution that keeps the image size, with the image plane
// it reads, the row's range [lo,hi) that is the plane shifted by off, and the
// padding columns [0,x0) and [x1,w) of its output rows [y0,y1), which the
// shift wraps around an edge. Rows entirely in the padding have lo == hi.
func sameRows(img, col []float32, c, h, w, k, pad, ld int, fn func(plane, row []float32, off, lo, hi, y0, y1, x0, x1 int)) {
	p := h * w
	for ch := 0; ch < c; ch++ {
		plane := img[ch*p : (ch+1)*p]
		for ki := 0; ki < k; ki++ {
			for kj := 0; kj < k; kj++ {
				r := (ch*k+ki)*k + kj
				off, y0, y1, x0, x1 := sameShift(h, w, ki, kj, pad)
				// The range is clipped to the plane; whatever the clip leaves
				// out lies in the padding columns.
				lo, hi := max(y0*w, -off), min(y1*w, p-off)
				if y0 >= y1 || lo >= hi {
					off, lo, hi = 0, 0, 0
				}
				fn(plane, col[r*ld:r*ld+p], off, lo, hi, y0, y1, x0, x1)
			}
		}
	}
}

// zeroPadding clears the padding columns [0,x0) and [x1,w) of rows [y0,y1) of an unrolled row.
func zeroPadding(row []float32, w, y0, y1, x0, x1 int) {
	if x0 == 0 && x1 == w {
		return // the kernel's centre column: nothing wraps
	}
	for y := y0; y < y1; y++ {
		r := row[y*w : (y+1)*w]
		for x := 0; x < x0; x++ {
			r[x] = 0
		}
		for x := x1; x < w; x++ {
			r[x] = 0
		}
	}
}

// im2colSame is Im2col for a stride-1 convolution that keeps the image size:
// each unrolled row is the image shifted by a constant offset, so it is one
// long copy followed by zeroing the few entries that wrapped around an edge.
func im2colSame(img []float32, c, h, w, k, pad int, col []float32, ld int) {
	sameRows(img, col, c, h, w, k, pad, ld, func(plane, row []float32, off, lo, hi, y0, y1, x0, x1 int) {
		clear(row[:lo])
		copy(row[lo:hi], plane[lo+off:hi+off])
		clear(row[hi:])
		zeroPadding(row, w, y0, y1, x0, x1)
	})
}

// zero clears a short slice without a call into the runtime.
func zero(s []float32) {
	for i := range s {
		s[i] = 0
	}
}

// validRange returns the output columns [lo,hi) whose input column x+x0
// lies inside [0,w), for a stride-1 row of n outputs.
func validRange(x0, n, w int) (lo, hi int) {
	lo, hi = max(0, -x0), min(n, w-x0)
	if hi <= lo {
		return 0, 0 // the whole row is padding
	}
	return lo, hi
}

// Col2im adds a (C·k·k)×(OH·OW) column matrix with row stride ld back into
// a C×H×W image (the adjoint of Im2col); img must be zeroed by the caller.
// Convolutions that keep the image size take their input gradient as a
// transposed convolution instead (see conv.PlanBackward).
func Col2im(col []float32, c, h, w, k, pad, stride int, img []float32, ld int) {
	oh, ow := ConvOut(h, k, pad, stride), ConvOut(w, k, pad, stride)
	p := oh * ow
	for ch := 0; ch < c; ch++ {
		plane := img[ch*h*w : (ch+1)*h*w]
		for ki := 0; ki < k; ki++ {
			for kj := 0; kj < k; kj++ {
				r := (ch*k+ki)*k + kj
				row := col[r*ld : r*ld+p]
				for y := 0; y < oh; y++ {
					iy := y*stride - pad + ki
					if iy < 0 || iy >= h {
						continue
					}
					dst := plane[iy*w : (iy+1)*w]
					src := row[y*ow : (y+1)*ow]
					if stride == 1 {
						x0 := kj - pad
						lo, hi := validRange(x0, ow, w)
						if lo == hi {
							continue
						}
						d := dst[lo+x0 : hi+x0]
						for x, v := range src[lo:hi] {
							d[x] += v
						}
						continue
					}
					for x, v := range src {
						ix := x*stride - pad + kj
						if ix >= 0 && ix < w {
							dst[ix] += v
						}
					}
				}
			}
		}
	}
}

// Parallel splits [0,n) into contiguous chunks and runs fn(worker, lo, hi)
// for each on at most workers goroutines at once, each worker index on one
// goroutine at a time; it returns when all are done. The chunks, and which
// worker runs which, vary: fn's results must not depend on where a chunk
// starts or ends or on its worker (a sum over the items is cut with Block
// instead, and a worker's scratch buffers hold nothing across chunks).
// The caller and a team of helper goroutines take the chunks as they come
// free, or, when that team is busy (Parallel within Parallel, or in two
// goroutines at once) or there are more workers than GOMAXPROCS, a
// goroutine each runs one chunk.
func Parallel(n, workers int, fn func(worker, lo, hi int)) {
	parallel(n, workers, chunksPerWorker, fn)
}

// ParallelCoarse is Parallel with one chunk per worker, for jobs whose
// chunks each repeat set-up work (padding the maps they read) that finer
// chunks would repeat more often.
func ParallelCoarse(n, workers int, fn func(worker, lo, hi int)) {
	parallel(n, workers, 1, fn)
}

// parallel is Parallel with perWorker chunks per worker.
func parallel(n, workers, perWorker int, fn func(worker, lo, hi int)) {
	if workers < 1 {
		workers = 1
	}
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		if n > 0 {
			fn(0, 0, n)
		}
		return
	}
	// More workers than Ps would leave spinning helpers holding the Ps
	// the others need: goroutines then, one chunk each.
	if workers <= runtime.GOMAXPROCS(0) && teamOf(workers).run(n, min(n, perWorker*workers), fn) {
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for wi := 0; wi < workers; wi++ {
		lo, hi := wi*chunk, min((wi+1)*chunk, n)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(wi, lo, hi)
		}()
	}
	wg.Wait()
}

// Block returns the items [lo,hi) of block b when n items are cut into nb
// blocks of near-equal size. A sum over the items that is cut into a
// number of blocks that does not depend on the thread count, each block
// summed alone and the blocks added in order, gives the same bits for any
// threads (the workers take whole blocks: Parallel over the blocks).
func Block(n, nb, b int) (lo, hi int) { return b * n / nb, (b + 1) * n / nb }

// chunkMin is the smallest element-wise job worth a second goroutine.
const chunkMin = 1 << 16

// ParallelChunks runs fn over [0,n) split across up to threads workers when
// n is large enough for the goroutine hand-off to pay.
func ParallelChunks(n, threads int, fn func(lo, hi int)) {
	workers := min(threads, n/chunkMin)
	Parallel(n, workers, func(_, lo, hi int) { fn(lo, hi) })
}

// Each calls fn(worker, i) for every i in [0,n) on at most workers
// goroutines, each taking the next i when it is free, so a slower core
// does less rather than holding the others up. The order of the calls
// varies: fn's results must not depend on which worker ran it.
func Each(n, workers int, fn func(worker, i int)) {
	var next atomic.Int64
	workers = max(1, min(workers, n)) // Parallel makes one job per worker
	Parallel(workers, workers, func(wk, _, _ int) {
		for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
			fn(wk, i)
		}
	})
}

// ShortcutA writes one image's option-A shortcut: the c maps of h×w
// pixels of src subsampled by stride, into the middle c of outC maps of
// dst, the others zero.
func ShortcutA(dst, src []float32, c, h, w, outC, stride int) {
	p, pad := ((h+stride-1)/stride)*((w+stride-1)/stride), (outC-c)/2
	clear(dst[:pad*p]) // the kept maps are written whole
	clear(dst[(pad+c)*p : outC*p])
	shortcutRows(c, h, w, outC, stride, func(in, out, n int) {
		s, d := src[in:], dst[out:out+n]
		for x := range d {
			d[x] = s[x*stride]
		}
	})
}

// ShortcutAGrad is ShortcutA's gradient for one image: src (outC maps)
// routed back to the pixels ShortcutA kept of dst (c maps of h×w), zero
// elsewhere.
func ShortcutAGrad(dst, src []float32, c, h, w, outC, stride int) {
	clear(dst)
	shortcutRows(c, h, w, outC, stride, func(in, out, n int) {
		s, d := src[out:out+n], dst[in:]
		for x, v := range s {
			d[x*stride] = v
		}
	})
}

// shortcutRows calls f(in, out, n) for every row the option-A shortcut
// keeps: input pixels in, in+stride, … go to output pixels out … out+n−1.
func shortcutRows(c, h, w, outC, stride int, f func(in, out, n int)) {
	oh, ow := (h+stride-1)/stride, (w+stride-1)/stride
	pad := (outC - c) / 2
	for ch := 0; ch < c; ch++ {
		for y := 0; y < oh; y++ {
			f((ch*h+y*stride)*w, ((ch+pad)*oh+y)*ow, ow)
		}
	}
}
