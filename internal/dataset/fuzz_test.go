package dataset

import (
	"bytes"
	"math"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
	"github.com/dropexp/dropexp/internal/matfile"
)

// FuzzCIFAR checks that no input makes readCIFARRecords panic or return a
// set whose sizes disagree.
func FuzzCIFAR(f *testing.F) {
	labels, pix := cifarRecords(0, 2)
	rec := append([]byte{labels[0]}, pix[:cifarPixels]...)
	rec = append(rec, labels[1])
	rec = append(rec, pix[cifarPixels:]...)
	f.Add(rec, int64(len(rec)))
	f.Add(rec[:100], int64(cifarRecord)) // short data
	f.Add([]byte{10}, int64(1))          // bad size
	f.Fuzz(func(t *testing.T, data []byte, size int64) {
		s := newCIFARSet(CIFAR10Classes)
		err := readCIFARRecords(bytes.NewReader(data), size, "fuzz", s)
		if err != nil {
			return
		}
		if len(s.Images) != s.Len()*cifarPixels || int64(s.Len())*cifarRecord != size {
			t.Fatalf("size %d gave %d labels and %d pixel bytes", size, s.Len(), len(s.Images))
		}
		for _, l := range s.Labels {
			if l < 0 || l >= 10 {
				t.Fatalf("label %d accepted", l)
			}
		}
	})
}

// FuzzIDX checks that no input makes readIDX panic, accept data that
// disagrees with its header, or allocate beyond the data it was given (or
// past the loader's 1 MiB).
func FuzzIDX(f *testing.F) {
	f.Add(idxBytes(idxImagesMagic, []uint32{2, 2, 3}, make([]byte, 12)), true)
	f.Add(idxBytes(idxImagesMagic, []uint32{2, 2, 3}, make([]byte, 12)), false)
	f.Add(idxBytes(idxLabelsMagic, []uint32{3}, []byte{1, 2, 3}), true)
	f.Add(idxBytes(idxImagesMagic, []uint32{0xffffffff, 0xffffffff, 0xffffffff}, nil), false)
	f.Add(idxBytes(idxImagesMagic, []uint32{60000, 28, 28}, make([]byte, 5)), false)
	// 2^17 · 2^16 · 2^31 = 2^64 wraps to 0 in int64 arithmetic.
	f.Add(idxBytes(idxImagesMagic, []uint32{1 << 17, 1 << 16, 1 << 31}, nil), true)
	f.Fuzz(func(t *testing.T, data []byte, knownSize bool) {
		for _, magic := range []uint32{idxImagesMagic, idxLabelsMagic} {
			size := int64(-1)
			if knownSize {
				size = int64(len(data))
			}
			dims, out, err := readIDX(bytes.NewReader(data), size, "fuzz", magic, newLoader(1<<20))
			if err != nil {
				continue
			}
			n, overflow := 1, false
			for _, d := range dims {
				if d != 0 && n > math.MaxInt/d {
					overflow = true
				}
				n *= d
			}
			if len(dims) != int(magic&0xff) || overflow || n != len(out) || len(out) > len(data) {
				t.Fatalf("magic %#x: dims %v with %d bytes from %d input bytes", magic, dims, len(out), len(data))
			}
		}
	})
}

// FuzzCIFAR100 checks that no input makes readCIFAR100Records panic or
// return a set whose sizes or labels are wrong.
func FuzzCIFAR100(f *testing.F) {
	rec, _, _ := cifar100File(0, 2)
	f.Add(rec, int64(len(rec)), false)
	f.Add(rec, int64(len(rec)), true)
	f.Add(rec[:100], int64(cifar100Record), false) // short data
	f.Add([]byte{20, 100}, int64(2), true)         // bad size
	f.Fuzz(func(t *testing.T, data []byte, size int64, coarse bool) {
		s := newCIFARSet(nil)
		lb := newCIFAR100Labels(coarse)
		if err := readCIFAR100Records(bytes.NewReader(data), size, "fuzz", s, lb, "fix"); err != nil {
			return
		}
		if len(s.Images) != s.Len()*cifarPixels || int64(s.Len())*cifar100Record != size {
			t.Fatalf("size %d gave %d labels and %d pixel bytes", size, s.Len(), len(s.Images))
		}
		for _, l := range s.Labels {
			if l < 0 || int(l) >= lb.n {
				t.Fatalf("label %d accepted with %d classes", l, lb.n)
			}
		}
	})
}

// FuzzSVHN checks that no MAT file makes readSVHN panic or return a set
// whose sizes or labels are wrong.
func FuzzSVHN(f *testing.F) {
	for _, yType := range []matfile.DataType{matfile.Double, matfile.Uint8} {
		for _, opt := range [][2]bool{{false, false}, {true, true}} {
			vars, _ := svhnVars(0, 2, yType)
			data, err := datasettest.EncodeMAT(vars, opt[0], opt[1])
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := readSVHN(bytes.NewReader(data), int64(len(data)), "fuzz", 1<<20)
		if err != nil {
			return
		}
		if s.Len() == 0 || len(s.Images) != s.Len()*svhnPixels || s.Size() != svhnPixels {
			t.Fatalf("%d labels and %d pixel bytes", s.Len(), len(s.Images))
		}
		for _, l := range s.Labels {
			if l < 0 || l >= 10 {
				t.Fatalf("label %d accepted", l)
			}
		}
	})
}
