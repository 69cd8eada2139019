package train

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dropexp/dropexp/internal/results"
)

// threadCounts are the thread counts a run must give the same bits for:
// one, the machine's cores and more (Parallel then starts goroutines
// rather than using its team), and counts that split a batch unevenly.
var threadCounts = []int{1, 2, 3, 4, 8}

// The same config trains to the same metrics.csv and the same weights,
// bit for bit, whatever the thread count: every reduction is split into
// blocks that do not depend on it and summed in a fixed order.
func TestThreadCountDoesNotChangeNumbers(t *testing.T) {
	cases := []struct {
		name string
		sets []string
	}{
		// Masks on every site; layer semantics: the weight gradient sees
		// h ⊙ mb, not the features the forward pass kept.
		{"convnet-quick/backward-layer", []string{"dropout.variant=backward", "dropout.sites=[conv1, conv2, conv3, ip1, ip2]"}},
		// Standard dropout: the weight gradient reuses the forward pass's planes.
		{"convnet-quick/standard-elementwise", []string{"dropout.gradient=elementwise"}},
		{"resnet20/augmented-layer", []string{"model=resnet20", "dropout.variant=augmented", "dropout.ratio=0.3/0.05",
			"dropout.sites=[\"*\"]", "train.batch_size=12", "train.iterations=3", "train.eval_every=3", "dataset.test_limit=24",
			"train.lr_steps=[]", "train.lr=0.05", "dataset.preprocess=channel_norm", "dataset.crop_pad=4", "dataset.flip=true"}},
		{"resnet20/standard-elementwise", []string{"model=resnet20", "dropout.gradient=elementwise", "dropout.sites=[\"*\"]",
			"train.batch_size=12", "train.iterations=3", "train.eval_every=3", "dataset.test_limit=24", "train.lr_steps=[]",
			"train.lr=0.05", "dataset.preprocess=channel_norm"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.name[:6] == "resnet" {
				t.Skip("ResNet-20 runs take seconds")
			}
			var refMetrics []byte
			var ref *checkpoint
			for _, threads := range threadCounts {
				cfg := tinyConfig(t, fixtureDir, append(slices.Clone(tc.sets), fmt.Sprintf("threads=%d", threads), "train.checkpoint_every=0")...)
				dir := filepath.Join(t.TempDir(), fmt.Sprint(threads))
				if _, err := runTo(t, cfg, dir, false, nil); err != nil {
					t.Fatalf("threads %d: %v", threads, err)
				}
				m := read(t, filepath.Join(dir, results.MetricsFile))
				c, err := loadCheckpoint(filepath.Join(dir, ModelFile))
				if err != nil || c == nil {
					t.Fatalf("threads %d: final model: %v", threads, err)
				}
				if ref == nil {
					refMetrics, ref = m, c
					continue
				}
				if !bytes.Equal(m, refMetrics) {
					t.Errorf("threads %d: metrics.csv differs from threads 1:\n%s\nwant\n%s", threads, m, refMetrics)
				}
				for _, part := range []struct {
					what      string
					got, want map[string][]float32
				}{{"weight", c.Params, ref.Params}, {"BatchNorm mean", c.BNMean, ref.BNMean}, {"BatchNorm variance", c.BNVar, ref.BNVar}} {
					if name, i := firstDiff(part.got, part.want); name != "" {
						t.Errorf("threads %d: %s %s[%d] = %v, threads 1 gave %v", threads, part.what, name, i, part.got[name][i], part.want[name][i])
					}
				}
			}
		})
	}
}

// firstDiff returns the first (by name) tensor and index where a and b
// differ in any bit, or "" when they are the same.
func firstDiff(a, b map[string][]float32) (string, int) {
	var names []string
	for name := range b {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		x, y := a[name], b[name]
		if len(x) != len(y) {
			return name, min(len(x), len(y))
		}
		for i := range y {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				return name, i
			}
		}
	}
	return "", 0
}
