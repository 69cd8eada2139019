package datasettest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// MAT data types and array classes used by the writers below; the numbers
// are those of the MAT-file format (miUINT8, mxDOUBLE_CLASS, ...).
const (
	matInt8       = 1
	matUint8      = 2
	matInt16      = 3
	matUint16     = 4
	matInt32      = 5
	matUint32     = 6
	matSingle     = 7
	matDouble     = 9
	matInt64      = 12
	matUint64     = 13
	matMatrix     = 14
	matCompressed = 15

	matDoubleClass = 6
	matUint8Class  = 9
)

// MATVar is one numeric array for EncodeMAT.
type MATVar struct {
	Name   string
	Class  int       // array class: 6 double, 9 uint8 (MATLAB's mxDOUBLE_CLASS, mxUINT8_CLASS, ...)
	Type   int       // data type the values are stored as: 2 miUINT8, 9 miDOUBLE, ...
	Dims   []int     // at least two
	Values []float64 // column-major; each must fit Type
}

// EncodeMAT returns a level-5 MAT file holding vars, each in its own
// zlib-compressed element if compressed (as save -v7 writes), with every
// number big-endian if bigEndian. Names and values of at most 4 bytes use
// the small data element format, as MATLAB's writer does.
func EncodeMAT(vars []MATVar, compressed, bigEndian bool) ([]byte, error) {
	var o binary.AppendByteOrder = binary.LittleEndian
	if bigEndian {
		o = binary.BigEndian
	}
	text := fmt.Sprintf("%-116s", "MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Thu Jan  1 00:00:00 1970 (datasettest)")
	out := []byte(text)
	out = append(out, make([]byte, 8)...) // no subsystem data
	out = o.AppendUint16(out, 0x0100)
	// The indicator is 'M'<<8|'I' written in the file's order: "IM" or "MI".
	out = o.AppendUint16(out, 'M'<<8|'I')
	for _, v := range vars {
		m, err := encodeMatrix(v, o)
		if err != nil {
			return nil, err
		}
		if !compressed {
			out = append(out, m...)
			continue
		}
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(m)
		if err := zw.Close(); err != nil {
			return nil, err
		}
		// Compressed elements are not padded: MATLAB starts the next
		// element right after the zlib stream.
		out = o.AppendUint32(out, matCompressed)
		out = o.AppendUint32(out, uint32(z.Len()))
		out = append(out, z.Bytes()...)
	}
	return out, nil
}

// WriteMAT writes EncodeMAT(vars, compressed, bigEndian) to file.
func WriteMAT(file string, vars []MATVar, compressed, bigEndian bool) error {
	data, err := EncodeMAT(vars, compressed, bigEndian)
	if err != nil {
		return err
	}
	return os.WriteFile(file, data, 0o644)
}

// encodeMatrix returns the miMATRIX element of v, tag included.
func encodeMatrix(v MATVar, o binary.AppendByteOrder) ([]byte, error) {
	n := 1
	for _, d := range v.Dims {
		n *= d
	}
	if len(v.Dims) < 2 || n != len(v.Values) {
		return nil, fmt.Errorf("datasettest: MAT variable %q: dimensions %v for %d values (want at least two dimensions whose product is the number of values)", v.Name, v.Dims, len(v.Values))
	}
	vals, err := encodeValues(v.Values, v.Type, o)
	if err != nil {
		return nil, fmt.Errorf("datasettest: MAT variable %q: %v", v.Name, err)
	}
	flags := o.AppendUint32(nil, uint32(v.Class))
	flags = o.AppendUint32(flags, 0)
	var dims []byte
	for _, d := range v.Dims {
		dims = o.AppendUint32(dims, uint32(d))
	}
	var body []byte
	body = appendElement(body, o, matUint32, flags)
	body = appendElement(body, o, matInt32, dims)
	body = appendElement(body, o, matInt8, []byte(v.Name))
	body = appendElement(body, o, v.Type, vals)
	m := o.AppendUint32(nil, matMatrix)
	m = o.AppendUint32(m, uint32(len(body)))
	return append(m, body...), nil
}

