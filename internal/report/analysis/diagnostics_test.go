package analysis

import (
	"math"
	"testing"

	"github.com/dropexp/dropexp/internal/config"
)

// TestDiagBias pins the bias estimate against values worked by hand:
// bias² = mean(mean_dev²) − mean(noise · (norm_mean / norm_g0)² / K).
func TestDiagBias(t *testing.T) {
	run := func(draws int, rows ...[4]float64) DiagRun { // mean_dev, noise, norm_mean, norm_g0; draws 0: no config
		d := DiagRun{Vals: map[string][]float64{}}
		if draws > 0 {
			d.Config = &config.Run{Diagnostics: config.Diagnostics{Every: 50, Draws: draws}}
		}
		for i, r := range rows {
			d.Its = append(d.Its, 50*(i+1))
			for j, q := range []string{qMeanDev, QNoise, qNormMean, qNormG0} {
				d.Vals[q] = append(d.Vals[q], r[j])
			}
		}
		return d
	}
	for _, c := range []struct {
		name string
		d    DiagRun
		want float64
	}{
		// 0.25 − 0.2·4/8 = 0.15
		{"one iteration", run(8, [4]float64{0.5, 0.2, 2, 1}), math.Sqrt(0.15)},
		// (0.25 + 0.01)/2 − (0.1 + 0.05)/2 = 0.055
		{"two iterations", run(8, [4]float64{0.5, 0.2, 2, 1}, [4]float64{0.1, 0.4, 1, 1}), math.Sqrt(0.055)},
		// 0.01 − 0.8/8 < 0: all sampling error, an unbiased variant
		{"clipped at 0", run(8, [4]float64{0.1, 0.8, 1, 1}), 0},
		{"draws unknown", run(0, [4]float64{0.5, 0.2, 2, 1}), math.NaN()},
		{"quantity missing", run(8, [4]float64{math.NaN(), 0.2, 2, 1}), math.NaN()},
	} {
		got := c.d.bias()
		if math.IsNaN(c.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-c.want) > 1e-12) {
			t.Errorf("%s: bias %v, want %v", c.name, got, c.want)
		}
	}
}
