// Package experiment declares the vocabulary of the experiment, which every
// other package speaks: the dropout variants (one table, VariantSpecs), their
// ratios and gradient semantics as types parsed once at the edge, the key of
// a table cell, and the config keys that are not part of a run's identity.
// It is a leaf: it imports no other package of dropexp and no Gorgonia, so
// that reading and analysing results never links the training code.
package experiment

import (
	"fmt"
	"image/color"
	"slices"
	"strconv"
	"strings"
)

// Variant names which passes of dropout a site applies.
type Variant string

// The variants of docs/DESIGN.md §1.
const (
	Plain     Variant = "plain"
	Standard  Variant = "standard"
	Forward   Variant = "forward"
	Backward  Variant = "backward"
	Augmented Variant = "augmented"
	// Independent is standard's ratio with the backward mask drawn apart
	// from the forward one: both passes drop, but not the same units.
	Independent Variant = "independent"
)

// RatioForm says how a variant's ratio is written.
type RatioForm int

const (
	// NoRatio is plain's: it drops nothing, so any ratio is ignored.
	NoRatio RatioForm = iota
	// RatioP is one dropout ratio p.
	RatioP
	// RatioPQ is p, with a small backward-only ratio q: "p/q".
	RatioPQ
)

// Against is a comparison a variant's cells take part in (besides the
// comparisons every dropout cell has: against plain, and layer against
// elementwise semantics): against the cells of Variant at the same ratio
// and semantics, or, with AtP, at the p of the cell's p/q ratio.
type Against struct {
	Variant Variant
	AtP     bool
}

// VariantSpec is one row of the variant table.
type VariantSpec struct {
	Variant Variant
	Doc     string // one line for help: what the variant drops
	// MasksForward and MasksBackward say whether the variant drops features
	// in the forward pass and errors in the backward pass.
	MasksForward, MasksBackward bool
	// OwnBackwardDraw says the backward mask is a draw of its own rather
	// than the forward mask.
	OwnBackwardDraw bool
	Form            RatioForm
	// Against are the comparisons the variant's cells take part in, in the
	// order comparisons.csv lists them.
	Against []Against
	// Colour is the variant's colour in every figure (Okabe and Ito's
	// colour-blind safe palette); its position in VariantSpecs is its
	// legend position and marker.
	Colour color.RGBA
}

// variantSpecs is the variant table, in the order of the paper's tables
// and of every legend. A new variant is a row here and its mask rule in
// package dropout.
var variantSpecs = [...]VariantSpec{
	{Variant: Plain, Doc: "no dropout", Form: NoRatio, Colour: color.RGBA{0x44, 0x44, 0x44, 0xff}},
	{Variant: Standard, Doc: "one mask drops features forward and their errors backward",
		MasksForward: true, MasksBackward: true, Form: RatioP, Colour: color.RGBA{0x00, 0x72, 0xb2, 0xff}},
	{Variant: Forward, Doc: "drops features in the forward pass only",
		MasksForward: true, Form: RatioP, Against: []Against{{Variant: Standard}, {Variant: Backward}},
		Colour: color.RGBA{0xd5, 0x5e, 0x00, 0xff}},
	{Variant: Backward, Doc: "drops errors in the backward pass only",
		MasksBackward: true, OwnBackwardDraw: true, Form: RatioP, Against: []Against{{Variant: Standard}},
		Colour: color.RGBA{0x00, 0x9e, 0x73, 0xff}},
	{Variant: Augmented, Doc: "standard at p, the backward mask also drops errors at q",
		MasksForward: true, MasksBackward: true, OwnBackwardDraw: true, Form: RatioPQ,
		Against: []Against{{Variant: Standard, AtP: true}}, Colour: color.RGBA{0xcc, 0x79, 0xa7, 0xff}},
	{Variant: Independent, Doc: "drops features forward and errors backward with two independent masks",
		MasksForward: true, MasksBackward: true, OwnBackwardDraw: true, Form: RatioP,
		Against: []Against{{Variant: Standard}}, Colour: color.RGBA{0xe6, 0x9f, 0x00, 0xff}},
}

