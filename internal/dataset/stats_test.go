package dataset

import (
	"math"
	"testing"
)

// statsSet is three 2×1×2 images:
//
//	channel 0: [0 10] [1 20] [2 30]
//	channel 1: [100 255] [200 0] [0 5]
func statsSet() *Set {
	return &Set{C: 2, H: 1, W: 2, Classes: []string{"x"},
		Images: []uint8{
			0, 10, 100, 255,
			1, 20, 200, 0,
			2, 30, 0, 5,
		},
		Labels: []int32{0, 0, 0},
	}
}

func TestMeanImage(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *Set
		want []float32
	}{
		// (100+200+0)/3 = 100, (255+0+5)/3 = 86.666…
		{"three images", statsSet(), []float32{1, 20, 100, 260.0 / 3}},
		{"one image", &Set{C: 2, H: 1, W: 2, Images: statsSet().Image(0), Labels: []int32{0}}, []float32{0, 10, 100, 255}},
		{"empty", &Set{C: 1, H: 1, W: 3}, []float32{0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MeanImage(tc.s)
			if len(got) != len(tc.want) {
				t.Fatalf("len %d, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("mean[%d] = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestChannelStats(t *testing.T) {
	for _, tc := range []struct {
		name      string
		s         *Set
		mean, std []float64
	}{
		// Channel 0 holds 0 10 1 20 2 30, channel 1 holds 100 255 200 0 0 5;
		// std is the population standard deviation.
		{"three images", statsSet(), []float64{10.5, 93.333333333}, []float64{11.131786320, 102.293151720}},
		{"constant", &Set{C: 1, H: 2, W: 2, Images: []uint8{7, 7, 7, 7}, Labels: []int32{0}}, []float64{7}, []float64{0}},
		{"empty", &Set{C: 3, H: 2, W: 2}, []float64{0, 0, 0}, []float64{0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mean, std := ChannelStats(tc.s)
			for c := range tc.mean {
				if math.Abs(float64(mean[c])-tc.mean[c]) > 1e-5 || math.Abs(float64(std[c])-tc.std[c]) > 1e-5 {
					t.Errorf("channel %d: mean %v std %v, want %v %v", c, mean[c], std[c], tc.mean[c], tc.std[c])
				}
			}
		})
	}
}
