package matfile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
)

// readAll reads every variable of the MAT file data, whose size is given
// to the reader if known is true.
func readAll(t *testing.T, data []byte, known bool) ([]*Var, error) {
	t.Helper()
	size := int64(-1)
	if known {
		size = int64(len(data))
	}
	r, err := NewReader(bytes.NewReader(data), size)
	if err != nil {
		return nil, err
	}
	return r.ReadAll()
}

// checkErr fails unless err is non-nil and contains every one of has.
func checkErr(t *testing.T, err error, has ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", has)
	}
	t.Log(err)
	for _, h := range has {
		if !strings.Contains(err.Error(), h) {
			t.Errorf("error %q does not contain %q", err, h)
		}
	}
}

func float64s(t *testing.T, v *Var) []float64 {
	t.Helper()
	f, err := v.Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSciPyFiles reads files written by an independent writer, SciPy's
// savemat (testdata/gen_scipy.py), plain and compressed.
func TestSciPyFiles(t *testing.T) {
	type want struct {
		name    string
		class   Class
		dims    []int
		typ     DataType
		re, im  []float64
		logical bool
	}
	wants := []want{
		{"X", Uint8Class, []int{2, 3, 2}, Uint8, []float64{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110}, nil, false},
		{"y", DoubleClass, []int{3, 1}, Double, []float64{10, 1, 7.5}, nil, false},
		{"neg", Int16Class, []int{1, 2}, Int16, []float64{-3, 4}, nil, false},
		{"z", DoubleClass, []int{1, 2}, Double, []float64{1, -0.5}, []float64{2, -1}, false},
		{"mask", Uint8Class, []int{1, 3}, Uint8, []float64{1, 0, 1}, nil, true},
		{"s", CharClass, []int{1, 2}, UTF8, []float64{'h', 'i'}, nil, false},
		{"st", StructClass, []int{1, 1}, 0, nil, nil, false},
		{"c", CellClass, []int{1, 2}, 0, nil, nil, false},
		{"e", DoubleClass, []int{0, 0}, Double, []float64{}, nil, false},
	}
	for _, file := range []string{"testdata/scipy_plain.mat", "testdata/scipy_compressed.mat"} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			h := r.Header()
			if !strings.HasPrefix(h.Text, "MATLAB 5.0 MAT-file") || h.Version != Version || h.ByteOrder != binary.LittleEndian {
				t.Errorf("header %+v", h)
			}
			vars, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(vars) != len(wants) {
				t.Fatalf("%d variables, want %d", len(vars), len(wants))
			}
			for i, w := range wants {
				v := vars[i]
				if v.Name != w.name || v.Class != w.class || !slices.Equal(v.Dims, w.dims) || v.Type != w.typ ||
					v.Complex != (w.im != nil) || v.Logical != w.logical {
					t.Errorf("variable %d: %s %s %v %s complex=%v logical=%v, want %s %s %v %s complex=%v logical=%v", i,
						v.Name, v.Class, v.Dims, v.Type, v.Complex, v.Logical, w.name, w.class, w.dims, w.typ, w.im != nil, w.logical)
					continue
				}
				if w.typ == 0 {
					if _, err := v.Float64(); err == nil || !strings.Contains(err.Error(), w.class.String()) {
						t.Errorf("%s: Float64 error %v, want one naming the class %s", v.Name, err, w.class)
					}
					continue
				}
				if got := float64s(t, v); !slices.Equal(got, w.re) {
					t.Errorf("%s: values %v, want %v", v.Name, got, w.re)
				}
				if w.im != nil {
					if got, err := v.ImagFloat64(); err != nil || !slices.Equal(got, w.im) {
						t.Errorf("%s: imaginary part %v (%v), want %v", v.Name, got, err, w.im)
					}
				} else if _, err := v.ImagFloat64(); err == nil {
					t.Errorf("%s: ImagFloat64 of a real array gave no error", v.Name)
				}
			}
		})
	}
}

