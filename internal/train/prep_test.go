package train

import (
	"slices"
	"testing"
)

// identity is a preprocessor that leaves pixel values as they are.
func identity(n int) *preprocessor {
	p := &preprocessor{mean: make([]float32, n), scale: make([]float32, n)}
	for i := range p.scale {
		p.scale[i] = 1
	}
	return p
}

// Every augmented image is the original shifted by (dy, dx) within ±pad,
// zero where the shift uncovers padding, and maybe mirrored; the same seed
// gives the same sequence of crops and flips, another seed another one.
func TestAugmenterCropsFlipsAndIsSeeded(t *testing.T) {
	const c, h, w, pad = 2, 5, 6, 2
	img := make([]uint8, c*h*w)
	for i := range img {
		img[i] = uint8(i + 1) // nonzero, so a zero can only be padding
	}
	p := identity(len(img))
	at := func(ch, y, x int) float32 { return float32(img[(ch*h+y)*w+x]) }
	// matches reports whether out is img shifted by (dy, dx), mirrored if flip.
	matches := func(out []float32, dy, dx int, flip bool) bool {
		for ch := 0; ch < c; ch++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					sx := x
					if flip {
						sx = w - 1 - x
					}
					sy, sx := y+dy, sx+dx
					var want float32
					if sy >= 0 && sy < h && sx >= 0 && sx < w {
						want = at(ch, sy, sx)
					}
					if out[(ch*h+y)*w+x] != want {
						return false
					}
				}
			}
		}
		return true
	}
	sequence := func(seed uint64) [][]float32 {
		a := newAugmenter(pad, true, seed)
		var outs [][]float32
		for range 40 {
			out := make([]float32, len(img))
			a.apply(p, out, img, c, h, w)
			outs = append(outs, out)
		}
		return outs
	}
	first := sequence(7)
	kinds := map[[3]int]bool{}
	for i, out := range first {
		found := false
		for dy := -pad; dy <= pad && !found; dy++ {
			for dx := -pad; dx <= pad && !found; dx++ {
				for _, flip := range []bool{false, true} {
					if matches(out, dy, dx, flip) {
						kinds[[3]int{dy, dx, map[bool]int{false: 0, true: 1}[flip]}] = true
						found = true
						break
					}
				}
			}
		}
		if !found {
			t.Fatalf("image %d is no shift within ±%d (with or without a flip) of the original: %v", i, pad, out)
		}
	}
	if len(kinds) < 10 {
		t.Errorf("40 draws gave only %d distinct crops/flips", len(kinds))
	}
	if again := sequence(7); !slices.EqualFunc(first, again, slices.Equal) {
		t.Error("the same seed gave different augmentations")
	}
	if other := sequence(8); slices.EqualFunc(first, other, slices.Equal) {
		t.Error("another seed gave the same augmentations")
	}
}
