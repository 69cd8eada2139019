package report

import (
	"math"
	"strings"
	"testing"
)

func TestAugmentedNoise(t *testing.T) {
	nan := math.NaN()
	row := func(data, variant, ratio string, n int, noise, end, gap, acc float64) NoiseRow {
		return NoiseRow{Model: Table2Model, Dataset: "imagefolder", Data: data, Semantics: "layer", Variant: variant, Ratio: ratio, N: n,
			Noise: noise, NoiseStd: 0.01, NoiseEnd: end, NoiseEndStd: nan, Gap: gap, GapStd: 0.002, TestAcc: acc}
	}
	rows := []NoiseRow{
		row("CIFAR-10", "plain", "", 3, 0, 0, 0.2, 0.90),
		row("CIFAR-10", "standard", "0.1", 3, 0.2, 0.3, 0.1, 0.91),
		row("CIFAR-10", "standard", "0.2", 3, 0.3, 0.4, 0.09, 0.91),
		row("CIFAR-10", "augmented", "0.1/0.0001", 2, 0.5, 0.6, 0.05, 0.92),
		row("CIFAR-10", "augmented", "0.3/0.0001", 2, 0.5, 0.6, 0.05, 0.92), // no standard at 0.3
		row("SVHN", "standard", "0.1", 3, 9, 9, 9, 0.96), // another data set: no pair
	}
	md := augmentedNoiseMarkdown(rows)
	want := "| CIFAR-10 | 0.1 | 0.1/0.0001 | 3 / 2 | 0.2 ± 0.01 → 0.5 ± 0.01 | 2.5 | 0.3 → 0.6 | 2 | 0.1 ± 0.002 → 0.05 ± 0.002 | 0.9100 → 0.9200 |\n"
	if !strings.Contains(md, want) || strings.Count(md, "\n| CIFAR-10") != 1 || strings.Contains(md, "SVHN") {
		t.Errorf("got\n%s\nwant the one row\n%s", md, want)
	}
	if got := augmentedNoiseMarkdown(rows[:3]); got != "" {
		t.Errorf("without augmented rows: %q", got)
	}
}
