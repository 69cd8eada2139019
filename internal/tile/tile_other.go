//go:build !amd64

package tile

// Available is false: the tiles are amd64 assembly.
const Available = false

// Conv is not available on this architecture.
func Conv(out *float32, ldo int, in *float32, ldi int, off *int, taps int, w *float32, c int) {
	panic("tile: Conv needs amd64")
}

// Dot is not available on this architecture.
func Dot(acc *float32, a0, a1, a2, b0, b1, b2 *float32, n, imgs, sa, sb int) {
	panic("tile: Dot needs amd64")
}

// Conv16Half is not available on this architecture.
func Conv16Half(out *float32, ldo int, in *float32, ldi int, off *int, taps int, w *float32, c int) {
	panic("tile: Conv16Half needs amd64")
}
