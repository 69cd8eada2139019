//go:build !(goexperiment.simd && amd64)

package kernels

// Without GOEXPERIMENT=simd on amd64 there are no vector bodies: each
// returns 0 and the scalar loops do all the work.

// Vector names the vector instruction set the element-wise kernels use.
func Vector() string { return "none" }

func vecMul(dst, m []float32) int                                                      { return 0 }
func vecMulTo(dst, a, b []float32) int                                                 { return 0 }
func vecReLU(dst, x []float32) int                                                     { return 0 }
func vecReLUGrad(dst, y, d []float32) int                                              { return 0 }
func vecSumSq(x []float32, s float32, a, q *lanes) int                                 { return 0 }
func vecStdSums(d, x []float32, r ReLUOf, mu, inv float32, a, q *lanes) int            { return 0 }
func vecSumSq4(x *[4][]float32, s float32, a, q *[4]lanes) int                         { return 0 }
func vecStdSums4(d, x *[4][]float32, r ReLUOf, mu, inv float32, a, q *[4]lanes) int    { return 0 }
func vecNormalize(dst, x []float32, mu, g, b float32, relu bool) int                   { return 0 }
func vecAddReLU(dst, a, b []float32) int                                               { return 0 }
func vecBNGrad(dst, d, x []float32, r ReLUOf, mu, inv, k, a, b float32) int            { return 0 }
func vecAddScalar(dst []float32, b float32) int                                        { return 0 }
func vecMaxRows(dst, src []float32, ld, y0, y1 int) int                                { return 0 }
func vecMaxRowsArg(dst []float32, at []int32, src []float32, ld, y0, y1 int) int       { return 0 }
func vecWindowMaxArg(dst []float32, at []int32, src []float32, key []int32, k int) int { return 0 }
func vecUnpadRows(dst, src, m []float32, h, w, ld int, bias float32, addBias bool) int { return 0 }
func vecNormalizeRows(dst []float32, dld int, src []float32, sld int, r []float32, rld, h, w int, mu, g, b float32, relu bool) int {
	return 0
}
func vecStridedWindowMax(dst []float32, at []int32, src []float32, key []int32, k, s int) int {
	return 0
}
func stridedVector(k, s int) bool                                                { return false }
func vecPadRows(dst, src, m []float32, h, w, ld int) int                         { return 0 }
func vecHsum(l []float32) (float32, bool)                                        { return 0, false }
func vecAvgPoolRow(dst, plane []float32, w, y0, y1, k, s int, div []float32) int { return 0 }
func vecAvgPoolRowGrad(plane, g []float32, w, y0, y1, k, s int) bool             { return false }
func vecAddTo(dst, a, b []float32) int                                           { return 0 }
func vecInterleave2(dst, even, odd []float32) int                                { return 0 }
func vecDeinterleave2(even, odd, src, mask []float32) int                        { return 0 }
