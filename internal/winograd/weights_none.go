//go:build !(goexperiment.simd && amd64)

package winograd

// transformWeights8 has no vector form without GOEXPERIMENT=simd on amd64.
func transformWeights8(p *Plan, u, w []float32, transposed bool, b0, b1 int) bool { return false }
