package analysis

import (
	"fmt"
	"slices"

	"github.com/dropexp/dropexp/internal/experiment"
)

// Table2Claim is the paper's claim about Table 2, checked by table2Findings.
const Table2Claim = "(T2) Augmented dropout beats standard dropout at every ratio: at p = 0.1, 0.2 and 0.3, adding the q mask's noise to the backward pass raises ResNet-20's test accuracy."

// Table2Ratios are the dropout ratios of Table 2's rows.
var Table2Ratios = [...]experiment.Ratio{{P: 0.1}, {P: 0.2}, {P: 0.3}}

// table2Findings checks Table2Claim against the ResNet-20 cells of g under
// semantics sem: at every ratio, augmented p/q against standard p (paired
// by seed), all checks one Holm family, by FindingsRule. The paper's ratios
// without an augmented cell read "not run"; other ratios that ran are
// checked too.
func Table2Findings(g *Group, sem experiment.Semantics) Finding {
	const augmented, standard = experiment.Augmented, experiment.Standard
	var ks []Check
	var covered []experiment.Ratio
	for _, c := range g.Cells {
		if c.Variant != augmented || c.Semantics != sem {
			continue
		}
		p := c.Ratio.OfP()
		covered = append(covered, p)
		k := Check{What: fmt.Sprintf("%s beats %s at p = %s", augmented, standard, p), Kind: positive, Metric: "test accuracy"}
		if s := g.CellOrAlike(experiment.NewCell(standard, p, sem)); s != nil {
			k.Ran, k.C = true, compare(c, s, accOf, 1)
		} else {
			k.Note = fmt.Sprintf("%s/%s not run", standard, p)
		}
		ks = append(ks, k)
	}
	for _, p := range Table2Ratios {
		if !slices.Contains(covered, p) {
			ks = append(ks, Check{What: fmt.Sprintf("%s beats %s at p = %s", augmented, standard, p), Kind: positive, Metric: "test accuracy",
				Note: fmt.Sprintf("%s at p = %s not run", augmented, p)})
		}
	}
	var fam []Comparison
	for _, k := range ks {
		if k.Ran {
			fam = append(fam, k.C)
		}
	}
	holm(fam)
	i := 0
	for j := range ks {
		if ks[j].Ran {
			ks[j].C = fam[i]
			i++
		}
	}
	return Finding{ID: "T2", Claim: Table2Claim, Semantics: string(sem), Checks: ks, Verdict: combine(ks)}
}

// HasTable2Cells reports whether g has an augmented or standard cell under sem.
func HasTable2Cells(g *Group, sem experiment.Semantics) bool {
	for _, c := range g.Cells {
		if (c.Variant == experiment.Augmented && c.Semantics == sem) || c.Variant == experiment.Standard {
			return true
		}
	}
	return false
}
