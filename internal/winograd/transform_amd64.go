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

// inputTiles runs inputTilesGo, in assembly where the CPU has AVX-512.
func inputTiles(dst []float32, doff *[36]int, src []float32, soff *[36]int, tmp []float32, n int) {
	if tile.Wide && n > 0 && len(tmp) >= 576 && tilesFit(dst, doff[:], n) && tilesFit(src, soff[:], n) {
		inputTilesAsm(&dst[0], doff, &src[0], soff, &tmp[0], n)
		return
	}
	inputTilesGo(dst, doff, src, soff, n)
}

// outputTiles runs outputTilesGo, in assembly where the CPU has AVX-512.
// tmp may be dst, past the 384 floats the assembly uses.
func outputTiles(dst []float32, doff *[16]int, src []float32, soff *[36]int, tmp []float32, n int) {
	if tile.Wide && n > 0 && len(tmp) >= 384 && tilesFit(dst, doff[:], n) && tilesFit(src, soff[:], n) {
		outputTilesAsm(&dst[0], doff, &src[0], soff, &tmp[0], n)
		return
	}
	outputTilesGo(dst, doff, src, soff, n)
}
