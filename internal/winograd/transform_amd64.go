//go:build amd64 && !noasm

package winograd

import "github.com/dropexp/dropexp/internal/tile"

// inputTilesAsm is inputTilesGo on 16 positions at a time (AVX-512), tmp
// holding 576 floats, n a multiple of 16.
//
//go:noescape
func inputTilesAsm(dst *float32, doff *[36]int, src *float32, soff *[36]int, tmp *float32, n int)

// outputTilesAsm is outputTilesGo on 16 positions at a time (AVX-512),
// tmp holding 384 floats, n a multiple of 16.
//
//go:noescape
func outputTilesAsm(dst *float32, doff *[16]int, src *float32, soff *[36]int, tmp *float32, n int)

// output2TilesAsm is output2TilesGo on 16 positions at a time
// (AVX-512), tmp holding 192 floats, n a multiple of 16.
//
//go:noescape
func output2TilesAsm(dst *float32, doff *[4]int, src *float32, soff *[36]int, tmp *float32, n int)

// gradTilesAsm is gradTilesGo on 16 positions at a time (AVX-512), tmp
// holding 384 floats, n a multiple of 16.
//
//go:noescape
func gradTilesAsm(dst *float32, doff *[36]int, src *float32, soff *[16]int, tmp *float32, n int)

// grad2TilesAsm is grad2TilesGo on 16 positions at a time (AVX-512),
// tmp holding 192 floats, n a multiple of 16.
//
//go:noescape
func grad2TilesAsm(dst *float32, doff *[36]int, src *float32, soff *[4]int, tmp *float32, n int)

// The dispatchers below take hi, the largest offsets of doff and soff
// (his, once per plan), for the assembly's bounds check.

// grad2Tiles runs grad2TilesGo, in assembly where the CPU has AVX-512.
func grad2Tiles(dst []float32, doff *[36]int, src []float32, soff *[4]int, tmp []float32, n int, hi [2]int) {
	if tile.Wide && n > 0 && len(tmp) >= 192 && tilesFit(dst, hi[0], n) && tilesFit(src, hi[1], n) {
		grad2TilesAsm(&dst[0], doff, &src[0], soff, &tmp[0], n)
		return
	}
	grad2TilesGo(dst, doff, src, soff, n)
}

// gradTiles runs gradTilesGo, in assembly where the CPU has AVX-512.
func gradTiles(dst []float32, doff *[36]int, src []float32, soff *[16]int, tmp []float32, n int, hi [2]int) {
	if tile.Wide && n > 0 && len(tmp) >= 384 && tilesFit(dst, hi[0], n) && tilesFit(src, hi[1], n) {
		gradTilesAsm(&dst[0], doff, &src[0], soff, &tmp[0], n)
		return
	}
	gradTilesGo(dst, doff, src, soff, n)
}

// inputTiles runs inputTilesGo, in assembly where the CPU has AVX-512.
func inputTiles(dst []float32, doff *[36]int, src []float32, soff *[36]int, tmp []float32, n int, hi [2]int) {
	if tile.Wide && n > 0 && len(tmp) >= 576 && tilesFit(dst, hi[0], n) && tilesFit(src, hi[1], n) {
		inputTilesAsm(&dst[0], doff, &src[0], soff, &tmp[0], n)
		return
	}
	inputTilesGo(dst, doff, src, soff, n)
}

// outputTiles runs outputTilesGo, in assembly where the CPU has AVX-512.
// tmp may be dst, past the 384 floats the assembly uses.
func outputTiles(dst []float32, doff *[16]int, src []float32, soff *[36]int, tmp []float32, n int, hi [2]int) {
	if tile.Wide && n > 0 && len(tmp) >= 384 && tilesFit(dst, hi[0], n) && tilesFit(src, hi[1], n) {
		outputTilesAsm(&dst[0], doff, &src[0], soff, &tmp[0], n)
		return
	}
	outputTilesGo(dst, doff, src, soff, n)
}

// output2Tiles runs output2TilesGo, in assembly where the CPU has AVX-512.
// tmp may be dst, past the 192 floats the assembly uses.
func output2Tiles(dst []float32, doff *[4]int, src []float32, soff *[36]int, tmp []float32, n int, hi [2]int) {
	if tile.Wide && n > 0 && len(tmp) >= 192 && tilesFit(dst, hi[0], n) && tilesFit(src, hi[1], n) {
		output2TilesAsm(&dst[0], doff, &src[0], soff, &tmp[0], n)
		return
	}
	output2TilesGo(dst, doff, src, soff, n)
}

// inputTilesPackedAsm, gradTilesPackedAsm and grad2TilesPackedAsm are
// their Go loops on AVX-512, a vector of 16 packed tiles at a time, tmp
// holding 576, 384 and 192 floats.
//
//go:noescape
func inputTilesPackedAsm(dst *float32, doff *[36]int, src *float32, soff *[36]int, tmp *float32, base *int32, vectors int, idx *[16]uint32)

