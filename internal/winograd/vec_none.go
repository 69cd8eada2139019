//go:build !(goexperiment.simd && amd64)

package winograd

// vecDeal4 leaves deal4's work to its loops.
func vecDeal4(dst [4][]float32, row, mrow []float32) bool { return false }

// vecInterleave4 leaves interleave's work to its loops.
func vecInterleave4(row []float32, y [4][]float32, bias float32, hasBias bool) bool { return false }
