package train

import (
	"runtime"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/model"
)

// A thread count far past the cores is capped, with a warning: threads
// 1,000,000 took 3.55 GB of stacks and buffers.
func TestThreadsCapped(t *testing.T) {
	for _, tc := range []struct {
		threads, want int
		warn          bool
	}{
		{0, runtime.NumCPU(), false},
		{1, 1, false},
		{4 * runtime.NumCPU(), 4 * runtime.NumCPU(), false},
		{4*runtime.NumCPU() + 1, 4 * runtime.NumCPU(), true},
		{1000000, 4 * runtime.NumCPU(), true},
	} {
		cfg := config.Default()
		cfg.Threads = tc.threads
		if got := Threads(cfg); got != tc.want {
			t.Errorf("threads %d: Threads = %d, want %d", tc.threads, got, tc.want)
		}
		if note := ThreadsNote(cfg); (note != "") != tc.warn || (tc.warn && !strings.Contains(note, "capped")) {
			t.Errorf("threads %d: note %q, want a warning: %v", tc.threads, note, tc.warn)
		}
	}
}

// A network whose activations would not fit is refused before it is
// built: ResNet-110 at batch 10,000 went past 8 GB.
func TestFitMemory(t *testing.T) {
	opt := func(m string, batch int) model.Options {
		return model.Options{Model: m, Batch: batch, C: 3, H: 32, W: 32, Classes: 10, Train: true, Threads: 1}
	}
	for _, tc := range []struct {
		opt   model.Options
		avail int64
		want  string
	}{
		{opt("resnet110", 10000), 8 << 30, "resnet110 at train.batch_size 10000 needs about"},
		{opt("convnet-quick", 100000), 8 << 30, "lower train.batch_size"},
		{opt("convnet-quick", 100), 8 << 30, ""},
		{opt("resnet20", 128), 8 << 30, ""},
		{opt("resnet110", 10000), -1, ""}, // no limit known
	} {
		err := fitMemory(tc.opt, tc.avail, "test")
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s batch %d in %d bytes: err %v, want %q", tc.opt.Model, tc.opt.Batch, tc.avail, err, tc.want)
		}
	}
	// The estimate grows with the batch.
	a, _ := model.EstimateBytes(opt("resnet20", 100))
	b, _ := model.EstimateBytes(opt("resnet20", 200))
	if !(b > a && a > 0) {
		t.Errorf("estimates %d (batch 100), %d (batch 200)", a, b)
	}
}
