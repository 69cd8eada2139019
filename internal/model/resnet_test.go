package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dropexp/dropexp/internal/chain"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/threads"
)

// gaussianBatch fills n's input with N(0,1) pixels drawn from seed and labels 0…9 in turn.
func gaussianBatch(n *Net, seed uint64) {
	x, y := n.Input()
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for i := range y {
		y[i] = float32(i % 10)
	}
}

func resnetOpts(batch, size int, train bool, v experiment.Variant) Options {
	return Options{Model: "resnet20", Batch: batch, C: 3, H: size, W: size, Classes: 10,
		Variant: v, Semantics: experiment.Layer, Exec: threads.N(2), Train: train}
}

func TestResNet20Shape(t *testing.T) {
	n, err := Build(resnetOpts(2, 32, true, experiment.Standard), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if got := n.ParamCount(); got != 269722 {
		t.Errorf("ResNet-20 has %d parameters, want 269,722", got)
	}
	if len(n.Sites) != 9 {
		t.Errorf("%d dropout sites, want 9 (the second conv of every block)", len(n.Sites))
	}
	if len(n.BN) != 19 {
		t.Errorf("%d BatchNorm layers, want 19", len(n.BN))
	}
	if s := n.Logits.Shape(); s[0] != 2 || s[1] != 10 {
		t.Errorf("logits shape %v", s)
	}
}

func TestResNetSitePatterns(t *testing.T) {
	o := resnetOpts(2, 8, true, experiment.Standard)
	o.Sites = []string{"s3b*.conv1", "fc"}
	n, err := Build(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Sites) != 4 {
		t.Errorf("%d sites for s3b*.conv1 + fc, want 4", len(n.Sites))
	}
	o.Sites = []string{"s4b1.conv1"}
	if _, err := Build(o, nil); err == nil {
		t.Error("want an error for a pattern matching no site")
	}
}

// The whole graph (BN, option-A shortcuts, residual adds, global pooling)
// differentiates correctly: central differences on the loss agree with the
// gradient for a sample of weights.
func TestResNetFiniteDifferences(t *testing.T) {
	n, err := Build(resnetOpts(4, 8, true, experiment.Plain), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	Init(n.Params, rand.New(rand.NewPCG(3, 3)))
	gaussianBatch(n, 4)
	// Freeze the running statistics' effect: training-mode BN uses batch statistics only.
	loss := func() float64 {
		if err := n.Run(); err != nil {
			t.Fatal(err)
		}
		return n.LossValue()
	}
	loss()
	grads := map[string][]float32{}
	for _, p := range n.Params {
		grads[p.Name] = append([]float32(nil), p.Grad.Value().Data().([]float32)...)
	}
	checked := 0
	for _, p := range n.Params {
		g := grads[p.Name]
		// The largest-gradient entry of each tensor is well above float32 noise.
		best := 0
		for i := range g {
			if math.Abs(float64(g[i])) > math.Abs(float64(g[best])) {
				best = i
			}
		}
		if math.Abs(float64(g[best])) < 1e-3 {
			continue
		}
		d := p.Data()
		old := d[best]
		const eps = 1e-3
		d[best] = old + eps
		lp := loss()
		d[best] = old - eps
		lm := loss()
		d[best] = old
		fd := (lp - lm) / (2 * eps)
		if math.Abs(fd-float64(g[best])) > 0.03*math.Abs(fd)+2e-3 {
			t.Errorf("%s[%d]: finite difference %.5g, gradient %.5g", p.Name, best, fd, g[best])
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("only %d parameters had a gradient large enough to check", checked)
	}
}

// The evaluation graph shares parameters and running statistics with the training graph.
func TestResNetEvalSharesState(t *testing.T) {
	tr, err := Build(resnetOpts(2, 8, true, experiment.Standard), nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Build(resnetOpts(2, 8, false, experiment.Standard), tr)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Sites) != 0 {
		t.Errorf("evaluation graph has %d dropout sites", len(ev.Sites))
	}
	for name, s := range tr.BN {
		if ev.BN[name] != s {
			t.Fatalf("BN %s statistics not shared", name)
		}
	}
	if &tr.Params[0].Data()[0] != &ev.Params[0].Data()[0] {
		t.Error("parameters not shared")
	}
}

func BenchmarkResNet20Train2(b *testing.B) {
	benchTrain(b, resnetOpts(128, 32, true, experiment.Standard), 0.1)
}

func BenchmarkResNet20Eval2(b *testing.B) {
	benchEval(b, resnetOpts(128, 32, false, experiment.Standard))
}

// BenchmarkResNet20EvalWinograd2 is BenchmarkResNet20Eval2 on the winograd
// kernel set (its chain's 3×3 stride-1 layers by F(4×4, 3×3)).
func BenchmarkResNet20EvalWinograd2(b *testing.B) {
	o := resnetOpts(128, 32, false, experiment.Standard)
	o.Kernels = experiment.WinogradKernels
	benchEval(b, o)
}

// The evaluation chain (the whole trunk image by image) gives the same
// bits as the evaluation graph built layer by layer, on CIFAR's size and
// an odd one (ResNet's stride-2 layers and shortcuts and ConvNet-Quick's
// poolings round up), with 1 and 2 threads and trained-looking running
// statistics and biases.
func TestChainMatchesLayers(t *testing.T) {
	if !chain.Available() {
		t.Skip("no direct convolution on this CPU")
	}
	// The winograd set's chains run the layers its graph runs by Winograd
	// so (its 3×3 and 5×5 layers round otherwise).
	for _, c := range []struct {
		name string
		k    experiment.Kernels
	}{{"resnet20", experiment.DirectKernels}, {"resnet20", experiment.WinogradKernels},
		{"convnet-quick", experiment.DirectKernels}, {"convnet-quick", experiment.WinogradKernels}} {
		opts := func(size int, train bool) Options {
			o := resnetOpts(10, size, train, experiment.Standard) // a chain unit of 8 images and a part of one
			o.Model, o.Kernels = c.name, c.k
			return o
		}
		testChainMatchesLayers(t, c.name+"/"+string(c.k), opts)
	}
}

func testChainMatchesLayers(t *testing.T, name string, opts func(size int, train bool) Options) {
	for _, size := range []int{32, 11} {
		for _, nthreads := range []int{1, 2} {
			tr, err := Build(opts(size, true), nil)
			if err != nil {
				t.Fatal(err)
			}
			Init(tr.Params, rand.New(rand.NewPCG(5, uint64(size))))
			r := rand.New(rand.NewPCG(6, uint64(nthreads)))
			for _, p := range tr.Params {
				d := p.Data()
				for i := range d {
					d[i] += 0.1 * float32(r.NormFloat64()) // γ, β away from 1, 0
				}
			}
			for _, s := range tr.BN {
				for i := range s.Mean {
					s.Mean[i], s.Var[i] = 0.3*float32(r.NormFloat64()), 0.5+r.Float32()
				}
			}
			var evs [2]*Net
			for k, byOp := range []bool{false, true} {
				o := opts(size, false)
				o.Exec, o.OpByOp = threads.N(nthreads), byOp
				if evs[k], err = Build(o, tr); err != nil {
					t.Fatal(err)
				}
				gaussianBatch(evs[k], 7)
			}
			// A second run after the weights change (as after training
			// steps) must see the new weights, not the last run's.
			for run := 0; run < 2; run++ {
				if run == 1 {
					for _, p := range tr.Params {
						d := p.Data()
						for i := range d {
							d[i] *= 1 + 0.01*float32(r.NormFloat64())
						}
					}
				}
				var logits [2][]float32
				for k, ev := range evs {
					if err := ev.Run(); err != nil {
						t.Fatal(err)
					}
					logits[k] = append([]float32(nil), ev.Logits.Value().Data().([]float32)...)
				}
				for i := range logits[0] {
					if math.Float32bits(logits[0][i]) != math.Float32bits(logits[1][i]) {
						t.Fatalf("%s, size %d, %d threads, run %d: logit %d is %v chained, %v layer by layer", name, size, nthreads, run+1, i, logits[0][i], logits[1][i])
					}
				}
			}
			for _, ev := range evs {
				ev.Close()
			}
			tr.Close()
		}
	}
}

// BenchmarkResNet20TrainWinograd2 is BenchmarkResNet20Train2 on the
// winograd kernel set.
func BenchmarkResNet20TrainWinograd2(b *testing.B) {
	o := resnetOpts(128, 32, true, experiment.Standard)
	o.Kernels = experiment.WinogradKernels
	benchTrain(b, o, 0.1)
}