// TestRoundTrip reads back what datasettest.EncodeMAT writes: every
// numeric storage type, both byte orders, plain and compressed, including
// values small enough for the small data element format.
func TestRoundTrip(t *testing.T) {
	vals := []float64{0, 1, 2, 100, 127, 3, 7, 9, 11, 5, 4, 6}
	neg := []float64{-128, -1, 0, 5, 127, -7}
	var vars []datasettest.MATVar
	for _, tc := range []struct {
		typ   DataType
		class Class
		vals  []float64
	}{
		{Uint8, Uint8Class, vals},
		{Uint8, DoubleClass, vals}, // MATLAB's storage of small whole doubles
		{Int8, DoubleClass, neg},
		{Int16, Int16Class, neg},
		{Uint16, DoubleClass, vals},
		{Int32, Int32Class, []float64{-2147483648, 2147483647, 0, 1, -1, 5}},
		{Uint32, Uint32Class, []float64{4294967295, 0, 1, 2, 3, 4}},
		{Single, SingleClass, []float64{0.5, -1.25, 3, 1 << 100, -0, 2}},
		{Double, DoubleClass, []float64{math.Pi, -1e300, math.Inf(1), 0.1, 7.5, -2}},
		{Int64, Int64Class, []float64{-1 << 53, 1 << 53, 0, 1, -1, 2}},
		{Uint64, Uint64Class, []float64{1 << 63, 0, 1, 2, 3, 4}},
	} {
		n := len(tc.vals)
		vars = append(vars, datasettest.MATVar{Name: "v_" + tc.typ.String(), Class: int(tc.class), Type: int(tc.typ), Dims: []int{2, n / 2}, Values: tc.vals})
	}
	// One byte, two bytes, four bytes: small data elements.
	vars = append(vars,
		datasettest.MATVar{Name: "a", Class: int(Uint8Class), Type: int(Uint8), Dims: []int{1, 1}, Values: []float64{200}},
		datasettest.MATVar{Name: "bb", Class: int(Int16Class), Type: int(Int16), Dims: []int{1, 1}, Values: []float64{-300}},
		datasettest.MATVar{Name: "cccc", Class: int(SingleClass), Type: int(Single), Dims: []int{1, 1}, Values: []float64{0.25}},
		datasettest.MATVar{Name: "four", Class: int(DoubleClass), Type: int(Uint8), Dims: []int{1, 4, 1}, Values: []float64{1, 2, 3, 4}},
	)
	for _, big := range []bool{false, true} {
		for _, compressed := range []bool{false, true} {
			for _, known := range []bool{true, false} {
				data, err := datasettest.EncodeMAT(vars, compressed, big)
				if err != nil {
					t.Fatal(err)
				}
				got, err := readAll(t, data, known)
				if err != nil {
					t.Fatalf("big-endian %v, compressed %v, size known %v: %v", big, compressed, known, err)
				}
				if len(got) != len(vars) {
					t.Fatalf("%d variables, want %d", len(got), len(vars))
				}
				for i, w := range vars {
					v := got[i]
					if v.Name != w.Name || int(v.Class) != w.Class || int(v.Type) != w.Type || !slices.Equal(v.Dims, w.Dims) {
						t.Errorf("big-endian %v, compressed %v: %s %s %s %v, want %s class %d type %d %v",
							big, compressed, v.Name, v.Class, v.Type, v.Dims, w.Name, w.Class, w.Type, w.Dims)
						continue
					}
					if f := float64s(t, v); !slices.Equal(f, w.Values) {
						t.Errorf("big-endian %v, compressed %v: %s = %v, want %v", big, compressed, v.Name, f, w.Values)
					}
				}
			}
		}
	}
}

