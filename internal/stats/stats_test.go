package stats

import (
	"errors"
	"math"
	"testing"
)

// The expected values below were computed with SciPy by
// testdata/reference.py (run it with /usr/bin/python3 to see them again).

var samples = map[string][]float64{
	"one":      {0.7443},
	"plain":    {0.7443, 0.7457},
	"standard": {0.7121, 0.7120},
	"backward": {0.7025, 0.7188},
	"three":    {0.70, 0.72, 0.74},
	"five":     {0.7401, 0.7433, 0.7390, 0.7452, 0.7418},
	"five_b":   {0.7380, 0.7391, 0.7402, 0.7379, 0.7420},
}

// near reports whether got matches want to 1e-9 relative (or absolute near 0); NaN matches NaN.
func near(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

func TestDescribe(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name                 string
		n                    int
		mean, std, low, high float64
	}{
		{"one", 1, 0.7443, nan, nan, nan},
		{"plain", 2, 0.745, 0.0009899494936612145, 0.7361056566844971, 0.7538943433155029},
		{"standard", 2, 0.71205, 7.071067811864696e-05, 0.7114146897631785, 0.7126853102368215},
		{"backward", 2, 0.71065, 0.011525840533340711, 0.6070944313980786, 0.8142055686019214},
		{"three", 3, 0.72, 0.02, 0.670317245763125, 0.7696827542368752},
		{"five", 5, 0.74188, 0.00247527776219154, 0.7388065367171324, 0.7449534632828676},
		{"five_b", 5, 0.7394399999999999, 0.0017096783323186822, 0.7373171539662507, 0.741562846033749},
	} {
		s := Describe(samples[tc.name])
		if s.N != tc.n || !near(s.Mean, tc.mean) || !near(s.Std, tc.std) || !near(s.Low, tc.low) || !near(s.High, tc.high) {
			t.Errorf("%s: got %+v, want n=%d mean=%v std=%v [%v, %v]", tc.name, s, tc.n, tc.mean, tc.std, tc.low, tc.high)
		}
	}
	if s := Describe(nil); s.N != 0 || !math.IsNaN(s.Mean) || !math.IsNaN(s.Low) {
		t.Errorf("empty: %+v", s)
	}
}

func TestT(t *testing.T) {
	for _, tc := range []struct{ p, df, want float64 }{
		{0.975, 1, 12.706204736432095},
		{0.975, 2, 4.302652729911275},
		{0.975, 4, 2.7764451051977987},
		{0.975, 3.7, 2.8675207071912086},
		{0.025, 10, -2.2281388519649385},
		{0.5, 3, 0},
		{0.975, 0, math.NaN()},
		{1.5, 3, math.NaN()},
	} {
		if got := TQuantile(tc.p, tc.df); !near(got, tc.want) {
			t.Errorf("TQuantile(%v, %v) = %v, want %v", tc.p, tc.df, got, tc.want)
		}
	}
	for _, tc := range []struct{ t, df, want float64 }{
		{2.0, 1, 0.8524163823495667},
		{-1.5, 4, 0.10399999999999991},
		{12.7062, 1, 0.9749999907196448},
		{0.3, 2.5, 0.6063288142524015},
		{1, -1, math.NaN()},
	} {
		if got := TCDF(tc.t, tc.df); !near(got, tc.want) {
			t.Errorf("TCDF(%v, %v) = %v, want %v", tc.t, tc.df, got, tc.want)
		}
	}
}

