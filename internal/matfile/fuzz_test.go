package matfile

import (
	"bytes"
	"encoding/binary"
	"os"
	"runtime"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
)

// fuzzLimit is the Reader.Limit of FuzzMAT: small, so that a valid
// compressed stream cannot make memory use depend on the fuzzer's luck.
const fuzzLimit = 64 << 10

// FuzzMAT checks that no input makes the reader panic, return a variable
// whose values disagree with its dimensions, or allocate more than a fixed
// multiple of the input and the limit.
func FuzzMAT(f *testing.F) {
	for _, file := range []string{"testdata/scipy_plain.mat", "testdata/scipy_compressed.mat"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, true)
	}
	pix, labels := datasettest.SVHNImages([]int{0, 1}, 1)
	for _, big := range []bool{false, true} {
		for _, compressed := range []bool{false, true} {
			vars := datasettest.SVHNVars(pix, labels, int(Double))
			vars = append(vars, datasettest.MATVar{Name: "s", Class: int(Int16Class), Type: int(Int16), Dims: []int{1, 1}, Values: []float64{-2}})
			data, err := datasettest.EncodeMAT(vars, compressed, big)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data, !compressed)
		}
	}
	le := binary.LittleEndian
	f.Add(matFile(le, le.AppendUint32(le.AppendUint32(nil, uint32(Matrix)), 0xfffffff0)), false)
	f.Add(matFile(le, compress(le, le.AppendUint32(le.AppendUint32(nil, uint32(Matrix)), 0xfffffff0))), true)
	f.Fuzz(func(t *testing.T, data []byte, known bool) {
		size := int64(-1)
		if known {
			size = int64(len(data))
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r, err := NewReader(bytes.NewReader(data), size)
		if err != nil {
			return
		}
		r.Limit = fuzzLimit
		for {
			v, err := r.Next()
			if err != nil {
				break
			}
			checkVar(t, v)
		}
		runtime.ReadMemStats(&after)
		// Float64 is the largest expansion: 8 bytes per stored byte.
		if d, most := after.TotalAlloc-before.TotalAlloc, uint64(1<<20+40*len(data)+40*fuzzLimit); d > most {
			t.Fatalf("%d input bytes made %d bytes of allocations, want at most %d", len(data), d, most)
		}
	})
}

// checkVar fails unless the values of v agree with its dimensions.
func checkVar(t *testing.T, v *Var) {
	t.Helper()
	if len(v.Dims) < 2 {
		t.Fatalf("%q: dimensions %v, want at least two", v.Name, v.Dims)
	}
	for _, d := range v.Dims {
		if d < 0 {
			t.Fatalf("%q: dimensions %v", v.Name, v.Dims)
		}
	}
	if v.Type == 0 {
		if _, err := v.Float64(); err == nil {
			t.Fatalf("%q: no values but Float64 succeeds", v.Name)
		}
		return
	}
	n := v.Len()
	if len(v.re) != n*v.Type.Size() || v.Complex && len(v.im) != len(v.re) {
		t.Fatalf("%q: %d elements of %s in %d+%d bytes", v.Name, n, v.Type, len(v.re), len(v.im))
	}
	if f, err := v.Float64(); err != nil || len(f) != n {
		t.Fatalf("%q: Float64 gave %d values (%v), want %d", v.Name, len(f), err, n)
	}
	if b, err := v.Uint8(); err == nil && len(b) != n {
		t.Fatalf("%q: Uint8 gave %d values, want %d", v.Name, len(b), n)
	}
}