func TestUint8(t *testing.T) {
	for _, tc := range []struct {
		name   string
		typ    DataType
		vals   []float64
		errHas string
	}{
		{"stored as uint8", Uint8, []float64{0, 255, 7, 8}, ""},
		{"stored as double", Double, []float64{0, 255, 7, 8}, ""},
		{"stored as int16", Int16, []float64{0, 255, 7, 8}, ""},
		{"too large", Double, []float64{0, 256, 7, 8}, "element 1 is 256"},
		{"negative", Int16, []float64{0, 1, -1, 8}, "element 2 is -1"},
		{"fraction", Double, []float64{0, 1, 2, 0.5}, "element 3 is 0.5"},
		{"NaN", Double, []float64{math.NaN(), 1, 2, 3}, "element 0 is NaN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := datasettest.EncodeMAT([]datasettest.MATVar{{Name: "X", Class: int(Uint8Class), Type: int(tc.typ), Dims: []int{2, 2}, Values: tc.vals}}, false, false)
			if err != nil {
				t.Fatal(err)
			}
			vars, err := readAll(t, data, true)
			if err != nil {
				t.Fatal(err)
			}
			got, err := vars[0].Uint8()
			if tc.errHas != "" {
				checkErr(t, err, `"X"`, tc.errHas, "0..255")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := make([]uint8, len(tc.vals))
			for i, x := range tc.vals {
				want[i] = uint8(x)
			}
			if !slices.Equal(got, want) {
				t.Errorf("Uint8 = %v, want %v", got, want)
			}
			if tc.typ == Uint8 && &got[0] != &vars[0].re[0] {
				t.Error("Uint8 of miUINT8 data copied it, want shared memory")
			}
		})
	}
}

// matFile is a hand-made file: a header in order o followed by elements.
func matFile(o binary.AppendByteOrder, elems ...[]byte) []byte {
	b := []byte(strings.Repeat(" ", 116))
	b = append(b, make([]byte, 8)...)
	b = o.AppendUint16(b, Version)
	b = o.AppendUint16(b, 'M'<<8|'I')
	for _, e := range elems {
		b = append(b, e...)
	}
	return b
}

// elem is a data element with a full tag, padded to 8 bytes.
func elem(o binary.AppendByteOrder, t DataType, data []byte) []byte {
	b := o.AppendUint32(nil, uint32(t))
	b = o.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	return append(b, make([]byte, (8-len(data)%8)%8)...)
}

// words returns v as int32 or uint32 values in order o.
func words(o binary.AppendByteOrder, v ...int64) []byte {
	var b []byte
	for _, x := range v {
		b = o.AppendUint32(b, uint32(x))
	}
	return b
}

// matrix is a matrix element with the given subelements.
func matrix(o binary.AppendByteOrder, sub ...[]byte) []byte {
	return elem(o, Matrix, bytes.Join(sub, nil))
}

func compress(o binary.AppendByteOrder, data []byte) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	b := o.AppendUint32(nil, uint32(Compressed))
	b = o.AppendUint32(b, uint32(z.Len()))
	return append(b, z.Bytes()...)
}

