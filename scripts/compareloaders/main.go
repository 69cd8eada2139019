// Command compareloaders checks that two data sets hold the same labelled
// images (as multisets, order ignored): e.g. the JPEG image folder and its
// conversion to the CIFAR-10 binary layout by ../shared/tools/jpeg2cifarbin.
//
//	go run ./scripts/compareloaders imagefolder ../shared/data/cifar10-jpeg.tar.xz cifar10 /tmp/cifar-bin
package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"slices"

	"github.com/dropexp/dropexp/internal/dataset"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: compareloaders NAME1 PATH1 NAME2 PATH2")
		os.Exit(2)
	}
	a, err := dataset.Load(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	b, err := dataset.Load(os.Args[3], os.Args[4])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	same := true
	for _, split := range []struct {
		name string
		x, y *dataset.Set
	}{{"train", a.Train, b.Train}, {"test", a.Test, b.Test}} {
		ka, kb := keys(split.x), keys(split.y)
		eq := slices.Equal(ka, kb)
		same = same && eq
		ma, mb := dataset.MeanImage(split.x), dataset.MeanImage(split.y)
		fmt.Printf("%s: %d vs %d images, identical (label, pixels) multisets: %v, mean images equal: %v\n",
			split.name, split.x.Len(), split.y.Len(), eq, slices.Equal(ma, mb))
	}
	if !same {
		os.Exit(1)
	}
}

// keys returns the sorted hashes of every (label, pixels) pair.
func keys(s *dataset.Set) []string {
	out := make([]string, s.Len())
	for i := range out {
		h := sha256.New()
		h.Write([]byte{byte(s.Labels[i])})
		h.Write(s.Image(i))
		out[i] = string(h.Sum(nil))
	}
	slices.Sort(out)
	return out
}
