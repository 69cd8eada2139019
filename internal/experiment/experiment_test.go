package experiment

import (
	"strings"
	"testing"
)

func TestParseRatio(t *testing.T) {
	for _, tc := range []struct {
		variant Variant
		in      string
		want    string // canonical spelling; "" with err
		err     string // part of the error
	}{
		{Standard, "0.30", "0.3", ""},
		{Standard, " 0.5 ", "0.5", ""},
		{Forward, "0", "0", ""},
		{Augmented, "0.1/0.0002", "0.1/0.0002", ""},
		{Augmented, "0.1/0", "0.1", ""},
		{Augmented, "0.3", "0.3", ""},
		{Plain, "", "0", ""},
		{Plain, "0.3/0.1", "0", ""},
		{Standard, "", "", "empty dropout ratio for variant standard"},
		{Standard, "0.1/0.01", "", "only the augmented variant takes"},
		{Backward, "1", "", "out of range"},
		{Backward, "-0.1", "", "out of range"},
		{Standard, "x", "", `"x" is not a number`},
		{Augmented, "0.1/0.2/0.3", "", "malformed"},
		{Plain, "abc", "", "not a number"},
	} {
		r, err := ParseRatio(tc.variant, tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseRatio(%s, %q) error %v, want one saying %q", tc.variant, tc.in, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("ParseRatio(%s, %q): %v", tc.variant, tc.in, err)
		case tc.err == "" && r.String() != tc.want:
			t.Errorf("ParseRatio(%s, %q) = %s, want %s", tc.variant, tc.in, r, tc.want)
		}
	}
}

func TestParseVariantAndSemantics(t *testing.T) {
	for _, v := range Variants() {
		if got, err := ParseVariant(string(v)); err != nil || got != v {
			t.Errorf("ParseVariant(%q) = %q, %v", v, got, err)
		}
	}
	if _, err := ParseVariant("dropconnect"); err == nil || !strings.Contains(err.Error(), strings.Join(VariantNames(), ", ")) {
		t.Errorf("ParseVariant of an unknown name: %v, want the allowed names", err)
	}
	for _, s := range SemanticsOrder {
		if got, err := ParseSemantics(string(s)); err != nil || got != s {
			t.Errorf("ParseSemantics(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := ParseSemantics("both"); err == nil {
		t.Error("ParseSemantics accepts both")
	}
}

// The table is consistent: a variant that masks nothing has no ratio, a
// p/q ratio's q drops errors on a backward mask of its own, comparisons
// name variants of the table, and every variant has its own colour.
func TestVariantTable(t *testing.T) {
	colours := map[string]Variant{}
	for i, s := range VariantSpecs() {
		if s.Variant.Rank() != i {
			t.Errorf("%s: rank %d, want %d", s.Variant, s.Variant.Rank(), i)
		}
		masks := s.MasksForward || s.MasksBackward
		if masks != (s.Form != NoRatio) {
			t.Errorf("%s masks %v but its ratio form is %d", s.Variant, masks, s.Form)
		}
		if s.Form == RatioPQ && !(s.MasksBackward && s.OwnBackwardDraw) {
			t.Errorf("%s: a p/q ratio needs a backward mask of its own for q", s.Variant)
		}
		if s.OwnBackwardDraw && !s.MasksBackward {
			t.Errorf("%s draws a backward mask it does not apply", s.Variant)
		}
		for _, a := range s.Against {
			if !a.Variant.Known() || a.Variant == s.Variant || a.Variant.Form() == NoRatio {
				t.Errorf("%s is compared against %q, which is no other dropout variant", s.Variant, a.Variant)
			}
			if a.AtP && s.Form != RatioPQ {
				t.Errorf("%s is compared at its p but has no p/q ratio", s.Variant)
			}
		}
		c := s.Colour
		key := string([]byte{c.R, c.G, c.B})
		if other, ok := colours[key]; ok {
			t.Errorf("%s and %s share a colour", s.Variant, other)
		}
		colours[key] = s.Variant
	}
	if !Standard.SemanticsInvariant() || Forward.SemanticsInvariant() || Augmented.SemanticsInvariant() {
		t.Error("SemanticsInvariant: only a variant with one mask for both passes is")
	}
}

func TestCell(t *testing.T) {
	for _, tc := range []struct {
		variant, ratio, sem string
		name, ratioText     string
	}{
		{"plain", "0.3", "elementwise", "plain", ""},
		{"standard", "0.30", "layer", "standard/0.3/layer", "0.3"},
		{"augmented", "0.1/0.0002", "elementwise", "augmented/0.1/0.0002/elementwise", "0.1/0.0002"},
	} {
		c, err := ParseCell(tc.variant, tc.ratio, tc.sem)
		if err != nil {
			t.Fatal(err)
		}
		if c.String() != tc.name || c.RatioText() != tc.ratioText {
			t.Errorf("ParseCell(%s, %s, %s) = %s (ratio %q), want %s (ratio %q)", tc.variant, tc.ratio, tc.sem, c, c.RatioText(), tc.name, tc.ratioText)
		}
		if c != NewCell(c.Variant, c.Ratio, c.Semantics) {
			t.Errorf("NewCell does not give back %s", c)
		}
	}
	if _, err := ParseCell("standard", "0.3", "sideways"); err == nil {
		t.Error("ParseCell accepts an unknown semantics")
	}
}

func TestNotIdentityText(t *testing.T) {
	want := "out, threads, kernels, dataset.path, train.checkpoint_every, diagnostics.every and diagnostics.draws"
	if got := NotIdentityText(); got != want {
		t.Errorf("NotIdentityText() = %q, want %q", got, want)
	}
}
