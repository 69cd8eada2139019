package report

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/dropexp/dropexp/internal/results"
)

// evaluation is a confusion matrix dropexp eval wrote for a run, with what
// it was evaluated on.
type evaluation struct {
	caption string
	c       results.Confusion
}

// evaluations returns the confusion matrices in run directory dir: its own
// test set's (dir/confusion.csv), then other data's (dir/eval-*/). A file
// that does not read is left out: the report draws what it can.
func evaluations(dir string) []evaluation {
	var out []evaluation
	add := func(path, caption string) {
		c, err := results.ReadConfusion(path)
		if err != nil {
			return
		}
		out = append(out, evaluation{caption, c})
	}
	add(filepath.Join(dir, results.ConfusionFile), "dropexp eval on its own test set")
	others, _ := filepath.Glob(filepath.Join(dir, "eval-*", results.ConfusionFile))
	for _, p := range others {
		add(p, "dropexp eval on other data ("+filepath.Base(filepath.Dir(p))+")")
	}
	return out
}

// confusionSVG draws a confusion matrix as an inline SVG: rows the true
// class, columns the predicted one, each cell shaded by its share of the
// true class (so a class's accuracy is its diagonal cell), the counts
// written in the cells when there is room, each class's accuracy at the
// right.
func confusionSVG(c results.Confusion) string {
	n := len(c.Classes)
	if n == 0 {
		return ""
	}
	cell := math.Max(6, math.Min(30, 480/float64(n)))
	label := 0
	for _, name := range c.Classes {
		label = max(label, len([]rune(name)))
	}
	left := math.Min(7*float64(min(label, 16))+8, 130)
	top, right := 20.0, 64.0
	if n > 30 {
		left = 8 // names would not fit: the order is the header's
	}
	w, h := left+cell*float64(n)+right, top+cell*float64(n)+24
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="confusion" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" font-family="sans-serif" font-size="10">`, w, h, w, h)
	b.WriteString(`<rect width="100%" height="100%" fill="#fff"/>`)
	fmt.Fprintf(&b, `<text x="%.1f" y="12">predicted class →</text><text x="%.1f" y="12" text-anchor="end">accuracy</text>`, left, w-4)
	var total, right0 int
	for t, row := range c.Counts {
		sum := 0
		for _, v := range row {
			sum += v
		}
		total += sum
		right0 += row[t]
		y := top + cell*float64(t)
		if n <= 30 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, left-4, y+cell/2+3, esc(clip(c.Classes[t], 16)))
		}
		for p, v := range row {
			share := 0.0
			if sum > 0 {
				share = float64(v) / float64(sum)
			}
			// White to the report's blue (standard's, 0072b2) by share.
			r, g, bl := 255-int(255*share), 255-int(141*share), 255-int(77*share)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="rgb(%d,%d,%d)" stroke="#eee"><title>%s → %s: %d</title></rect>`,
				left+cell*float64(p), y, cell, cell, r, g, bl, esc(c.Classes[t]), esc(c.Classes[p]), v)
			if cell >= 22 && v > 0 {
				fill := "#222"
				if share > 0.55 {
					fill = "#fff"
				}
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s" font-size="9">%d</text>`, left+cell*(float64(p)+0.5), y+cell/2+3, fill, v)
			}
		}
		acc := "–"
		if sum > 0 {
			acc = fmt.Sprintf("%.3f", float64(row[t])/float64(sum))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, w-4, y+cell/2+3, acc)
	}
	if total > 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">rows: true class; shade: share of the true class; overall accuracy %.4f (%d of %d)</text>`,
			left, h-8, float64(right0)/float64(total), right0, total)
	}
	b.WriteString("</svg>")
	return b.String()
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
