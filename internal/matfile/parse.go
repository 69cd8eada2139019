package matfile

import (
	"encoding/binary"
	"fmt"
)

// Array flags in the first word of the array flags subelement.
const (
	flagComplex = 0x0800
	flagGlobal  = 0x0400
	flagLogical = 0x0200
)

// maxElements bounds the product of the dimensions so that it and its
// size in bytes fit in an int64 (and in an int on 64-bit machines).
const maxElements = 1 << 56

// cursor walks the subelements of a matrix element held in memory.
type cursor struct {
	b     []byte
	pos   int
	order binary.ByteOrder
}

// next returns the type and data of the next subelement, in either tag
// format, and steps over its padding to 8 bytes.
func (c *cursor) next(what string) (DataType, []byte, error) {
	if len(c.b)-c.pos < 8 {
		return 0, nil, fmt.Errorf("%s: matrix data ends at byte %d, before this subelement's tag", what, c.pos)
	}
	t, n, small := splitTag(c.b[c.pos:], c.order)
	if small {
		if n > 4 {
			return 0, nil, fmt.Errorf("%s: small data element of %d bytes, want at most 4", what, n)
		}
		d := c.b[c.pos+4 : c.pos+4+int(n)]
		c.pos += 8
		return t, d, nil
	}
	c.pos += 8
	if n > int64(len(c.b)-c.pos) {
		return 0, nil, fmt.Errorf("%s: %s subelement of %d bytes, but the matrix has %d bytes left", what, t, n, len(c.b)-c.pos)
	}
	d := c.b[c.pos : c.pos+int(n)]
	// The padding of the last subelement may be missing; nothing follows it.
	c.pos = min(c.pos+int(n+(8-n%8)%8), len(c.b))
	return t, d, nil
}

// parseMatrix decodes the content b of a matrix element: array flags,
// dimensions, name and, for classes with values, the real and imaginary
// parts. The result shares memory with b.
func parseMatrix(b []byte, order binary.ByteOrder, where string) (*Var, error) {
	if len(b) == 0 {
		// MATLAB writes empty matrix elements as placeholders, e.g. for an
		// empty cell element; they hold no variable.
		return nil, nil
	}
	c := &cursor{b: b, order: order}
	fail := func(err error) (*Var, error) {
		return nil, fmt.Errorf("matfile: %s: %s element: %v (file corrupt?)", where, Matrix, err)
	}
	t, d, err := c.next("array flags")
	if err != nil {
		return fail(err)
	}
	if t != Uint32 || len(d) != 8 {
		return fail(fmt.Errorf("array flags are %d bytes of %s, want 8 bytes of %s", len(d), t, Uint32))
	}
	flags := order.Uint32(d)
	v := &Var{
		Class:   Class(flags & 0xff),
		Complex: flags&flagComplex != 0,
		Global:  flags&flagGlobal != 0,
		Logical: flags&flagLogical != 0,
		order:   order,
	}
	t, d, err = c.next("dimensions")
	if err != nil {
		return fail(err)
	}
	if t != Int32 || len(d)%4 != 0 || len(d) < 8 {
		return fail(fmt.Errorf("dimensions are %d bytes of %s, want at least two %s values", len(d), t, Int32))
	}
	v.Dims = make([]int, len(d)/4)
	n := int64(1)
	for i := range v.Dims {
		k := int32(order.Uint32(d[4*i:]))
		if k < 0 {
			return fail(fmt.Errorf("dimension %d is %d, want 0 or more", i+1, k))
		}
		v.Dims[i] = int(k)
		// Bounded so that Len and the sizes computed from it cannot overflow.
		if k > 0 && n > maxElements/int64(k) {
			return fail(fmt.Errorf("dimensions %v have too many elements", v.Dims[:i+1]))
		}
		n *= int64(k)
	}
	t, d, err = c.next("array name")
	if err != nil {
		return fail(err)
	}
	if t != Int8 && t != Uint8 && t != UTF8 {
		return fail(fmt.Errorf("array name is of type %s, want %s", t, Int8))
	}
	v.Name = string(d)
	if !v.Class.hasValues() {
		// Cell, struct, object and sparse contents are not decoded.
		return v, nil
	}
	fail = func(err error) (*Var, error) {
		return nil, fmt.Errorf("matfile: %s: variable %q (%s, dimensions %v): %v (file corrupt?)", where, v.Name, v.Class, v.Dims, err)
	}
	parts := []*[]byte{&v.re}
	if v.Complex {
		parts = append(parts, &v.im)
	}
	for i, part := range parts {
		what := "real part"
		if i == 1 {
			what = "imaginary part"
		}
		t, d, err = c.next(what)
		if err != nil {
			return fail(err)
		}
		if !t.numeric() && !(v.Class == CharClass && (t == UTF8 || t == UTF16 || t == UTF32)) {
			return fail(fmt.Errorf("%s is of type %s, want a numeric type", what, t))
		}
		if i == 1 && t != v.Type {
			// Decoding both parts with one type keeps Var simple; MATLAB
			// chooses the storage type for the array as a whole.
			return fail(fmt.Errorf("imaginary part is stored as %s but the real part as %s", t, v.Type))
		}
		if int64(len(d)) != n*int64(t.Size()) {
			return fail(fmt.Errorf("%s holds %d bytes of %s, want %d for %d elements", what, len(d), t, n*int64(t.Size()), n))
		}
		v.Type = t
		*part = d
	}
	return v, nil
}