//go:noescape
func gradTilesPackedAsm(dst *float32, doff *[36]int, src *float32, soff *[16]int, tmp *float32, base *int32, vectors int, idx *[16]uint32)

//go:noescape
func grad2TilesPackedAsm(dst *float32, doff *[36]int, src *float32, soff *[4]int, tmp *float32, base *int32, vectors int, idx *[16]uint32)

// packedFit reports whether pk's packed tiles fit dst from offsets up to
// hi[0] and their grid positions' 32-float reads fit src from offsets up
// to hi[1].
func packedFit(pk *packing, dst, src []float32, hi [2]int) bool {
	return hi[1]+pk.reach() <= len(src) && tilesFit(dst, hi[0], 16*len(pk.base))
}

// inputTilesPacked runs inputTilesPackedGo, in assembly where the CPU has AVX-512.
func inputTilesPacked(pk *packing, dst []float32, doff *[36]int, src []float32, soff *[36]int, tmp []float32, hi [2]int) {
	if tile.Wide && len(tmp) >= 576 && packedFit(pk, dst, src, hi) {
		inputTilesPackedAsm(&dst[0], doff, &src[0], soff, &tmp[0], &pk.base[0], len(pk.base), &pk.idx)
		return
	}
	inputTilesPackedGo(pk, dst, doff, src, soff)
}

// gradTilesPacked runs gradTilesPackedGo, in assembly where the CPU has AVX-512.
func gradTilesPacked(pk *packing, dst []float32, doff *[36]int, src []float32, soff *[16]int, tmp []float32, hi [2]int) {
	if tile.Wide && len(tmp) >= 384 && packedFit(pk, dst, src, hi) {
		gradTilesPackedAsm(&dst[0], doff, &src[0], soff, &tmp[0], &pk.base[0], len(pk.base), &pk.idx)
		return
	}
	gradTilesPackedGo(pk, dst, doff, src, soff)
}

// grad2TilesPacked runs grad2TilesPackedGo, in assembly where the CPU has AVX-512.
func grad2TilesPacked(pk *packing, dst []float32, doff *[36]int, src []float32, soff *[4]int, tmp []float32, hi [2]int) {
	if tile.Wide && len(tmp) >= 192 && packedFit(pk, dst, src, hi) {
		grad2TilesPackedAsm(&dst[0], doff, &src[0], soff, &tmp[0], &pk.base[0], len(pk.base), &pk.idx)
		return
	}
	grad2TilesPackedGo(pk, dst, doff, src, soff)
}

