package diagnostics

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/model"
	"github.com/dropexp/dropexp/internal/threads"
)

// BenchmarkCost times a diagnosed step's extra passes against a training
// step (masks, forward, backward) of the same net, interleaved so that the
// machine's drifting speed hits both alike. steps/diagnosis is what one
// diagnosed iteration costs in training steps; with diagnostics.every N the
// overhead on training is about that over N.
//
//	go test -tags openblas -run '^$' -bench Cost -benchtime 20x ./internal/diagnostics
func BenchmarkCost(b *testing.B) {
	for _, tc := range []struct {
		model   string
		batch   int
		ratio   string
		threads int
	}{
		{"convnet-quick", 100, "0.3", 1},
		{"convnet-quick", 100, "0.3", 2},
		{"resnet20", 128, "0.1", 1},
	} {
		b.Run(fmt.Sprintf("%s/threads%d", tc.model, tc.threads), func(b *testing.B) {
			opt := model.Options{Model: tc.model, Batch: tc.batch, C: 3, H: 32, W: 32, Classes: 10,
				Variant: experiment.Standard, Semantics: experiment.Layer, Exec: threads.N(tc.threads), Train: true}
			n, err := model.Build(opt, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer n.Close()
			model.Init(n.Params, rand.New(rand.NewPCG(1, 1)))
			r := rand.New(rand.NewPCG(2, 2))
			x, y := n.Input()
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			for i := range y {
				y[i] = float32(r.IntN(10))
			}
			cfg := config.Defaults()
			cfg.Dropout.Variant, cfg.Dropout.Ratio = "standard", tc.ratio
			cfg.Diagnostics = config.Diagnostics{Every: 1, Draws: config.DefaultDiagnosticDraws}
			d := ForRun(cfg, n, threads.N(tc.threads))
			s := dropout.NewSampler(experiment.Standard, cfg.Ratio(), 3)
			s.Threads = tc.threads
			var step, diag time.Duration
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				s.Sample(n.Sites)
				if err := n.Run(); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := d.Before(i + 1); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				step += t1.Sub(t0)
				diag += t2.Sub(t1)
			}
			b.ReportMetric(diag.Seconds()/step.Seconds(), "steps/diagnosis")
			b.ReportMetric(step.Seconds()/float64(b.N)*1e3, "ms/step")
		})
	}
}
