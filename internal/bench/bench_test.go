package bench

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/opbase"
)

func TestRunReportsEveryFigure(t *testing.T) {
	r, err := Run(Options{Model: "convnet-quick", Batch: 4, Iters: 2, Warmup: 1, Blocks: 1, Threads: 1, Variant: experiment.Standard, Ratio: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if r.TrainImgS <= 0 || r.EvalImgS <= 0 || r.PeakRSSMB <= 0 || r.AllocBytesPerIter < 0 {
		t.Errorf("incomplete result: %+v", r)
	}
}

// The per-op table names every pass of every convolution and fully
// connected layer, counts their FLOPs as a direct convolution computes
// them, and accounts for the whole step.
func TestRunLayersCoversTheStep(t *testing.T) {
	o := Options{Model: "convnet-quick", Batch: 4, Iters: 2, Warmup: 1, Threads: 1, Variant: experiment.Standard, Ratio: 0.3}
	r, err := RunLayers(o, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Layer{}
	for _, l := range r.Ops {
		got[l.Name] = l
	}
	// conv2: 32 maps of 16×16 from 32, 5×5: 2·4·32·32·25·256 FLOPs per pass.
	const conv2 = 2 * 4 * 32 * 32 * 25 * 256
	for name, pass := range map[string]opbase.Pass{"conv:conv2": opbase.ForwardPass, "conv:conv2/dh": opbase.InputGradPass,
		"conv:conv2/dW": opbase.WeightGradPass, "linear:ip1": opbase.ForwardPass, "linear:ip2/dW": opbase.WeightGradPass} {
		l, ok := got[name]
		if !ok {
			t.Errorf("no row for %s in %v", name, r.Ops)
			continue
		}
		if l.Pass != pass || l.Ms <= 0 || l.GFlops <= 0 {
			t.Errorf("%s: %+v, want pass %v with time and a FLOP rate", name, l, pass)
		}
	}
	if l := got["conv:conv2"]; l.Ms > 0 {
		if want := conv2 / (l.Ms / 1e3) / 1e9; math.Abs(l.GFlops-want) > 1e-9*want+1e-9 {
			t.Errorf("conv2 forward %.4g GFLOP/s, want %.4g from its FLOPs", l.GFlops, want)
		}
	}
	var share float64
	for _, p := range r.Passes {
		if p.Name != "all convolution passes" {
			share += p.Share
		}
	}
	if math.Abs(share-1) > 1e-9 {
		t.Errorf("the passes add up to %.6f of the step, want 1", share)
	}
	var b strings.Builder
	if err := r.Write(&b); err != nil || !strings.Contains(b.String(), "conv:conv3/dW") || !strings.Contains(b.String(), "of peak") {
		t.Errorf("table: %v\n%s", err, b.String())
	}
}

func TestPeakMeasures(t *testing.T) {
	if g := Peak(1, 1, 10*time.Millisecond); g <= 0 {
		t.Errorf("peak %g GFLOP/s", g)
	}
}