// first is &s[0], or nil for an empty s (a mask or pad not given).
func first(s []float32) *float32 {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// splitIdx[b] picks columns c0, c0+4, … of phase b (c0 = 3, 0, 1, 2).
var splitIdx = func() (t [4][16]uint32) {
	for b, c0 := range [4]uint32{3, 0, 1, 2} {
		for i := range t[b] {
			t[b][i] = c0 + 4*uint32(i%8)
		}
	}
	return
}()

// scatterIdx interleaves four runs for maps 32, 16 and 8 wide.
var scatterIdx = map[int]*[2][16]uint32{
	32: {{0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27}, {4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31}},
	16: {{0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15}},
	8:  {{0, 2, 4, 6, 1, 3, 5, 7}},
}

//go:noescape
func splitPlane32(dst *float32, plane, ld int, src, mask *float32, th int, idx *[4][16]uint32, pad *float32, pld int)

//go:noescape
func splitPlane16(dst *float32, plane, ld int, src, mask *float32, th int, idx *[4][16]uint32, pad *float32, pld int)

//go:noescape
func splitPlane8(dst *float32, plane, ld int, src, mask *float32, th int, idx *[4][16]uint32, pad *float32, pld int)

//go:noescape
func scatterPlane32(dst, y, mask *float32, run, ld, th int, bias float32, hasBias bool, idx *[2][16]uint32, flags uint32, aff *[3]float32, res *float32)

//go:noescape
func scatterPlane16(dst, y, mask *float32, run, ld, th int, bias float32, hasBias bool, idx *[2][16]uint32, flags uint32, aff *[3]float32, res *float32)

//go:noescape
func scatterPlane8(dst, y, mask *float32, run, ld, th int, bias float32, hasBias bool, idx *[2][16]uint32, flags uint32, aff *[3]float32, res *float32)

// splitPlane runs splitPlaneGo, in assembly for maps 32, 16 or 8 wide
// where the CPU has AVX-512.
func splitPlane(dst []float32, plane, ld int, src, mask []float32, th, w int, pad []float32, pld int) {
	h := 4 * th
	asm := tile.Wide && th >= 1 && ld == w/4+1 && len(src) >= h*w && (mask == nil || len(mask) >= h*w) &&
		len(dst) >= 15*plane+(th+1)*ld && plane >= (th+1)*ld && (pad == nil || pld >= w && len(pad) >= (h-1)*pld+w)
	m, pp := first(mask), first(pad)
	switch {
	case asm && w == 32:
		splitPlane32(&dst[0], plane, ld, &src[0], m, th, &splitIdx, pp, pld)
	case asm && w == 16:
		splitPlane16(&dst[0], plane, ld, &src[0], m, th, &splitIdx, pp, pld)
	case asm && w == 8:
		splitPlane8(&dst[0], plane, ld, &src[0], m, th, &splitIdx, pp, pld)
	default:
		splitPlaneGo(dst, plane, ld, src, mask, th, w, pad, pld)
	}
}

// split2Idx puts a row's even columns in the first half of a vector of
// w lanes, its odd ones in the second; scatter2Idx interleaves them back.
var split2Idx, scatter2Idx = func() (s, c map[int]*[16]uint32) {
	s, c = map[int]*[16]uint32{}, map[int]*[16]uint32{}
	for _, w := range []int{16, 8} {
		s[w], c[w] = new([16]uint32), new([16]uint32)
		for l := 0; l < w; l++ {
			s[w][l] = uint32(2*(l%(w/2)) + l/(w/2))
			c[w][l] = uint32(l/2 + l%2*(w/2))
		}
	}
	return
}()

//go:noescape
func split2Plane16(dst *float32, plane, ld int, src, mask *float32, th int, idx *[16]uint32, pad *float32, pld int)

//go:noescape
func split2Plane8(dst *float32, plane, ld int, src, mask *float32, th int, idx *[16]uint32, pad *float32, pld int)

//go:noescape
func scatter2Plane16(dst, y, mask *float32, run, ld, th int, bias float32, hasBias bool, idx *[16]uint32)

//go:noescape
func scatter2Plane8(dst, y, mask *float32, run, ld, th int, bias float32, hasBias bool, idx *[16]uint32)

// split2Plane runs split2PlaneGo, in assembly for maps 16 or 8 wide
// where the CPU has AVX-512.
func split2Plane(dst []float32, plane, ld int, src, mask []float32, th, w int, pad []float32, pld int) {
	h := 2 * th
	asm := tile.Wide && th >= 1 && ld == w/2+2 && len(src) >= h*w && (mask == nil || len(mask) >= h*w) &&
		len(dst) >= 3*plane+(th+2)*ld && plane >= (th+2)*ld && (pad == nil || pld >= w && len(pad) >= (h-1)*pld+w)
	m, pp := first(mask), first(pad)
	switch {
	case asm && w == 16:
		split2Plane16(&dst[0], plane, ld, &src[0], m, th, split2Idx[16], pp, pld)
	case asm && w == 8:
		split2Plane8(&dst[0], plane, ld, &src[0], m, th, split2Idx[8], pp, pld)
	default:
		split2PlaneGo(dst, plane, ld, src, mask, th, w, pad, pld)
	}
}

// scatter2Plane runs scatter2PlaneGo, in assembly for maps 16 or 8 wide
// where the CPU has AVX-512.
func scatter2Plane(dst, y, mask []float32, run, ld, th, w int, bias float32, hasBias bool) {
	asm := tile.Wide && th >= 1 && ld >= w/2 && len(dst) >= 2*th*w && len(y) >= 3*run+(th-1)*ld+w/2 &&
		(mask == nil || len(mask) >= 2*th*w)
	m := first(mask)
	switch {
	case asm && w == 16:
		scatter2Plane16(&dst[0], &y[0], m, run, ld, th, bias, hasBias, scatter2Idx[16])
	case asm && w == 8:
		scatter2Plane8(&dst[0], &y[0], m, run, ld, th, bias, hasBias, scatter2Idx[8])
	default:
		scatter2PlaneGo(dst, y, mask, run, ld, th, w, bias, hasBias)
	}
}

// scatterPlane runs scatterPlaneGo, in assembly for maps 32, 16 or 8
// wide where the CPU has AVX-512.
func scatterPlane(dst, y, mask []float32, run, ld, th, w int, bias float32, hasBias bool, e *scatterEpi) {
	asm := tile.Wide && th >= 1 && ld >= w/4 && len(dst) >= 4*th*w && len(y) >= 15*run+(th-1)*ld+w/4 &&
		(mask == nil || len(mask) >= 4*th*w)
	m := first(mask)
	var flags uint32
	var aff *[3]float32
	var res *float32
	if e != nil {
		flags, aff, res = 2, &e.affine, first(e.res)
		if e.relu {
			flags |= 4
		}
		asm = asm && (e.res == nil || len(e.res) >= 4*th*w)
	}
	switch {
	case asm && w == 32:
		scatterPlane32(&dst[0], &y[0], m, run, ld, th, bias, hasBias, scatterIdx[32], flags, aff, res)
	case asm && w == 16:
		scatterPlane16(&dst[0], &y[0], m, run, ld, th, bias, hasBias, scatterIdx[16], flags, aff, res)
	case asm && w == 8:
		scatterPlane8(&dst[0], &y[0], m, run, ld, th, bias, hasBias, scatterIdx[8], flags, aff, res)
	default:
		scatterPlaneGo(dst, y, mask, run, ld, th, w, bias, hasBias, e)
	}
}