// VariantSpecs returns the variant table, in order.
func VariantSpecs() []VariantSpec {
	out := slices.Clone(variantSpecs[:])
	for i := range out {
		out[i].Against = slices.Clone(out[i].Against)
	}
	return out
}

// Variants lists every variant in the order of the variant table.
func Variants() []Variant {
	vs := make([]Variant, len(variantSpecs))
	for i, s := range variantSpecs {
		vs[i] = s.Variant
	}
	return vs
}

// VariantNames returns the variants' names, the allowed values of dropout.variant.
func VariantNames() []string {
	names := make([]string, len(variantSpecs))
	for i, s := range variantSpecs {
		names[i] = string(s.Variant)
	}
	return names
}

// ParseVariant returns the variant named s or an error listing the allowed names.
func ParseVariant(s string) (Variant, error) {
	if v := Variant(s); v.Known() {
		return v, nil
	}
	return "", fmt.Errorf("unknown dropout variant %q (allowed: %s)", s, strings.Join(VariantNames(), ", "))
}

// Known reports whether v is a row of the variant table.
func (v Variant) Known() bool { return v.Rank() < len(variantSpecs) }

// Rank is v's position in the variant table (legend order, colour and
// marker); len(VariantSpecs()) for a variant the table does not know.
func (v Variant) Rank() int {
	for i, s := range variantSpecs {
		if s.Variant == v {
			return i
		}
	}
	return len(variantSpecs)
}

// Spec returns v's row of the variant table; the zero row (no masks, no
// ratio) for a variant the table does not know.
func (v Variant) Spec() VariantSpec {
	if i := v.Rank(); i < len(variantSpecs) {
		s := variantSpecs[i]
		s.Against = slices.Clone(s.Against)
		return s
	}
	return VariantSpec{Variant: v}
}

// MasksForward reports whether the variant drops features in the forward pass.
func (v Variant) MasksForward() bool { return v.Spec().MasksForward }

// MasksBackward reports whether the variant drops errors in the backward pass.
func (v Variant) MasksBackward() bool { return v.Spec().MasksBackward }

// OwnBackwardDraw reports whether the variant's backward mask is a draw of
// its own rather than its forward mask.
func (v Variant) OwnBackwardDraw() bool { return v.Spec().OwnBackwardDraw }

// Form returns how the variant's ratio is written.
func (v Variant) Form() RatioForm { return v.Spec().Form }

// SemanticsInvariant reports whether the layer and elementwise gradient
// rules are one computation for v: both passes apply one mask (mf = mb).
func (v Variant) SemanticsInvariant() bool {
	s := v.Spec()
	return s.MasksForward && s.MasksBackward && !s.OwnBackwardDraw
}

// VariantsOfForm returns the variants whose ratio is written in form f, in table order.
func VariantsOfForm(f RatioForm) []Variant {
	var vs []Variant
	for _, s := range variantSpecs {
		if s.Form == f {
			vs = append(vs, s.Variant)
		}
	}
	return vs
}

// Semantics selects which features the weight gradient of the consuming layer sees.
type Semantics string

const (
	// Layer is the paper's literal definition: ∂J/∂W = δ (h ⊙ mb)ᵀ.
	Layer Semantics = "layer"
	// Elementwise is what a dropout op with its own backward gives: ∂J/∂W = δ (h ⊙ mf)ᵀ.
	Elementwise Semantics = "elementwise"
)

// SemanticsOrder lists the gradient semantics, the paper's first.
var SemanticsOrder = [...]Semantics{Layer, Elementwise}

// ParseSemantics returns the gradient semantics named s.
func ParseSemantics(s string) (Semantics, error) {
	if slices.Contains(SemanticsOrder[:], Semantics(s)) {
		return Semantics(s), nil
	}
	return "", fmt.Errorf("unknown gradient semantics %q (allowed: layer, elementwise)", s)
}

