//go:build !amd64 || noasm

package pcg

import "math/rand/v2"

// eps8 has no vector form here.
func eps8(p *rand.PCG, dst []float32, thresh uint32, kept float32, multiply bool) bool {
	return false
}
