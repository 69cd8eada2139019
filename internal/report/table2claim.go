package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/report/analysis"
)

// augmentedNoiseMarkdown renders, for every augmented row of the
// gradient-noise table, how much noise its q mask adds to standard
// dropout's at the same p (the paper's explanation of why augmented
// dropout helps) beside what it does to the generalisation gap; "" when
// no augmented row has its standard row.
func augmentedNoiseMarkdown(rows []analysis.NoiseRow) string {
	var b strings.Builder
	for _, a := range rows {
		if a.Cell.Variant != experiment.Augmented {
			continue
		}
		p := a.Cell.Ratio.OfP()
		for _, s := range rows {
			if s.Cell.Variant != experiment.Standard || s.Cell.Ratio != p || s.Model != a.Model || s.Dataset != a.Dataset || s.Data != a.Data {
				continue
			}
			if b.Len() == 0 {
				b.WriteString("## Augmented against standard dropout\n\n")
				b.WriteString("| data | p | augmented | n | noise: standard → augmented | × | noise at the end: standard → augmented | × | gap: standard → augmented | test acc: standard → augmented |\n|---|---|---|---|---|---|---|---|---|---|\n")
			}
			ratio := func(x, y float64) string { return num3(y / x) }
			fmt.Fprintf(&b, "| %s | %s | %s | %d / %d | %s → %s | %s | %s → %s | %s | %s → %s | %.4f → %.4f |\n", s.Data, p, a.Cell.RatioText(), s.N, a.N,
				pm(s.Noise, s.NoiseStd), pm(a.Noise, a.NoiseStd), ratio(s.Noise, a.Noise),
				pm(s.NoiseEnd, s.NoiseEndStd), pm(a.NoiseEnd, a.NoiseEndStd), ratio(s.NoiseEnd, a.NoiseEnd),
				pm(s.Gap, s.GapStd), pm(a.Gap, a.GapStd), s.TestAcc, a.TestAcc)
		}
	}
	if b.Len() == 0 {
		return ""
	}
	b.WriteString("\n×: augmented's mean over standard's. The q mask drops a further fraction q of the backward errors that standard's mask kept, " +
		"so augmented's backward pass is standard's plus noise; the paper's account is that this noise, not the forward mask, narrows the generalisation gap.\n")
	return b.String()
}

// num3 formats a ratio with 3 significant digits; NaN and ±Inf as "–".
func num3(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