// appendElement appends a data element: in the small format if it holds 1
// to 4 bytes, else a full tag and the data padded to 8 bytes.
func appendElement(b []byte, o binary.AppendByteOrder, typ int, data []byte) []byte {
	if n := len(data); n >= 1 && n <= 4 {
		b = o.AppendUint32(b, uint32(n)<<16|uint32(typ))
		var d [4]byte
		copy(d[:], data)
		return append(b, d[:]...)
	}
	b = o.AppendUint32(b, uint32(typ))
	b = o.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	return append(b, make([]byte, (8-len(data)%8)%8)...)
}

// encodeValues stores vals as data type typ.
func encodeValues(vals []float64, typ int, o binary.AppendByteOrder) ([]byte, error) {
	var b []byte
	for _, x := range vals {
		switch typ {
		case matInt8:
			b = append(b, byte(int8(x)))
		case matUint8:
			b = append(b, byte(x))
		case matInt16:
			b = o.AppendUint16(b, uint16(int16(x)))
		case matUint16:
			b = o.AppendUint16(b, uint16(x))
		case matInt32:
			b = o.AppendUint32(b, uint32(int32(x)))
		case matUint32:
			b = o.AppendUint32(b, uint32(x))
		case matSingle:
			b = o.AppendUint32(b, math.Float32bits(float32(x)))
		case matDouble:
			b = o.AppendUint64(b, math.Float64bits(x))
		case matInt64:
			b = o.AppendUint64(b, uint64(int64(x)))
		case matUint64:
			b = o.AppendUint64(b, uint64(x))
		default:
			return nil, fmt.Errorf("data type %d is not a numeric MAT data type", typ)
		}
	}
	return b, nil
}

// SVHNImages returns n 32×32 colour images (C×H×W) of the given digits and
// their SVHN labels (1..10, 10 for digit 0): digit d gets the colour
// pattern of class d.
func SVHNImages(digits []int, seed int64) (pix []uint8, labels []float64) {
	rng := newRand(seed, 73)
	for _, d := range digits {
		pix = append(pix, colourImage(rng, d, 32, 32)...)
		l := float64(d)
		if d == 0 {
			l = 10
		}
		labels = append(labels, l)
	}
	return pix, labels
}

// SVHNVars returns the variables X (uint8, 32×32×3×N, column-major) and y
// (double stored as yType, N×1) of an SVHN file holding the C×H×W images
// pix and labels.
func SVHNVars(pix []uint8, labels []float64, yType int) []MATVar {
	n := len(labels)
	x := make([]float64, len(pix))
	for i := range n {
		for ch := range 3 {
			for r := range 32 {
				for c := range 32 {
					x[r+32*c+1024*ch+3072*i] = float64(pix[3072*i+1024*ch+32*r+c])
				}
			}
		}
	}
	return []MATVar{
		{Name: "X", Class: matUint8Class, Type: matUint8, Dims: []int{32, 32, 3, n}, Values: x},
		{Name: "y", Class: matDoubleClass, Type: yType, Dims: []int{n, 1}, Values: labels},
	}
}

// WriteSVHN writes dir/train_32x32.mat and dir/test_32x32.mat with nTrain
// and nTest images whose digits cycle through 0..9, laid out as the
// official files are (X uint8 32×32×3×N, y double N×1 with 10 for digit 0;
// y is stored as miUINT8, as MATLAB stores small whole numbers), each
// variable zlib-compressed if compressed and big-endian if bigEndian.
func WriteSVHN(dir string, nTrain, nTest int, seed int64, compressed, bigEndian bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for k, f := range []struct {
		name string
		n    int
	}{{"train_32x32.mat", nTrain}, {"test_32x32.mat", nTest}} {
		digits := make([]int, f.n)
		for i := range digits {
			digits[i] = i % 10
		}
		pix, labels := SVHNImages(digits, seed+int64(k))
		if err := WriteMAT(filepath.Join(dir, f.name), SVHNVars(pix, labels, matUint8), compressed, bigEndian); err != nil {
			return err
		}
	}
	return nil
}
