package model

import (
	"math/rand/v2"
	"testing"

	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/threads"
)

func quick(batch, c, h, w int, train bool, v experiment.Variant, nthreads int) Options {
	return Options{Model: "convnet-quick", Batch: batch, C: c, H: h, W: w, Classes: 10,
		Variant: v, Semantics: experiment.Layer, Exec: threads.N(nthreads), Train: train}
}

func TestConvNetQuickShapes(t *testing.T) {
	tests := []struct {
		name    string
		c, h, w int
		params  int
		ip1In   int
	}{
		{"cifar 3x32x32", 3, 32, 32, 145578, 1024},
		{"mnist 1x28x28", 1, 28, 28, 32*25 + 32 + 25632 + 51264 + 64*576 + 64 + 650, 576},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Build(quick(2, tc.c, tc.h, tc.w, true, experiment.Standard, 1), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			if got := n.ParamCount(); got != tc.params {
				t.Errorf("parameters = %d, want %d", got, tc.params)
			}
			for _, p := range n.Params {
				if p.Name == "ip1/W" && p.Value.Shape()[1] != tc.ip1In {
					t.Errorf("ip1 sees %d inputs, want %d", p.Value.Shape()[1], tc.ip1In)
				}
			}
			if len(n.Sites) != 4 {
				t.Errorf("%d dropout sites, want the 4 defaults", len(n.Sites))
			}
		})
	}
}

func TestUnknownSite(t *testing.T) {
	o := quick(2, 3, 32, 32, true, experiment.Standard, 1)
	o.Sites = []string{"conv9"}
	if _, err := Build(o, nil); err == nil {
		t.Fatal("want an error for site conv9")
	}
}

// Evaluation drops nothing: the evaluation graph has no sites and two runs agree.
func TestEvalIsDeterministic(t *testing.T) {
	tr, err := Build(quick(4, 3, 32, 32, true, experiment.Standard, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	Init(tr.Params, rand.New(rand.NewPCG(1, 2)))
	ev, err := Build(quick(4, 3, 32, 32, false, experiment.Standard, 1), tr)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Sites) != 0 {
		t.Fatalf("evaluation graph has %d dropout sites", len(ev.Sites))
	}
	x, y := ev.Input()
	for i := range x {
		x[i] = float32(i%17) - 8
	}
	for i := range y {
		y[i] = float32(i)
	}
	var losses []float64
	for range 2 {
		if err := ev.Run(); err != nil {
			t.Fatal(err)
		}
		losses = append(losses, ev.LossValue())
	}
	if losses[0] != losses[1] {
		t.Errorf("evaluation loss changed between runs: %v", losses)
	}
}

// benchTrain times training steps (masks, forward, backward) of the graph o describes.
func benchTrain(b *testing.B, o Options, ratio float64) {
	n, err := Build(o, nil)
	if err != nil {
		b.Fatal(err)
	}
	Init(n.Params, rand.New(rand.NewPCG(1, 2)))
	s := dropout.NewSampler(o.Variant, experiment.Ratio{P: ratio}, 1)
	x, y := n.Input()
	for i := range x {
		x[i] = float32(i%251)/128 - 1
	}
	for i := range y {
		y[i] = float32(i % 10)
	}
	b.ResetTimer()
	for range b.N {
		s.Sample(n.Sites)
		if err := n.Run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*o.Batch)/b.Elapsed().Seconds(), "img/s")
}

func BenchmarkConvNetQuickTrain1(b *testing.B) {
	benchTrain(b, quick(100, 3, 32, 32, true, experiment.Standard, 1), 0.3)
}
func BenchmarkConvNetQuickTrain2(b *testing.B) {
	benchTrain(b, quick(100, 3, 32, 32, true, experiment.Standard, 2), 0.3)
}

// benchEval times evaluation forward passes of the graph o describes (o.Train false).
func benchEval(b *testing.B, o Options) {
	o.Train = false
	n, err := Build(o, nil)
	if err != nil {
		b.Fatal(err)
	}
	Init(n.Params, rand.New(rand.NewPCG(1, 2)))
	x, _ := n.Input()
	for i := range x {
		x[i] = float32(i%251)/128 - 1
	}
	b.ResetTimer()
	for range b.N {
		if err := n.Run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*o.Batch)/b.Elapsed().Seconds(), "img/s")
}

func BenchmarkConvNetQuickEval2(b *testing.B) {
	benchEval(b, quick(100, 3, 32, 32, false, experiment.Standard, 2))
}

// BenchmarkConvNetQuickTrainWinograd2 is BenchmarkConvNetQuickTrain2 on
// the winograd kernel set (F(2×2, 5×5) for conv2 and conv3), dropout 0.1.
func BenchmarkConvNetQuickTrainWinograd2(b *testing.B) {
	o := quick(100, 3, 32, 32, true, experiment.Standard, 2)
	o.Kernels = experiment.WinogradKernels
	benchTrain(b, o, 0.1)
}