func TestTests(t *testing.T) {
	for _, tc := range []struct {
		kind, a, b                 string
		diff, low, high, tt, df, p float64
	}{
		{PairedTest, "standard", "plain", -0.032950000000000035, -0.04247965355232447, -0.0234203464476756, -43.93333333333172, 1, 0.014488084888750061},
		{PairedTest, "backward", "standard", -0.0013999999999999568, -0.10559087883874295, 0.10279087883874304, -0.17073170731706822, 1, 0.8923468159959275},
		{PairedTest, "five", "five_b", 0.0024399999999999977, -0.0018185635988456211, 0.006698563598845617, 1.5908007241030784, 4, 0.18686353093694802},
		{WelchTest, "standard", "plain", -0.032950000000000035, -0.04165695387625163, -0.02424304612374844, -46.95180594203027, 1.0102038160189468, 0.013060946849598944},
		{WelchTest, "three", "plain", -0.02499999999999991, -0.07442819336369469, 0.02442819336369486, -2.161096136990099, 2.014672592424939, 0.16231427345959135},
		{WelchTest, "five", "five_b", 0.0024400000000001087, -0.0007314181745887191, 0.005611418174588937, 1.8136377168431717, 7.108965968231362, 0.11196195808668033},
	} {
		test := Paired
		if tc.kind == WelchTest {
			test = Welch
		}
		got, err := test(samples[tc.a], samples[tc.b])
		if err != nil {
			t.Errorf("%s %s-%s: %v", tc.kind, tc.a, tc.b, err)
			continue
		}
		// The statistic of a near-zero-variance difference is only good to
		// the rounding of its inputs: compare it to 1e-7.
		if got.Kind != tc.kind || !near(got.Diff, tc.diff) || !near(got.Low, tc.low) || !near(got.High, tc.high) ||
			math.Abs(got.T-tc.tt) > 1e-7*math.Abs(tc.tt) || !near(got.DF, tc.df) || math.Abs(got.P-tc.p) > 1e-7*tc.p {
			t.Errorf("%s %s-%s: got %+v\nwant diff=%v [%v, %v] t=%v df=%v p=%v", tc.kind, tc.a, tc.b, got, tc.diff, tc.low, tc.high, tc.tt, tc.df, tc.p)
		}
	}
}

func TestTestsThatCannotBeMade(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func() (Test, error)
		want error
	}{
		{"paired n=1", func() (Test, error) { return Paired([]float64{1}, []float64{2}) }, ErrTooFew},
		{"welch n=1", func() (Test, error) { return Welch(samples["one"], samples["plain"]) }, ErrTooFew},
		{"paired, equal differences", func() (Test, error) { return Paired([]float64{0.71, 0.72}, []float64{0.70, 0.71}) }, ErrNoSpread},
		{"welch, constant samples", func() (Test, error) { return Welch([]float64{0.7, 0.7}, []float64{0.6, 0.6}) }, ErrNoSpread},
		// 0.8 − 0.7 and 0.7 − 0.6 differ in the last bits only.
		{"paired, differences equal but for rounding", func() (Test, error) { return Paired([]float64{0.8, 0.7}, []float64{0.7, 0.6}) }, ErrNoSpread},
	} {
		got, err := tc.f()
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
		if !math.IsNaN(got.P) || !math.IsNaN(got.Low) {
			t.Errorf("%s: p %v, interval [%v, %v]: want NaN", tc.name, got.P, got.Low, got.High)
		}
	}
	if _, err := Paired([]float64{1, 2}, []float64{1}); err == nil {
		t.Error("pairs of unequal length: no error")
	}
}

func TestHolm(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct{ ps, want []float64 }{
		{[]float64{0.01, 0.04, 0.03, 0.005}, []float64{0.03, 0.06, 0.06, 0.02}},
		{[]float64{0.2, 0.01, 0.5}, []float64{0.4, 0.03, 0.5}},
		{[]float64{0.03, 0.03}, []float64{0.06, 0.06}},
		// A test that could not be made is no member of the family.
		{[]float64{0.2, nan, 0.01, 0.5}, []float64{0.4, nan, 0.03, 0.5}},
		{nil, []float64{}},
	} {
		got := Holm(tc.ps)
		if len(got) != len(tc.want) {
			t.Fatalf("Holm(%v) = %v", tc.ps, got)
		}
		for i := range got {
			if !near(got[i], tc.want[i]) {
				t.Errorf("Holm(%v) = %v, want %v", tc.ps, got, tc.want)
				break
			}
		}
	}
}