// Ratio is a dropout ratio p, with the small backward-only ratio q of a
// variant whose ratio is written p/q.
type Ratio struct {
	P, Q float64
}

// String formats the ratio the way the config writes it: "0.3" or "0.1/0.0002".
func (r Ratio) String() string {
	s := strconv.FormatFloat(r.P, 'g', -1, 64)
	if r.Q != 0 {
		s += "/" + strconv.FormatFloat(r.Q, 'g', -1, 64)
	}
	return s
}

// OfP returns the ratio p alone, r without its q.
func (r Ratio) OfP() Ratio { return Ratio{P: r.P} }

// Compare orders ratios by p, then by their spelling.
func (r Ratio) Compare(o Ratio) int {
	switch {
	case r.P < o.P:
		return -1
	case r.P > o.P:
		return 1
	}
	return strings.Compare(r.String(), o.String())
}

// ParseRatio parses "p" or "p/q" for variant v; both must lie in [0,1), and
// only a variant of RatioPQ takes a q. Plain accepts any ratio and ignores it.
func ParseRatio(v Variant, s string) (Ratio, error) {
	form := v.Form()
	s = strings.TrimSpace(s)
	if s == "" {
		if form == NoRatio {
			return Ratio{}, nil
		}
		return Ratio{}, fmt.Errorf("empty dropout ratio for variant %s (write p, e.g. 0.3, or p/q for %s, e.g. 0.1/0.0002)", v, pqNames())
	}
	r, pq, err := ParseAnyRatio(s)
	if err != nil {
		return Ratio{}, err
	}
	if form == NoRatio {
		return Ratio{}, nil
	}
	if pq && form != RatioPQ {
		return Ratio{}, fmt.Errorf("dropout ratio %q has a /q part, which only the %s variant takes (variant is %s); write just p", s, pqNames(), v)
	}
	return r, nil
}

// ParseAnyRatio parses "p" or "p/q", both in [0,1), whatever the variant;
// pq reports whether it was written with a q.
func ParseAnyRatio(s string) (r Ratio, pq bool, err error) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, "/")
	if len(parts) > 2 {
		return Ratio{}, false, fmt.Errorf("malformed dropout ratio %q: write p (e.g. 0.3) or p/q (e.g. 0.1/0.0002)", s)
	}
	var vals [2]float64
	for i, part := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return Ratio{}, false, fmt.Errorf("malformed dropout ratio %q: %q is not a number; write p (e.g. 0.3) or p/q (e.g. 0.1/0.0002)", s, part)
		}
		if !(f >= 0 && f < 1) {
			return Ratio{}, false, fmt.Errorf("dropout ratio %q out of range: %v must be in [0,1)", s, f)
		}
		vals[i] = f
	}
	return Ratio{P: vals[0], Q: vals[1]}, len(parts) == 2, nil
}

// pqNames names the variants whose ratio is written p/q.
func pqNames() string {
	var names []string
	for _, v := range VariantsOfForm(RatioPQ) {
		names = append(names, string(v))
	}
	return strings.Join(names, ", ")
}

// Cell is the key of a table cell: a variant at a ratio under a gradient
// semantics. A plain cell has neither ratio nor semantics.
type Cell struct {
	Variant   Variant
	Ratio     Ratio
	Semantics Semantics
}

// NewCell returns the cell of variant v at ratio r under semantics sem,
// dropping the ratio and semantics of plain.
func NewCell(v Variant, r Ratio, sem Semantics) Cell {
	if v.Form() == NoRatio {
		return Cell{Variant: v}
	}
	return Cell{Variant: v, Ratio: r, Semantics: sem}
}

