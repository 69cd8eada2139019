package train

import (
	"math/rand/v2"

	"github.com/dropexp/dropexp/internal/dataset"
)

// preprocessor turns uint8 images into network input: x = (pixel − mean) · scale.
type preprocessor struct {
	mean, scale []float32 // per pixel (C·H·W)
}

// newPreprocessor computes the training set's statistics: Caffe's per-pixel
// mean image, or per-channel mean and standard deviation.
func newPreprocessor(kind string, train *dataset.Set) *preprocessor {
	size := train.C * train.H * train.W
	p := &preprocessor{scale: make([]float32, size)}
	switch kind {
	case "channel_norm":
		m, s := dataset.ChannelStats(train)
		p.mean = make([]float32, size)
		plane := train.H * train.W
		for i := range p.mean {
			p.mean[i] = m[i/plane]
			p.scale[i] = 1 / max(s[i/plane], 1e-6)
		}
	default:
		p.mean = dataset.MeanImage(train)
		for i := range p.scale {
			p.scale[i] = 1
		}
	}
	return p
}

// fill writes the images idx of s into x and their labels into y; rows past
// len(idx) are zero with label −1 (ignored by the loss). A non-nil aug
// randomly crops and flips each training image.
func (p *preprocessor) fill(x, y []float32, s *dataset.Set, idx []int, aug *augmenter) {
	size := len(p.mean)
	for r := range y {
		dst := x[r*size : (r+1)*size]
		if r >= len(idx) {
			clear(dst)
			y[r] = -1
			continue
		}
		img := s.Image(idx[r])
		y[r] = float32(s.Labels[idx[r]])
		if aug != nil && (aug.pad > 0 || aug.flip) {
			aug.apply(p, dst, img, s.C, s.H, s.W)
			continue
		}
		for i, v := range img {
			dst[i] = (float32(v) - p.mean[i]) * p.scale[i]
		}
	}
}

// augmenter is He et al.'s CIFAR augmentation: zero-pad by pad pixels, take a
// random crop of the original size, and flip horizontally with probability ½.
// Its random source is the run's own, so a seed fixes every crop.
type augmenter struct {
	pad  int
	flip bool
	pcg  *rand.PCG
	rng  *rand.Rand
}

func newAugmenter(pad int, flip bool, seed uint64) *augmenter {
	pcg := rand.NewPCG(seed, 0xa0a0)
	return &augmenter{pad: pad, flip: flip, pcg: pcg, rng: rand.New(pcg)}
}

// apply writes one augmented, normalised image; padding normalises to 0.
func (a *augmenter) apply(p *preprocessor, dst []float32, img []uint8, c, h, w int) {
	dy, dx := 0, 0
	if a.pad > 0 {
		dy, dx = a.rng.IntN(2*a.pad+1)-a.pad, a.rng.IntN(2*a.pad+1)-a.pad
	}
	flip := a.flip && a.rng.IntN(2) == 1
	for ch := 0; ch < c; ch++ {
		for yy := 0; yy < h; yy++ {
			sy := yy + dy
			row := dst[(ch*h+yy)*w : (ch*h+yy+1)*w]
			if sy < 0 || sy >= h {
				clear(row)
				continue
			}
			base := (ch*h + sy) * w
			for xx := range row {
				sx := xx
				if flip {
					sx = w - 1 - xx
				}
				sx += dx
				if sx < 0 || sx >= w {
					row[xx] = 0
					continue
				}
				i := base + sx
				row[xx] = (float32(img[i]) - p.mean[i]) * p.scale[i]
			}
		}
	}
}
