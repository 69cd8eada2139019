package train

import (
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
// len(idx) are zero with label −1 (ignored by the loss).
func (p *preprocessor) fill(x, y []float32, s *dataset.Set, idx []int) {
	size := len(p.mean)
	for r := range y {
		dst := x[r*size : (r+1)*size]
		if r >= len(idx) {
			clear(dst)
			y[r] = -1
			continue
		}
		img := s.Image(idx[r])
		for i, v := range img {
			dst[i] = (float32(v) - p.mean[i]) * p.scale[i]
		}
		y[r] = float32(s.Labels[idx[r]])
	}
}
