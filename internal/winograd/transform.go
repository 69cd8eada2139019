package winograd

// bt6 is Bᵀ of F(4×4, 3×3) on one column d:
//
//	o0 = 4·d0 − 5·d2 + d4
//	o1 = −4·(d1 + d2) + d3 + d4
//	o2 = 4·(d1 − d2) − d3 + d4
//	o3 = 2·(d3 − d1) − d2 + d4
//	o4 = 2·(d1 − d3) − d2 + d4
//	o5 = 4·d1 − 5·d3 + d5
func bt6(d [6]float32) [6]float32 {
	a, b, c, e, f := d[1], d[2], d[3], d[4], d[5]
	return [6]float32{
		4*d[0] - 5*b + e,
		-4*(a+b) + c + e,
		4*(a-b) - c + e,
		2*(c-a) - b + e,
		2*(a-c) - b + e,
		4*a - 5*c + f,
	}
}

// at6 is Aᵀ of F(4×4, 3×3) on one column m:
//
//	o0 = m0 + m1 + m2 + m3 + m4
//	o1 = (m1 − m2) + 2·(m3 − m4)
//	o2 = (m1 + m2) + 4·(m3 + m4)
//	o3 = (m1 − m2) + 8·(m3 − m4) + m5
func at6(m [6]float32) [4]float32 {
	s12, d12, s34, d34 := m[1]+m[2], m[1]-m[2], m[3]+m[4], m[3]-m[4]
	return [4]float32{m[0] + s12 + s34, d12 + 2*d34, s12 + 4*s34, d12 + 8*d34 + m[5]}
}

// inputTilesGo is inputTiles' loop: for each k < n, the 6×6 block
// d[i][j] = src[soff[6i+j]+k] goes to dst[doff[6a+b]+k] = (Bᵀ·d·B)[a][b],
// rows first.
func inputTilesGo(dst []float32, doff *[36]int, src []float32, soff *[36]int, n int) {
	for k := 0; k < n; k++ {
		var t [6][6]float32 // t[i] = Bᵀ·(row i of d)
		for i := 0; i < 6; i++ {
			var d [6]float32
			for j := range d {
				d[j] = src[soff[6*i+j]+k]
			}
			t[i] = bt6(d)
		}
		for b := 0; b < 6; b++ {
			col := bt6([6]float32{t[0][b], t[1][b], t[2][b], t[3][b], t[4][b], t[5][b]})
			for a, v := range col {
				dst[doff[6*a+b]+k] = v
			}
		}
	}
}

// outputTilesGo is outputTiles' loop: for each k < n, the 6×6 block
// P[a][b] = src[soff[6a+b]+k] goes to dst[doff[4i+j]+k] = (Aᵀ·P·A)[i][j],
// rows first.
func outputTilesGo(dst []float32, doff *[16]int, src []float32, soff *[36]int, n int) {
	for k := 0; k < n; k++ {
		var s [6][4]float32 // s[a] = Aᵀ·(row a of P)
		for a := 0; a < 6; a++ {
			var m [6]float32
			for b := range m {
				m[b] = src[soff[6*a+b]+k]
			}
			s[a] = at6(m)
		}
		for j := 0; j < 4; j++ {
			col := at6([6]float32{s[0][j], s[1][j], s[2][j], s[3][j], s[4][j], s[5][j]})
			for i, v := range col {
				dst[doff[4*i+j]+k] = v
			}
		}
	}
}

// tilesFit reports whether n positions from each offset stay inside s,
// and n is whole vectors, as the assembly needs.
func tilesFit(s []float32, off []int, n int) bool {
	if n%16 != 0 {
		return false
	}
	for _, o := range off {
		if o < 0 || o+n > len(s) {
			return false
		}
	}
	return true
}
