package datasettest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// CIFAR100Coarse returns the coarse label the fixtures give fine label f.
// The official mapping groups unrelated numbers; five consecutive fine
// classes per superclass keep the fixtures simple.
func CIFAR100Coarse(f int) int { return f / 5 }

// cifar100Image returns a 32×32 colour image (C×H×W) of fine class f: the
// 100 classes sit on a 5×5×4 grid of colours, far enough apart to stay
// distinguishable under the noise.
func cifar100Image(rng *rand.Rand, f int) []uint8 {
	col := [3]int{30 + 45*(f%5), 30 + 45*(f/5%5), 30 + 60*(f/25)}
	pix := make([]uint8, 3*32*32)
	for c := range 3 {
		for i := range 32 * 32 {
			pix[c*1024+i] = clamp(col[c] + rng.IntN(41) - 20)
		}
	}
	return pix
}

// WriteCIFAR100 writes dir/cifar-100-binary/ as the official archive holds
// it: train.bin and test.bin with nTrain and nTest records (coarse label,
// fine label, 3072 pixel bytes), the fine labels cycling through 0..99, and
// fine_label_names.txt and coarse_label_names.txt naming the classes
// fine00..fine99 and coarse00..coarse19.
func WriteCIFAR100(dir string, nTrain, nTest int, seed int64) error {
	bdir := filepath.Join(dir, "cifar-100-binary")
	if err := os.MkdirAll(bdir, 0o755); err != nil {
		return err
	}
	rng := newRand(seed, 100)
	for _, f := range []struct {
		name string
		n    int
	}{{"train.bin", nTrain}, {"test.bin", nTest}} {
		data := make([]byte, 0, f.n*3074)
		for i := range f.n {
			fine := i % 100
			data = append(data, byte(CIFAR100Coarse(fine)), byte(fine))
			data = append(data, cifar100Image(rng, fine)...)
		}
		if err := os.WriteFile(filepath.Join(bdir, f.name), data, 0o644); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name, prefix string
		n            int
	}{{"fine_label_names.txt", "fine", 100}, {"coarse_label_names.txt", "coarse", 20}} {
		var b strings.Builder
		for i := range f.n {
			fmt.Fprintf(&b, "%s%02d\n", f.prefix, i)
		}
		// A trailing blank line must not count as a class name.
		b.WriteString("\n")
		if err := os.WriteFile(filepath.Join(bdir, f.name), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
