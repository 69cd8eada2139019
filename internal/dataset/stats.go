package dataset

import "math"

// MeanImage returns the per-pixel mean (float32, C*H*W) of s, as Caffe's
// compute_image_mean does. The sums are exact integers and the quotient is
// rounded once to float32, which is what Caffe's float arithmetic yields
// for sums below 2^24. An empty set gives zeros.
func MeanImage(s *Set) []float32 {
	sz := s.Size()
	sum := make([]uint64, sz)
	for i := range s.Len() {
		for j, v := range s.Image(i) {
			sum[j] += uint64(v)
		}
	}
	mean := make([]float32, sz)
	if n := s.Len(); n > 0 {
		for j, v := range sum {
			mean[j] = float32(float64(v) / float64(n))
		}
	}
	return mean
}

// ChannelStats returns per-channel mean and std (over all pixels, in 0..255
// units). The std is the population standard deviation (divisor N·H·W), as
// the normalisation constants published for CIFAR are computed. An empty set
// gives zeros.
func ChannelStats(s *Set) (mean, std []float32) {
	hw := s.H * s.W
	sum := make([]uint64, s.C)
	sq := make([]uint64, s.C)
	for i := range s.Len() {
		img := s.Image(i)
		for c := range s.C {
			var a, b uint64
			for _, v := range img[c*hw : (c+1)*hw] {
				a += uint64(v)
				b += uint64(v) * uint64(v)
			}
			sum[c] += a
			sq[c] += b
		}
	}
	mean = make([]float32, s.C)
	std = make([]float32, s.C)
	n := float64(s.Len() * hw)
	if n == 0 {
		return mean, std
	}
	for c := range s.C {
		m := float64(sum[c]) / n
		v := float64(sq[c])/n - m*m
		mean[c] = float32(m)
		std[c] = float32(math.Sqrt(max(v, 0)))
	}
	return mean, std
}