// ParseCell parses a cell from the variant, ratio and semantics as a run
// records them.
func ParseCell(variant, ratio, semantics string) (Cell, error) {
	v, err := ParseVariant(variant)
	if err != nil {
		return Cell{}, err
	}
	if v.Form() == NoRatio {
		return Cell{Variant: v}, nil
	}
	r, err := ParseRatio(v, ratio)
	if err != nil {
		return Cell{}, err
	}
	sem, err := ParseSemantics(semantics)
	if err != nil {
		return Cell{}, err
	}
	return Cell{Variant: v, Ratio: r, Semantics: sem}, nil
}

// RatioText is the cell's ratio as the config writes it, "" for plain.
func (c Cell) RatioText() string {
	if c.Variant.Form() == NoRatio {
		return ""
	}
	return c.Ratio.String()
}

// String names the cell: "plain" or variant/ratio/semantics.
func (c Cell) String() string {
	if c.Variant.Form() == NoRatio {
		return string(c.Variant)
	}
	return string(c.Variant) + "/" + c.Ratio.String() + "/" + string(c.Semantics)
}

// Kernels is a convolution kernel set a run can ask for (config key
// kernels): the sets compute the same convolutions and round differently,
// so a run's numbers are the same bits only on the same set, which its
// summary records.
type Kernels string

const (
	// DirectKernels, the default (also spelled ""), runs the direct
	// convolution's forward passes and stride-1 gradients, and the
	// stride-2 gradients by im2col and col2im.
	DirectKernels Kernels = "direct"
	// StridedKernels runs the stride-2 gradients by the direct convolution too.
	StridedKernels Kernels = "strided"
	// WinogradKernels is StridedKernels with the forward passes and both
	// gradients of same-size 3×3 and 5×5 convolutions by Winograd's
	// F(4×4, 3×3) and F(2×2, 5×5).
	WinogradKernels Kernels = "winograd"
)

// kernelSets are the kernel sets, the default first.
var kernelSets = [...]Kernels{DirectKernels, StridedKernels, WinogradKernels}

// Strided reports whether k runs the stride-2 gradients by the direct
// convolution (strided and winograd).
func (k Kernels) Strided() bool { return k == StridedKernels || k == WinogradKernels }

// Winograd reports whether k runs same-size 3×3 convolutions by Winograd.
func (k Kernels) Winograd() bool { return k == WinogradKernels }

// KernelNames returns the kernel sets' names, the default first.
func KernelNames() []string {
	names := make([]string, len(kernelSets))
	for i, k := range kernelSets {
		names[i] = string(k)
	}
	return names
}

// ParseKernels returns the kernel set s names ("" is the default).
func ParseKernels(s string) (Kernels, error) {
	if s == "" {
		return DirectKernels, nil
	}
	if k := Kernels(s); slices.Contains(kernelSets[:], k) {
		return k, nil
	}
	return "", fmt.Errorf("unknown kernel set %q (allowed: %s)", s, strings.Join(KernelNames(), ", "))
}

// NotIdentity are the config keys that change where a run is written, how
// fast it goes or how often it is saved, not what it computes, so they are
// not part of its identity. kernels is out because it changes only the
// rounding, as another CPU's kernels do (a resume refuses another set).
// dataset.path is out because the data
// fingerprint stands for it: the same images read from another place are
// the same run. The gradient diagnostics add passes that leave the run's
// numbers as they are (metrics.csv is byte-identical with them on and off).
var NotIdentity = [...]string{"out", "threads", "kernels", "dataset.path", "train.checkpoint_every", "diagnostics.every", "diagnostics.draws"}

// NotIdentityText lists NotIdentity for help texts: "out, threads, … and diagnostics.draws".
func NotIdentityText() string {
	keys := NotIdentity[:]
	return strings.Join(keys[:len(keys)-1], ", ") + " and " + keys[len(keys)-1]
}

// QText is the ratio's q as the config writes it, "" when it has none.
func (r Ratio) QText() string {
	if r.Q == 0 {
		return ""
	}
	return strconv.FormatFloat(r.Q, 'g', -1, 64)
}

// Ratios joins ratios as the config writes them: "0.3, 0.1/0.0002".
func Ratios(rs []Ratio) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}
