package conv

import (
	"testing"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/kernels"
)

// The planner's choice per pass, for the geometries of ConvNet-Quick and
// ResNet-20, with and without the direct convolution; the winograd set's
// passes are direct's where the CPU lacks the AVX-512 tiles.
func TestPlan(t *testing.T) {
	tiles := kernels.ConvImpl() != "im2col"
	wino := SetName(experiment.WinogradKernels) == "winograd"
	win := Options{KeepCols: true, Kernels: experiment.WinogradKernels}
	for _, tc := range []struct {
		name              string
		g                 Geom
		opt               Options
		sameMask          bool
		fwd, dx, dw       string // with the tiles
		saved             bool
		fwdNo, dxNo, dwNo string // without them
		savedNo           bool
	}{
		{"convnet conv1", NewGeom(3, 32, 32, 32, 5, 2, 1), Options{KeepCols: true}, true, "direct", "direct", "direct", true, "im2col", "transposed", "im2col", true},
		{"resnet conv", NewGeom(16, 32, 32, 16, 3, 1, 1), Options{}, true, "direct", "direct", "direct", true, "im2col", "transposed", "im2col", false},
		{"stride 2", NewGeom(16, 32, 32, 32, 3, 1, 2), Options{KeepCols: true}, true, "direct", "col2im", "im2col", false, "im2col", "col2im", "im2col", true},
		{"stride 2, strided set", NewGeom(16, 32, 32, 32, 3, 1, 2), Options{KeepCols: true, Kernels: experiment.StridedKernels}, true, "direct", "direct", "direct", true, "im2col", "col2im", "im2col", true},
		{"resnet conv, winograd set", NewGeom(16, 32, 32, 16, 3, 1, 1), win, true, "winograd", "winograd", "winograd", false, "im2col", "transposed", "im2col", true},
		{"stride 2, winograd set", NewGeom(16, 32, 32, 32, 3, 1, 2), win, true, "direct", "direct", "direct", true, "im2col", "col2im", "im2col", true},
		{"64 maps, winograd set", NewGeom(64, 8, 8, 64, 3, 1, 1), win, true, "winograd", "winograd", "winograd", false, "im2col", "transposed", "im2col", true},
		{"32 maps of 16x16, winograd set", NewGeom(32, 16, 16, 32, 3, 1, 1), win, true, "winograd", "winograd", "winograd", false, "im2col", "transposed", "im2col", true},
		{"convnet conv1, winograd set", NewGeom(3, 32, 32, 32, 5, 2, 1), win, true, "direct", "direct", "direct", true, "im2col", "transposed", "im2col", true},
		{"convnet conv2, winograd set", NewGeom(32, 16, 16, 32, 5, 2, 1), win, true, "winograd", "winograd", "winograd", false, "im2col", "transposed", "im2col", true},
		{"convnet conv3, winograd set", NewGeom(32, 8, 8, 64, 5, 2, 1), win, true, "winograd", "winograd", "winograd", false, "im2col", "transposed", "im2col", true},
		{"128 maps, winograd set", NewGeom(128, 8, 8, 128, 3, 1, 1), win, true, "direct", "direct", "direct", true, "im2col", "transposed", "im2col", true},
		{"4 input maps, winograd set", NewGeom(4, 8, 8, 16, 3, 1, 1), win, true, "direct", "direct", "direct", true, "im2col", "transposed", "im2col", true},
		{"other mask", NewGeom(16, 8, 8, 16, 3, 1, 1), Options{KeepCols: true}, false, "direct", "direct", "direct", false, "im2col", "transposed", "im2col", false},
		{"no padding", NewGeom(4, 8, 8, 4, 3, 0, 1), Options{KeepCols: true}, true, "im2col", "col2im", "im2col", true, "im2col", "col2im", "im2col", true},
		{"forced im2col", NewGeom(16, 32, 32, 16, 3, 1, 1), Options{Im2col: true, KeepCols: true}, true, "im2col", "transposed", "im2col", true, "im2col", "transposed", "im2col", true},
	} {
		want := []any{tc.fwd, tc.dx, tc.dw, tc.saved}
		if !wino && want[2] == "winograd" {
			want[3] = true // the direct weight gradient reads the forward pass's planes
		}
		for i := range 3 {
			if want[i] == "winograd" && !wino {
				want[i] = "direct"
			}
		}
		if !tiles {
			want = []any{tc.fwdNo, tc.dxNo, tc.dwNo, tc.savedNo}
		}
		fwd := PlanForward(tc.g, tc.opt)
		dx, dw, saved := PlanBackward(tc.g, tc.opt, fwd, tc.sameMask)
		got := []any{fwd.Name(), dx.Name(), dw.Name(), saved != nil}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: forward, input gradient, weight gradient, saved = %v, want %v", tc.name, got, want)
				break
			}
		}
	}
}
