//go:build goexperiment.simd && amd64

package winograd

import "simd/archsimd"

// transformWeights8 is transformWeightsLoop for the maps [b0, b1) (whole
// blocks of 8) eight maps at a time, one per lane of an AVX2 vector: the
// same products and sums in the same order, each rounded, so the same
// bits. It reports false where the CPU lacks AVX2.
func transformWeights8(p *Plan, u, w []float32, transposed bool, b0, b1 int) bool {
	if !archsimd.X86.AVX2() {
		return false
	}
	k := p.K
	gk := g[:]
	var g5s [6][5]float32
	if k == 5 {
		g5s = g5
	}
	var gb [6][5]archsimd.Float32x8
	for a := 0; a < 6; a++ {
		for i := 0; i < k; i++ {
			if k == 5 {
				gb[a][i] = archsimd.BroadcastFloat32x8(g5s[a][i])
			} else {
				gb[a][i] = archsimd.BroadcastFloat32x8(gk[a][i])
			}
		}
	}
	var lane [8]float32
	var kv [5][5]archsimd.Float32x8
	var t [6][5]archsimd.Float32x8
	for mb := b0; mb < b1; mb += 8 {
		for c := 0; c < p.C; c++ {
			for i := 0; i < k; i++ {
				for j := 0; j < k; j++ {
					for l := range lane {
						m := mb + l
						if transposed {
							lane[l] = w[((c*p.M+m)*k+k-1-i)*k+k-1-j]
						} else {
							lane[l] = w[((m*p.C+c)*k+i)*k+j]
						}
					}
					kv[i][j] = archsimd.LoadFloat32x8Slice(lane[:])
				}
			}
			for a := 0; a < 6; a++ { // G·k
				for j := 0; j < k; j++ {
					s := gb[a][0].Mul(kv[0][j])
					for i := 1; i < k; i++ {
						s = s.Add(gb[a][i].Mul(kv[i][j]))
					}
					t[a][j] = s
				}
			}
			for a := 0; a < 6; a++ {
				for b := 0; b < 6; b++ {
					v := t[a][0].Mul(gb[b][0])
					for j := 1; j < k; j++ {
						v = v.Add(t[a][j].Mul(gb[b][j]))
					}
					v.StoreSlice(u[((a*6+b)*p.M/8+mb/8)*p.C*8+c*8:])
				}
			}
		}
	}
	return true
}

// weightGrad16 is weightGradLoop for the output maps [m0, m1) (whole
// blocks of 4) a block of 4×4 pairs of maps at a time, one pair per lane
// of two float64 vectors (sumAt keeps a block's 16 sums together for
// each ξ): the same products and sums in the same order, each rounded,
// so the same bits. It reports false where the CPU lacks AVX-512.
func weightGrad16(p *Plan, dw []float32, u []float64, m0, m1 int) bool {
	if !archsimd.X86.AVX512() {
		return false
	}
	k := p.K
	gk := g64[:]
	if k == 5 {
		gk = g564[:]
	}
	var gb [6][5]archsimd.Float64x8
	for a := range gb {
		for j := 0; j < k; j++ {
			gb[a][j] = archsimd.BroadcastFloat64x8(gk[a][j])
		}
	}
	stride := p.M * p.C
	var t [6][5][2]archsimd.Float64x8
	var out [16]float32
	for mb := m0; mb < m1; mb += 4 {
		for cb := 0; cb < p.C; cb += 4 {
			base := p.sumAt(0, mb, cb)
			for a := 0; a < 6; a++ {
				for j := 0; j < k; j++ {
					var s0, s1 archsimd.Float64x8
					for b := 0; b < 6; b++ {
						um := u[base+(a*6+b)*stride:][:16]
						s0 = s0.Add(archsimd.LoadFloat64x8Slice(um).Mul(gb[b][j]))
						s1 = s1.Add(archsimd.LoadFloat64x8Slice(um[8:]).Mul(gb[b][j]))
					}
					t[a][j] = [2]archsimd.Float64x8{s0, s1}
				}
			}
			for i := 0; i < k; i++ {
				for j := 0; j < k; j++ {
					var s0, s1 archsimd.Float64x8
					for a := 0; a < 6; a++ {
						s0 = s0.Add(gb[a][i].Mul(t[a][j][0]))
						s1 = s1.Add(gb[a][i].Mul(t[a][j][1]))
					}
					s0.ConvertToFloat32().StoreSlice(out[:8])
					s1.ConvertToFloat32().StoreSlice(out[8:])
					for l, v := range out { // lane 4r+s: maps mb+r and cb+s
						dw[(((mb+l/4)*p.C+cb+l%4)*k+i)*k+j] = v
					}
				}
			}
		}
	}
	return true
}

// sumGroups8 is SumGroups' loop for elements [e0, e1) eight at a time, one
// per lane of a float64 vector (the same sums in the same order, so the
// same bits), as far as whole vectors go; it returns where it stopped,
// e0 where the CPU lacks AVX-512.
func sumGroups8(u []float64, parts []float32, sl, groups, e0, e1 int) int {
	if !archsimd.X86.AVX512() {
		return e0
	}
	e := e0
	for ; e+8 <= e1; e += 8 {
		s := archsimd.LoadFloat32x8Slice(parts[e:]).ConvertToFloat64()
		for k := 1; k < groups; k++ {
			s = s.Add(archsimd.LoadFloat32x8Slice(parts[k*sl+e:]).ConvertToFloat64())
		}
		s.StoreSlice(u[e:])
	}
	return e
}
