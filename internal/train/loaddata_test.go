package train

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
)

// labelCounts counts the labels of n classes.
func labelCounts(labels []int32, n int) []int {
	c := make([]int, n)
	for _, l := range labels {
		c[l]++
	}
	return c
}

// TestLoadDataLimitIsStratified is the tester's case: an image folder is
// sorted by class, and a limit that took the first N images trained on
// the first class alone. The subset keeps the class proportions and is
// the same for every training seed.
func TestLoadDataLimitIsStratified(t *testing.T) {
	dir := t.TempDir()
	if err := datasettest.WriteImageFolder(dir, []string{"a", "b", "c"}, 10, 4, 4, 1); err != nil {
		t.Fatal(err)
	}
	var first []uint8
	for _, seed := range []string{"1", "2"} {
		cfg := tinyConfig(t, dir, "dataset.name=imagefolder", "dataset.train_limit=6", "dataset.test_limit=3", "seed="+seed)
		sp, err := LoadData(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := labelCounts(sp.Train.Labels, 3); !slices.Equal(got, []int{2, 2, 2}) {
			t.Errorf("seed %s: training class counts %v, want [2 2 2]", seed, got)
		}
		if got := labelCounts(sp.Test.Labels, 3); !slices.Equal(got, []int{1, 1, 1}) {
			t.Errorf("seed %s: test class counts %v, want [1 1 1]", seed, got)
		}
		if first == nil {
			first = sp.Train.Images
		} else if !bytes.Equal(first, sp.Train.Images) {
			t.Errorf("seed %s trains on other images than seed 1", seed)
		}
	}
}

// TestRunRefusesDataThatDoesNotFit checks the config-against-data checks:
// a batch larger than the training set (200 images) and a crop padding as
// large as the images are errors before training.
func TestRunRefusesDataThatDoesNotFit(t *testing.T) {
	for _, tc := range []struct {
		set, want string
	}{
		{"train.batch_size=300", "train.batch_size: 300 is larger than the training set of 200 images"},
		{"dataset.crop_pad=40", "dataset.crop_pad: 40 is not smaller than the 32×32 (width×height) images"},
	} {
		_, err := runTo(t, tinyConfig(t, fixtureDir, tc.set), t.TempDir(), false, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--set %s: error %v, want one containing %q", tc.set, err, tc.want)
		}
	}
}
