//go:build !(goexperiment.simd && amd64)

package winograd

// transformWeights8 has no vector form without GOEXPERIMENT=simd on amd64.
func transformWeights8(p *Plan, u, w []float32, transposed bool, b0, b1 int) bool { return false }

// weightGrad16 has no vector form without GOEXPERIMENT=simd on amd64.
func weightGrad16(p *Plan, dw []float32, u []float64, m0, m1 int) bool { return false }

// sumGroups8 has no vector form without GOEXPERIMENT=simd on amd64.
func sumGroups8(u []float64, parts []float32, sl, groups, e0, e1 int) int { return e0 }
