package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dropexp/dropexp/internal/experiment"
)

// Table2Claim is the paper's claim about Table 2, checked by table2Findings.
const Table2Claim = "(T2) Augmented dropout beats standard dropout at every ratio: at p = 0.1, 0.2 and 0.3, adding the q mask's noise to the backward pass raises ResNet-20's test accuracy."

// table2Ratios are the dropout ratios of Table 2's rows.
var table2Ratios = [...]experiment.Ratio{{P: 0.1}, {P: 0.2}, {P: 0.3}}

// table2Findings checks Table2Claim against the ResNet-20 cells of g under
// semantics sem: at every ratio, augmented p/q against standard p (paired
// by seed), all checks one Holm family, by FindingsRule. The paper's ratios
// without an augmented cell read "not run"; other ratios that ran are
// checked too.
func table2Findings(g *Group, sem experiment.Semantics) Finding {
	const augmented, standard = experiment.Augmented, experiment.Standard
	var ks []check
	var covered []experiment.Ratio
	for _, c := range g.Cells {
		if c.Variant != augmented || c.Semantics != sem {
			continue
		}
		p := c.Ratio.OfP()
		covered = append(covered, p)
		k := check{what: fmt.Sprintf("%s beats %s at p = %s", augmented, standard, p), kind: positive, metric: "test accuracy"}
		if s := g.cellOrAlike(experiment.NewCell(standard, p, sem)); s != nil {
			k.ran, k.c = true, compare(c, s, accOf, 1)
		} else {
			k.note = fmt.Sprintf("%s/%s not run", standard, p)
		}
		ks = append(ks, k)
	}
	for _, p := range table2Ratios {
		if !slices.Contains(covered, p) {
			ks = append(ks, check{what: fmt.Sprintf("%s beats %s at p = %s", augmented, standard, p), kind: positive, metric: "test accuracy",
				note: fmt.Sprintf("%s at p = %s not run", augmented, p)})
		}
	}
	var fam []Comparison
	for _, k := range ks {
		if k.ran {
			fam = append(fam, k.c)
		}
	}
	holm(fam)
	i := 0
	for j := range ks {
		if ks[j].ran {
			ks[j].c = fam[i]
			i++
		}
	}
	return Finding{ID: "T2", Claim: Table2Claim, Semantics: string(sem), Checks: ks, Verdict: combine(ks)}
}

// hasTable2Cells reports whether g has an augmented or standard cell under sem.
func hasTable2Cells(g *Group, sem experiment.Semantics) bool {
	for _, c := range g.Cells {
		if (c.Variant == experiment.Augmented && c.Semantics == sem) || c.Variant == experiment.Standard {
			return true
		}
	}
	return false
}

// augmentedNoiseMarkdown renders, for every augmented row of the
// gradient-noise table, how much noise its q mask adds to standard
// dropout's at the same p (the paper's explanation of why augmented
// dropout helps) beside what it does to the generalisation gap; "" when
// no augmented row has its standard row.
func augmentedNoiseMarkdown(rows []NoiseRow) string {
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