func TestErrors(t *testing.T) {
	le := binary.LittleEndian
	flags := elem(le, Uint32, words(le, int64(DoubleClass), 0))
	dims := elem(le, Int32, words(le, 2, 1))
	name := elem(le, Int8, []byte("y"))
	good := matrix(le, flags, dims, name, elem(le, Uint8, []byte{1, 2}))
	huge := le.AppendUint32(le.AppendUint32(nil, uint32(Matrix)), 0xfffffff0)
	for _, tc := range []struct {
		name   string
		data   []byte
		limit  int64
		errHas []string
	}{
		{"empty file", nil, 0, []string{"header", "EOF", "128"}},
		{"short header", []byte("MATLAB 5.0"), 0, []string{"header", "unexpected EOF"}},
		{"level 4 file", make([]byte, 200), 0, []string{"endian indicator", `"IM" or "MI"`, "-v7"}},
		{"version 7.3", func() []byte { b := matFile(le); le.PutUint16(b[124:], 0x0200); return b }(), 0, []string{"version", "0x0200", "HDF5", "-v7"}},
		{"truncated matrix", matFile(le, good[:len(good)-9]), 0, []string{"offset 128", "miMATRIX element of 64 bytes", "only 55 bytes follow", "truncated"}},
		{"truncated tag", matFile(le, good, good[:5]), 0, []string{"offset 200", "element tag", "unexpected EOF"}},
		{"huge matrix", matFile(le, huge, make([]byte, 64)), 0, []string{"offset 128", "4294967280 bytes", "only 64 bytes follow"}},
		{"over limit", matFile(le, good), 16, []string{"64 bytes exceeds the limit of 16 bytes", "Reader.Limit"}},
		{"top-level type", matFile(le, elem(le, Double, make([]byte, 8))), 0, []string{"offset 128", "element of type miDOUBLE", "want miMATRIX or miCOMPRESSED"}},
		{"small matrix", matFile(le, le.AppendUint32(le.AppendUint32(nil, 4<<16|uint32(Matrix)), 0)), 0, []string{"miMATRIX element in the small element format"}},
		{"flags type", matFile(le, matrix(le, elem(le, Int32, words(le, 6, 0)), dims, name)), 0, []string{"array flags", "miINT32", "want 8 bytes of miUINT32"}},
		{"one dimension", matFile(le, matrix(le, flags, elem(le, Int32, words(le, 2)), name)), 0, []string{"dimensions are 4 bytes", "at least two"}},
		{"negative dimension", matFile(le, matrix(le, flags, elem(le, Int32, words(le, 2, -1)), name)), 0, []string{"dimension 2 is -1"}},
		{"dimension overflow", matFile(le, matrix(le, flags, elem(le, Int32, words(le, 1<<30, 1<<30, 1<<30)), name)), 0, []string{"too many elements"}},
		{"name type", matFile(le, matrix(le, flags, dims, elem(le, Double, make([]byte, 8)))), 0, []string{"array name is of type miDOUBLE"}},
		{"no real part", matFile(le, matrix(le, flags, dims, name)), 0, []string{`variable "y"`, "real part", "matrix data ends"}},
		{"real part size", matFile(le, matrix(le, flags, dims, name, elem(le, Uint8, []byte{1, 2, 3}))), 0, []string{`variable "y" (double, dimensions [2 1])`, "3 bytes of miUINT8, want 2 for 2 elements"}},
		{"real part type", matFile(le, matrix(le, flags, dims, name, elem(le, Matrix, make([]byte, 2)))), 0, []string{"real part is of type miMATRIX", "numeric"}},
		{"subelement too long", matFile(le, matrix(le, flags, dims, name, le.AppendUint32(le.AppendUint32(nil, uint32(Uint8)), 99))), 0, []string{"real part", "99 bytes", "0 bytes left"}},
		{"small subelement over 4 bytes", matFile(le, matrix(le, flags, dims, le.AppendUint32(le.AppendUint32(nil, 9<<16|uint32(Int8)), 0))), 0, []string{"array name", "small data element of 9 bytes"}},
		{"small tag over 4 bytes", matFile(le, le.AppendUint32(le.AppendUint32(nil, 9<<16|uint32(Int8)), 0)), 0, []string{"offset 128", "small data element of 9 bytes"}},
		{"imaginary type", matFile(le, matrix(le, elem(le, Uint32, words(le, int64(DoubleClass)|0x800, 0)), dims, name, elem(le, Uint8, []byte{1, 2}), elem(le, Int16, []byte{1, 2, 3, 4}))), 0, []string{"imaginary part is stored as miINT16 but the real part as miUINT8"}},
		{"not zlib", matFile(le, elem(le, Compressed, []byte("not zlib data"))[:8+13]), 0, []string{"offset 128", "miCOMPRESSED", "zlib"}},
		{"truncated compressed", func() []byte { c := compress(le, good); return matFile(le, c[:len(c)-4]) }(), 0, []string{"miCOMPRESSED element of", "only"}},
		{"compressed non-matrix", matFile(le, compress(le, elem(le, Double, make([]byte, 8)))), 0, []string{"miCOMPRESSED", "element of type miDOUBLE, want miMATRIX"}},
		{"compressed over limit", matFile(le, compress(le, bytes.Repeat(good, 10))), 100, []string{"miCOMPRESSED", "byte 72 of its data", "past the limit of 100 bytes"}},
		{"compressed past limit", matFile(le, compress(le, bytes.Repeat(good, 2))), 76, []string{"miCOMPRESSED", "byte 72 of its data", "expands to more than the limit of 76 bytes"}},
		{"compressed huge matrix", matFile(le, compress(le, append(huge, make([]byte, 1000)...))), 0, []string{"miCOMPRESSED", "byte 0 of its data", "unexpected EOF"}},
		{"compressed bad checksum", func() []byte { c := compress(le, good); c[len(c)-1] ^= 1; return matFile(le, c) }(), 0, []string{"checksum"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, known := range []bool{true, false} {
				size := int64(-1)
				if known {
					size = int64(len(tc.data))
				}
				r, err := NewReader(bytes.NewReader(tc.data), size)
				if err == nil {
					r.Limit = tc.limit
					_, err = r.ReadAll()
				}
				if !known && strings.Contains(tc.name, "truncated") || !known && tc.name == "huge matrix" {
					// Without the size the same files fail while reading.
					if err == nil {
						t.Fatal("size unknown: no error")
					}
					continue
				}
				checkErr(t, err, tc.errHas...)
			}
		})
	}
}

