// Package dropout defines the dropout variants of "Demystifying Dropout"
// (plain, standard, forward, backward, augmented), their ratios and gradient
// semantics, the per-site mask sampler, and the Gorgonia ops that apply a
// site's forward and backward masks inside a convolution or a fully connected
// layer: which inputs each op and gradient op takes, and which mask each
// gradient sees. How a convolution is computed is internal/conv's.
package dropout

import (
	"fmt"
	"strconv"
	"strings"
)

// Variant names which pass of dropout a site applies.
type Variant string

// The five variants of docs/DESIGN.md §1.
const (
	Plain     Variant = "plain"
	Standard  Variant = "standard"
	Forward   Variant = "forward"
	Backward  Variant = "backward"
	Augmented Variant = "augmented"
)

// Variants lists every variant in the order the paper's tables use.
var Variants = []Variant{Plain, Standard, Forward, Backward, Augmented}

// ParseVariant returns the variant named s or an error listing the allowed names.
func ParseVariant(s string) (Variant, error) {
	for _, v := range Variants {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown dropout variant %q (allowed: plain, standard, forward, backward, augmented)", s)
}

// MasksForward reports whether the variant drops features in the forward pass.
func (v Variant) MasksForward() bool { return v == Standard || v == Forward || v == Augmented }

// MasksBackward reports whether the variant drops errors in the backward pass.
func (v Variant) MasksBackward() bool { return v == Standard || v == Backward || v == Augmented }

// Semantics selects which features the weight gradient of the consuming layer sees.
type Semantics string

const (
	// Layer is the paper's literal definition: ∂J/∂W = δ (h ⊙ mb)ᵀ.
	Layer Semantics = "layer"
	// Elementwise is what a dropout op with its own backward gives: ∂J/∂W = δ (h ⊙ mf)ᵀ.
	Elementwise Semantics = "elementwise"
)

// ParseSemantics returns the gradient semantics named s.
func ParseSemantics(s string) (Semantics, error) {
	switch Semantics(s) {
	case Layer, Elementwise:
		return Semantics(s), nil
	}
	return "", fmt.Errorf("unknown gradient semantics %q (allowed: layer, elementwise)", s)
}

// Ratio is a dropout ratio p, with the small backward-only ratio q of the augmented variant.
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

// ParseRatio parses "p" or "p/q" for variant v; both must lie in [0,1), and
// only the augmented variant takes a q. Plain accepts any ratio and ignores it.
func ParseRatio(v Variant, s string) (Ratio, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if v == Plain {
			return Ratio{}, nil
		}
		return Ratio{}, fmt.Errorf("empty dropout ratio for variant %s (write p, e.g. 0.3, or p/q for augmented, e.g. 0.1/0.0002)", v)
	}
	parts := strings.Split(s, "/")
	if len(parts) > 2 {
		return Ratio{}, fmt.Errorf("malformed dropout ratio %q: write p (e.g. 0.3) or p/q (e.g. 0.1/0.0002)", s)
	}
	var vals [2]float64
	for i, part := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return Ratio{}, fmt.Errorf("malformed dropout ratio %q: %q is not a number; write p (e.g. 0.3) or p/q (e.g. 0.1/0.0002)", s, part)
		}
		if !(f >= 0 && f < 1) {
			return Ratio{}, fmt.Errorf("dropout ratio %q out of range: %v must be in [0,1)", s, f)
		}
		vals[i] = f
	}
	r := Ratio{P: vals[0], Q: vals[1]}
	if len(parts) == 2 && v != Augmented && v != Plain {
		return Ratio{}, fmt.Errorf("dropout ratio %q has a /q part, which only the augmented variant takes (variant is %s); write just p", s, v)
	}
	if v == Plain {
		return Ratio{}, nil
	}
	return r, nil
}
