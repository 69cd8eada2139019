package train

import (
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/model"
	"github.com/dropexp/dropexp/internal/threads"
)

// A network whose activations would not fit is refused before it is
// built: ResNet-110 at batch 10,000 went past 8 GB.
func TestFitMemory(t *testing.T) {
	opt := func(m string, batch int) model.Options {
		return model.Options{Model: m, Batch: batch, C: 3, H: 32, W: 32, Classes: 10, Train: true, Exec: threads.N(1)}
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
