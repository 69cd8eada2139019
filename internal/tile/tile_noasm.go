//go:build !amd64 || noasm

package tile

// Asm reports whether the tiles are assembly: here they are the Go loops,
// which run on any CPU.
const Asm = false

// Available reports whether this CPU runs the AVX2 tiles in hardware: false
// here, so the convolutions take im2col and a matrix multiply, which the
// BLAS runs much faster than the Go loops (see kernels.NewDirect).
const Available = false

// Wide reports whether this CPU runs the AVX-512 tiles in hardware: false.
const Wide = false

// Conv computes out[i·ldo+j] = Σ_ch Σ_t w[(ch·taps+t)·4+i] ·
// in[ch·ldi+off[t]+j] for four output rows i and 24 columns j, overwriting
// out; c and taps are at least 1.
func Conv(out *float32, ldo int, in *float32, ldi int, off *int, taps int, w *float32, c int) {
	conv(4, 24, out, ldo, in, ldi, off, taps, w, c)
}

// Dot adds to acc[(3i+j)·8+l] the lane-l partial sums, over imgs images (a
// rows sa floats apart, b rows sb apart) and k < n (a multiple of 8) with
// k ≡ l mod 8, of a_i[k]·b_j[k].
func Dot(acc *float32, a0, a1, a2, b0, b1, b2 *float32, n, imgs, sa, sb int) {
	dot(8, acc, []*float32{a0, a1, a2}, []*float32{b0, b1, b2}, n, imgs, sa, sb)
}

// Conv16 is Conv for eight output rows and 32 columns, w packed in blocks of
// eight rows.
func Conv16(out *float32, ldo int, in *float32, ldi int, off *int, taps int, w *float32, c int) {
	conv(8, 32, out, ldo, in, ldi, off, taps, w, c)
}

// Dot16 is Dot for four a rows by four b rows, sixteen lanes each
// (acc[(4i+j)·16+l]); n is a multiple of 16.
func Dot16(acc *float32, a, b *[4]*float32, n, imgs, sa, sb int) {
	dot(16, acc, a[:], b[:], n, imgs, sa, sb)
}

// Dot16Sum is Dot16 from zero, each of the sixteen sums then added up
// across its lanes into acc[4i+j].
func Dot16Sum(acc *float32, a, b *[4]*float32, n, imgs, sa, sb int) {
	dotSum(acc, a[:], b[:], n, imgs, sa, sb)
}

// Conv16Half is Conv16 for eight output rows and 16 columns.
func Conv16Half(out *float32, ldo int, in *float32, ldi int, off *int, taps int, w *float32, c int) {
	conv(8, 16, out, ldo, in, ldi, off, taps, w, c)
}

// Peak runs iters rounds of twelve independent multiply-adds: the Go loop
// the assembly's register-only FMA loop stands for (peak in tile.go).
func Peak(iters int) { peak(iters, 1) }

// Lanes returns the float32 lanes of one multiply-add of Peak: 1 here.
func Lanes() int { return 1 }
