//go:build !amd64 || noasm

package winograd

// inputTiles runs inputTilesGo.
func inputTiles(dst []float32, doff *[36]int, src []float32, soff *[36]int, tmp []float32, n int, hi [2]int) {
	inputTilesGo(dst, doff, src, soff, n)
}

// outputTiles runs outputTilesGo.
func outputTiles(dst []float32, doff *[16]int, src []float32, soff *[36]int, tmp []float32, n int, hi [2]int) {
	outputTilesGo(dst, doff, src, soff, n)
}

// output2Tiles runs output2TilesGo.
func output2Tiles(dst []float32, doff *[4]int, src []float32, soff *[36]int, tmp []float32, n int, hi [2]int) {
	output2TilesGo(dst, doff, src, soff, n)
}

// splitPlane runs splitPlaneGo.
func splitPlane(dst []float32, plane, ld int, src, mask []float32, th, w int, pad []float32, pld int) {
	splitPlaneGo(dst, plane, ld, src, mask, th, w, pad, pld)
}

// scatterPlane runs scatterPlaneGo.
func scatterPlane(dst, y, mask []float32, run, ld, th, w int, bias float32, hasBias bool, e *scatterEpi) {
	scatterPlaneGo(dst, y, mask, run, ld, th, w, bias, hasBias, e)
}

// split2Plane runs split2PlaneGo.
func split2Plane(dst []float32, plane, ld int, src, mask []float32, th, w int, pad []float32, pld int) {
	split2PlaneGo(dst, plane, ld, src, mask, th, w, pad, pld)
}

// scatter2Plane runs scatter2PlaneGo.
func scatter2Plane(dst, y, mask []float32, run, ld, th, w int, bias float32, hasBias bool) {
	scatter2PlaneGo(dst, y, mask, run, ld, th, w, bias, hasBias)
}

// grad2Tiles runs grad2TilesGo.
func grad2Tiles(dst []float32, doff *[36]int, src []float32, soff *[4]int, tmp []float32, n int, hi [2]int) {
	grad2TilesGo(dst, doff, src, soff, n)
}

// gradTiles runs gradTilesGo.
func gradTiles(dst []float32, doff *[36]int, src []float32, soff *[16]int, tmp []float32, n int, hi [2]int) {
	gradTilesGo(dst, doff, src, soff, n)
}

// inputTilesPacked runs inputTilesPackedGo.
func inputTilesPacked(pk *packing, dst []float32, doff *[36]int, src []float32, soff *[36]int, tmp []float32, hi [2]int) {
	inputTilesPackedGo(pk, dst, doff, src, soff)
}

// gradTilesPacked runs gradTilesPackedGo.
func gradTilesPacked(pk *packing, dst []float32, doff *[36]int, src []float32, soff *[16]int, tmp []float32, hi [2]int) {
	gradTilesPackedGo(pk, dst, doff, src, soff)
}

// grad2TilesPacked runs grad2TilesPackedGo.
func grad2TilesPacked(pk *packing, dst []float32, doff *[36]int, src []float32, soff *[4]int, tmp []float32, hi [2]int) {
	grad2TilesPackedGo(pk, dst, doff, src, soff)
}
