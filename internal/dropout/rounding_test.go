package dropout_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/experiment"
)

// TestRoundingAcrossSeeds measures, over twelve draws of the tiny net
// (every variant and gradient rule, 8 maps of 8×8 and of 16×16 under 3×3
// and 5×5 kernels, stride 1), how far the gradients ∂J/∂x, ∂J/∂W1 and
// ∂J/∂W2 of the direct and winograd kernel sets lie from the float64
// formulas, in units of the tolerance 1e-5 + 1e-4·|want| and of the same
// with its absolute term scaled by the gradient's largest element past 1
// (assertClose's two bounds). The fixed absolute term does not cover
// float32 sums of several hundred terms of gradients up to about 12 in
// size, which the direct set's too exceed; the scaled one does, to within
// 0.70 of it with OpenBLAS and 1.13 with the pure-Go BLAS (the 5×5
// shapes), so the direct set is held within 1.5. Winograd's transforms
// round at several times the direct sums' error (up to about one and a
// half scaled tolerances), so the winograd set is held within three. -v
// prints the table (results/bench/winograd-rounding.txt).
func TestRoundingAcrossSeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("twelve draws of every variant")
	}
	sets := []experiment.Kernels{experiment.DirectKernels, experiment.WinogradKernels}
	var table strings.Builder
	fmt.Fprintf(&table, "worst |error| over variants and rules, in tolerances 1e-5 + 1e-4·|want| (scaled: 1e-5·max(1, max|want|) + 1e-4·|want|)\nseed  set       dJ/dx          dJ/dW1         dJ/dW2\n")
	for seed := uint64(1); seed <= 12; seed++ {
		for _, k := range sets {
			var tol, scale [3]float64
			for _, v := range experiment.Variants() {
				for _, sem := range []experiment.Semantics{experiment.Layer, experiment.Elementwise} {
					for _, sh := range tinyShapes[1:] {
						net := newTiny(v, seed, 1, sh)
						want := net.reference(sem)
						got := net.graph(t, v, sem, 1, false, k)
						for j, c := range [3][2][]float64{{got.x, want.x}, {got.w1, want.w1}, {got.w2, want.w2}} {
							big := 1.0
							for _, w := range c[1] {
								big = max(big, math.Abs(w))
							}
							for i, w := range c[1] {
								d := math.Abs(c[0][i] - w)
								tol[j] = max(tol[j], d/(1e-5+1e-4*math.Abs(w)))
								scale[j] = max(scale[j], d/(1e-5*big+1e-4*math.Abs(w)))
							}
						}
					}
				}
			}
			fmt.Fprintf(&table, "%4d  %-8s", seed, k)
			for j, name := range []string{"dJ/dx", "dJ/dW1", "dJ/dW2"} {
				fmt.Fprintf(&table, "  %5.2f (%4.2f)", tol[j], scale[j])
				bound := 1.5
				if k == experiment.WinogradKernels {
					bound = 3
				}
				if !(scale[j] <= bound) { // NaN fails too
					t.Errorf("seed %d, %s set: %s is %.2f scaled tolerances from the formulas, above %g", seed, k, name, scale[j], bound)
				}
			}
			table.WriteString("\n")
		}
	}
	t.Log("\n" + table.String())
}
