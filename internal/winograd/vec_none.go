//go:build !(goexperiment.simd && amd64)

package winograd

// vecBT6 does nothing without the vector bodies: bt6To's loop does all.
func vecBT6(o [6][]float32, d0, d1, d2, d3, d4, d5 []float32) int { return 0 }

// vecAT6 does nothing without the vector bodies: at6To's loop does all.
func vecAT6(o [4][]float32, m0, m1, m2, m3, m4, m5 []float32) int { return 0 }

// vecDeal4 leaves deal4's work to its loops.
func vecDeal4(dst [4][]float32, row, mrow []float32) bool { return false }

// vecInterleave4 leaves interleave's work to its loops.
func vecInterleave4(row []float32, y [4][]float32, bias float32, hasBias bool) bool { return false }
