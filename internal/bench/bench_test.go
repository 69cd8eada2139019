package bench

import (
	"testing"

	"github.com/dropexp/dropexp/internal/dropout"
)

func TestRunReportsEveryFigure(t *testing.T) {
	r, err := Run(Options{Model: "convnet-quick", Batch: 4, Iters: 2, Warmup: 1, Blocks: 1, Threads: 1, Variant: dropout.Standard, Ratio: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if r.TrainImgS <= 0 || r.EvalImgS <= 0 || r.PeakRSSMB <= 0 || r.AllocBytesPerIter < 0 {
		t.Errorf("incomplete result: %+v", r)
	}
}
