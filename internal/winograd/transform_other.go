//go:build !amd64 || noasm

package winograd

// inputTiles runs inputTilesGo.
func inputTiles(dst []float32, doff *[36]int, src []float32, soff *[36]int, tmp []float32, n int) {
	inputTilesGo(dst, doff, src, soff, n)
}

// outputTiles runs outputTilesGo.
func outputTiles(dst []float32, doff *[16]int, src []float32, soff *[36]int, tmp []float32, n int) {
	outputTilesGo(dst, doff, src, soff, n)
}