// TestNextEnd checks that Next returns io.EOF, not an error, after the
// last variable (and again when called again), and keeps returning the
// same error after one.
func TestNextEnd(t *testing.T) {
	data, err := datasettest.EncodeMAT([]datasettest.MATVar{{Name: "a", Class: int(DoubleClass), Type: int(Double), Dims: []int{1, 1}, Values: []float64{1}}}, false, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Header().ByteOrder != binary.BigEndian {
		t.Errorf("byte order %v, want big-endian", r.Header().ByteOrder)
	}
	if v, err := r.Next(); err != nil || v.Name != "a" {
		t.Fatalf("Next = %v, %v", v, err)
	}
	for range 2 {
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("Next at end = %v, want io.EOF", err)
		}
	}
	bad, err := NewReader(bytes.NewReader(data[:len(data)-3]), -1)
	if err != nil {
		t.Fatal(err)
	}
	_, err1 := bad.Next()
	_, err2 := bad.Next()
	if err1 == nil || err1 != err2 {
		t.Errorf("Next on a truncated file: %v then %v, want the same error twice", err1, err2)
	}
}

// TestHostileSizes checks that sizes announced by a file cost no memory
// beyond the data behind them, when the file's size is unknown (a stream)
// and inside compressed elements, whose expanded size nothing bounds.
func TestHostileSizes(t *testing.T) {
	le := binary.LittleEndian
	huge := le.AppendUint32(le.AppendUint32(nil, uint32(Matrix)), 0xfffffff0)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"plain", matFile(le, huge, make([]byte, 1000))},
		{"compressed", matFile(le, compress(le, append(huge, make([]byte, 1000)...)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := readAll(t, tc.data, false)
			runtime.ReadMemStats(&after)
			if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "unexpected EOF") {
				t.Errorf("error %v, want unexpected EOF", err)
			}
			if d := after.TotalAlloc - before.TotalAlloc; d > 4<<20 {
				t.Errorf("allocated %d bytes for a %d-byte file", d, len(tc.data))
			}
		})
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		got, want string
		size      int
	}{
		{Uint8.String(), "miUINT8", Uint8.Size()},
		{Double.String(), "miDOUBLE", Double.Size() / 8},
		{DataType(8).String(), "data type 8", DataType(8).Size() + 1},
		{Matrix.String(), "miMATRIX", Matrix.Size() + 1},
		{Uint8Class.String(), "uint8", 1},
		{DoubleClass.String(), "double", 1},
		{Class(99).String(), "class 99", 1},
	} {
		if tc.got != tc.want || tc.size != 1 {
			t.Errorf("%q (size check %d), want %q", tc.got, tc.size, tc.want)
		}
	}
}
