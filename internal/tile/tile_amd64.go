//go:build amd64 && !noasm

package tile

import "golang.org/x/sys/cpu"

// Asm reports whether the tiles are assembly (amd64 without the noasm tag),
// so that only the CPU features below decide which of them can run.
const Asm = true

// Available reports whether this CPU runs the AVX2 tiles Conv and Dot (AVX2
// and FMA).
var Available = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// Wide reports whether this CPU runs the AVX-512 tiles Conv16, Conv16Half
// and Dot16.
var Wide = Available && cpu.X86.HasAVX512F

// Conv computes conv(4, 24, …): out[i·ldo+j] = Σ_ch Σ_t
// w[(ch·taps+t)·4+i] · in[ch·ldi+off[t]+j] for four output rows i and 24
// columns j, overwriting out; c and taps are at least 1.
//
//go:noescape
func Conv(out *float32, ldo int, in *float32, ldi int, off *int, taps int, w *float32, c int)

// Dot computes dot(8, acc, a0…a2, b0…b2, …): it adds to acc[(3i+j)·8+l]
// the lane-l partial sums, over imgs ≥ 1 images (a rows sa floats apart, b
// rows sb apart) and k < n (a multiple of 8, at least 8) with k ≡ l mod 8,
// of a_i[k]·b_j[k].
//
//go:noescape
func Dot(acc *float32, a0, a1, a2, b0, b1, b2 *float32, n, imgs, sa, sb int)

// Conv16 computes conv(8, 32, …): Conv for eight output rows and 32
// columns, w packed in blocks of eight rows.
//
//go:noescape
func Conv16(out *float32, ldo int, in *float32, ldi int, off *int, taps int, w *float32, c int)

// Dot16 computes dot(16, acc, a[:], b[:], …): Dot for four a rows by four b
// rows, sixteen lanes each (acc[(4i+j)·16+l]); n is a multiple of 16.
//
//go:noescape
func Dot16(acc *float32, a, b *[4]*float32, n, imgs, sa, sb int)

// Dot16Sum computes dotSum(acc, a[:], b[:], …): Dot16 from zero, each of
// the sixteen sums then added up across its lanes into acc[4i+j].
//
//go:noescape
func Dot16Sum(acc *float32, a, b *[4]*float32, n, imgs, sa, sb int)

// Conv16Half computes conv(8, 16, …): Conv16 for eight output rows and 16
// columns.
//
//go:noescape
func Conv16Half(out *float32, ldo int, in *float32, ldi int, off *int, taps int, w *float32, c int)

// Peak runs iters rounds of twelve independent VFMADD231PS on 512-bit
// registers (Wide) or 256-bit ones, and no loads or stores: the
// multiply-add throughput of one core, for the fraction of peak that
// dropexp bench reports. The Go loop: peak in tile.go, with Lanes lanes.
func Peak(iters int) {
	if Wide {
		peak512(iters)
		return
	}
	if Available {
		peak256(iters)
		return
	}
	peak(iters, Lanes())
}

// Lanes returns the float32 lanes of one register Peak multiply-adds.
func Lanes() int {
	switch {
	case Wide:
		return 16
	case Available:
		return 8
	}
	return 1
}

//go:noescape
func peak512(iters int)

//go:noescape
func peak256(iters int)
