// Package matfile reads MATLAB level-5 MAT files, the format MATLAB writes
// with save -v6 and save -v7: the 128-byte header in either byte order,
// plain and zlib-compressed (miCOMPRESSED) data elements, the small data
// element format, and the numeric, logical and char arrays among the
// variables, whatever smaller type MATLAB chose to store their values in.
// Cell, struct, object and sparse arrays are listed by name, class and size
// but their contents are skipped.
//
// Every size in a file is checked against the data actually present before
// memory is reserved for it, and decompressed data is read incrementally up
// to Reader.Limit, so a truncated or hostile file gives an error, never a
// crash or an allocation out of proportion to the file.
package matfile

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// DefaultLimit is the most bytes one variable, or one compressed element
// after decompression, may hold unless Reader.Limit says otherwise. It is
// well above the largest SVHN file (extra_32x32.mat, 1.6 GB of pixels).
const DefaultLimit = 4 << 30

// HeaderSize is the size of the header that starts every level-5 file.
const HeaderSize = 128

// Version is the version field of a level-5 file.
const Version = 0x0100

// Header is the header of a MAT file.
type Header struct {
	Text         string           // descriptive text, trailing spaces and NULs removed
	SubsysOffset uint64           // offset of subsystem data; 0 or all spaces if none
	Version      uint16           // always 0x0100 for level 5
	ByteOrder    binary.ByteOrder // byte order of every number in the file
}

// Var is one variable (one array) of a MAT file.
type Var struct {
	Name    string
	Class   Class
	Dims    []int // at least two; values are in column-major order
	Complex bool
	Global  bool
	Logical bool

	// Type is the data type the real part is stored as, which may be
	// smaller than the class: MATLAB stores a double array of small
	// integers as miUINT8. It is 0 for classes whose contents are skipped.
	Type DataType

	order  binary.ByteOrder
	re, im []byte // raw values as stored, Len()*Type.Size() bytes each
}

// Len returns the number of elements of v, the product of its dimensions.
func (v *Var) Len() int {
	n := 1
	for _, d := range v.Dims {
		n *= d
	}
	return n
}

// Float64 returns the values of the real part of v in column-major order,
// converted from the type they are stored as. Values of int64 or uint64
// beyond 2^53 lose precision.
func (v *Var) Float64() ([]float64, error) {
	if err := v.checkValues(); err != nil {
		return nil, err
	}
	return decode(v.re, v.Type, v.order), nil
}

// ImagFloat64 returns the imaginary part of a complex v like Float64.
func (v *Var) ImagFloat64() ([]float64, error) {
	if err := v.checkValues(); err != nil {
		return nil, err
	}
	if !v.Complex {
		return nil, fmt.Errorf("matfile: variable %q is real; it has no imaginary part", v.Name)
	}
	return decode(v.im, v.Type, v.order), nil
}

// Uint8 returns the values of the real part of v in column-major order as
// bytes; it fails unless every value is an integer in 0..255. When they are
// stored as miUINT8 the result shares memory with v.
func (v *Var) Uint8() ([]uint8, error) {
	if err := v.checkValues(); err != nil {
		return nil, err
	}
	if v.Type == Uint8 || v.Type == UTF8 {
		return v.re, nil
	}
	f := decode(v.re, v.Type, v.order)
	out := make([]uint8, len(f))
	for i, x := range f {
		if !(x >= 0 && x <= 255) || x != math.Trunc(x) {
			return nil, fmt.Errorf("matfile: variable %q (%s stored as %s): element %d is %v, want an integer in 0..255",
				v.Name, v.Class, v.Type, i, x)
		}
		out[i] = uint8(x)
	}
	return out, nil
}

func (v *Var) checkValues() error {
	if v.Type == 0 {
		return fmt.Errorf("matfile: variable %q is a %s array; only numeric, logical and char arrays have values to read", v.Name, v.Class)
	}
	return nil
}

// decode converts the n = len(b)/t.Size() values in b to float64.
func decode(b []byte, t DataType, o binary.ByteOrder) []float64 {
	sz := t.Size()
	out := make([]float64, len(b)/sz)
	// The switch is outside the loops: the pixel arrays are large.
	switch t {
	case Int8:
		for i := range out {
			out[i] = float64(int8(b[i]))
		}
	case Uint8, UTF8:
		for i := range out {
			out[i] = float64(b[i])
		}
	case Int16:
		for i := range out {
			out[i] = float64(int16(o.Uint16(b[2*i:])))
		}
	case Uint16, UTF16:
		for i := range out {
			out[i] = float64(o.Uint16(b[2*i:]))
		}
	case Int32:
		for i := range out {
			out[i] = float64(int32(o.Uint32(b[4*i:])))
		}
	case Uint32, UTF32:
		for i := range out {
			out[i] = float64(o.Uint32(b[4*i:]))
		}
	case Single:
		for i := range out {
			out[i] = float64(math.Float32frombits(o.Uint32(b[4*i:])))
		}
	case Double:
		for i := range out {
			out[i] = math.Float64frombits(o.Uint64(b[8*i:]))
		}
	case Int64:
		for i := range out {
			out[i] = float64(int64(o.Uint64(b[8*i:])))
		}
	case Uint64:
		for i := range out {
			out[i] = float64(o.Uint64(b[8*i:]))
		}
	}
	return out
}

// Reader reads the variables of a MAT file in the order they are stored.
type Reader struct {
	// Limit is the most bytes of data one variable, or one compressed
	// element after decompression, may hold; 0 means DefaultLimit.
	Limit int64

	src   *source
	hdr   Header
	queue []*Var // read from a compressed element, not yet returned
	err   error  // sticky: once Next fails it keeps failing
}

// NewReader reads the header of the MAT file in r, which holds size bytes
// (or -1 if unknown). Knowing the size lets a truncated file be reported
// before anything is allocated for it.
func NewReader(r io.Reader, size int64) (*Reader, error) {
	var h [HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("matfile: header: %v (a level-5 MAT file starts with %d header bytes; file empty or truncated?)", err, HeaderSize)
	}
	var order binary.ByteOrder
	switch string(h[126:128]) {
	case "IM":
		order = binary.LittleEndian
	case "MI":
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("matfile: header: endian indicator (bytes 126-127) is %q, want \"IM\" or \"MI\" (not a level-5 MAT file; a level-4 file? save it again in MATLAB with -v7)", h[126:128])
	}
	hdr := Header{
		Text:         strings.TrimRight(string(h[:116]), " \x00"),
		SubsysOffset: order.Uint64(h[116:124]),
		Version:      order.Uint16(h[124:126]),
		ByteOrder:    order,
	}
	if hdr.Version != Version {
		hint := "save it again in MATLAB with -v7"
		if hdr.Version == 0x0200 {
			hint = "a MATLAB 7.3 file is HDF5, which this reader does not read; save it again in MATLAB with -v7"
		}
		return nil, fmt.Errorf("matfile: header: version (bytes 124-125) is %#04x, want %#04x (%s)", hdr.Version, Version, hint)
	}
	remain := int64(-1)
	if size >= 0 {
		remain = size - HeaderSize
	}
	return &Reader{src: &source{r: r, remain: remain, off: HeaderSize, order: order}, hdr: hdr}, nil
}

// Header returns the header of the file.
func (r *Reader) Header() Header { return r.hdr }

// Next returns the next variable of the file, or io.EOF after the last.
func (r *Reader) Next() (*Var, error) {
	if r.err != nil {
		return nil, r.err
	}
	for len(r.queue) == 0 {
		if err := r.readElement(); err != nil {
			r.err = err
			return nil, err
		}
	}
	v := r.queue[0]
	r.queue[0] = nil
	r.queue = r.queue[1:]
	return v, nil
}

// ReadAll returns the remaining variables of the file.
func (r *Reader) ReadAll() ([]*Var, error) {
	var vars []*Var
	for {
		v, err := r.Next()
		if err == io.EOF {
			return vars, nil
		}
		if err != nil {
			return vars, err
		}
		vars = append(vars, v)
	}
}

func (r *Reader) limit() int64 {
	if r.Limit > 0 {
		return r.Limit
	}
	return DefaultLimit
}

// readElement reads one top-level data element and queues its variables.
func (r *Reader) readElement() error {
	s := r.src
	start := s.off
	t, n, small, err := s.tag()
	where := fmt.Sprintf("offset %d", start)
	if err == io.EOF {
		return err
	}
	if err != nil {
		return fmt.Errorf("matfile: %s: %v", where, err)
	}
	if small != nil && (t == Matrix || t == Compressed) {
		return fmt.Errorf("matfile: %s: %s element in the small element format, which only plain values use (file corrupt?)", where, t)
	}
	switch t {
	case Matrix:
		if s.remain >= 0 && n > s.remain {
			return fmt.Errorf("matfile: %s: %s element of %d bytes, but only %d bytes follow (file truncated? download or save it again)", where, t, n, s.remain)
		}
		v, err := r.readMatrix(s, n, where)
		if err != nil {
			return err
		}
		// Elements are padded to 8 bytes; a file may end without the last padding.
		if err := s.skipPad(n); err != nil {
			return fmt.Errorf("matfile: %s: padding after %s element: %v", where, t, err)
		}
		if v != nil {
			r.queue = append(r.queue, v)
		}
		return nil
	case Compressed:
		if s.remain >= 0 && n > s.remain {
			return fmt.Errorf("matfile: %s: %s element of %d bytes, but only %d bytes follow (file truncated? download or save it again)", where, t, n, s.remain)
		}
		return r.readCompressed(s, n, where)
	}
	return fmt.Errorf("matfile: %s: element of type %s, want %s or %s at the top level of a MAT file (file corrupt?)", where, t, Matrix, Compressed)
}

// readCompressed reads a compressed element of n bytes: a zlib stream of
// further data elements.
func (r *Reader) readCompressed(s *source, n int64, where string) error {
	lr := &io.LimitedReader{R: s.r, N: n}
	zr, err := zlib.NewReader(bufio.NewReader(lr))
	if err != nil {
		return fmt.Errorf("matfile: %s: %s element: %v (file corrupt or truncated? download or save it again)", where, Compressed, err)
	}
	// The stream may expand far beyond n, so its total is bounded too.
	limit := r.limit()
	inner := &source{r: &capReader{r: zr, n: limit, limit: limit}, remain: -1, order: s.order}
	for {
		start := inner.off
		iwhere := fmt.Sprintf("%s (%s), byte %d of its data", where, Compressed, start)
		t, m, small, err := inner.tag()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("matfile: %s: %v", iwhere, err)
		}
		if t != Matrix || small != nil {
			return fmt.Errorf("matfile: %s: element of type %s, want %s inside %s (file corrupt?)", iwhere, t, Matrix, Compressed)
		}
		if m > limit-inner.off {
			return limitError{fmt.Errorf("matfile: %s: %s element of %d bytes takes the compressed element past the limit of %d bytes of data (not a real data file? raise Reader.Limit if it is)", iwhere, t, m, limit)}
		}
		v, err := r.readMatrix(inner, m, iwhere)
		if err != nil {
			return err
		}
		if err := inner.skipPad(m); err != nil {
			return fmt.Errorf("matfile: %s: padding after %s element: %v", iwhere, t, err)
		}
		if v != nil {
			r.queue = append(r.queue, v)
		}
	}
	// MATLAB ends the zlib stream with the element; anything left belongs
	// to it all the same and is skipped.
	_, err = io.Copy(io.Discard, lr)
	s.off += n
	if s.remain >= 0 {
		s.remain -= n
	}
	if err != nil {
		return fmt.Errorf("matfile: %s: %v", where, err)
	}
	if lr.N > 0 {
		return fmt.Errorf("matfile: %s: %s element of %d bytes ends after %d (file truncated? download or save it again)", where, Compressed, n, n-lr.N)
	}
	return nil
}

// ErrLimit is matched (errors.Is) by the errors for data past
// Reader.Limit, so that a caller can replace their advice with its own.
var ErrLimit = errors.New("data past the reader's limit")

// limitError is an error for data past Reader.Limit.
type limitError struct{ error }

func (e limitError) Is(target error) bool { return target == ErrLimit }
func (e limitError) Unwrap() error        { return e.error }

// capReader reads at most n bytes from r and fails if r holds more.
type capReader struct {
	r        io.Reader
	n, limit int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		var b [1]byte
		if k, err := c.r.Read(b[:]); k == 0 && err != nil {
			return 0, err
		}
		return 0, limitError{fmt.Errorf("data expands to more than the limit of %d bytes (not a real data file? raise Reader.Limit if it is)", c.limit)}
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	k, err := c.r.Read(p)
	c.n -= int64(k)
	return k, err
}

// readMatrix reads the n bytes of content of a matrix element from s and
// returns its variable.
func (r *Reader) readMatrix(s *source, n int64, where string) (*Var, error) {
	if n > r.limit() {
		return nil, limitError{fmt.Errorf("matfile: %s: %s element of %d bytes exceeds the limit of %d bytes per variable (not a real data file? raise Reader.Limit if it is)", where, Matrix, n, r.limit())}
	}
	b, err := s.readN(n)
	if err != nil {
		return nil, fmt.Errorf("matfile: %s: %s element of %d bytes: %w (file truncated? download or save it again)", where, Matrix, n, unexpected(err))
	}
	return parseMatrix(b, s.order, where)
}

// unexpected turns the io.EOF of data that ends early into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// source is a stream of data elements.
type source struct {
	r      io.Reader
	remain int64 // bytes left in r, or -1 if unknown
	off    int64 // offset of the next byte, for messages
	order  binary.ByteOrder
}

func (s *source) read(p []byte) error {
	n, err := io.ReadFull(s.r, p)
	s.off += int64(n)
	if s.remain >= 0 {
		s.remain -= int64(n)
	}
	return err
}

// tag reads the 8-byte tag of a data element: its type and its size. For a
// small element (size at most 4, packed in the tag) the data follows in
// the same 8 bytes and is returned. At the clean end of s it returns io.EOF.
func (s *source) tag() (DataType, int64, []byte, error) {
	var b [8]byte
	if err := s.read(b[:]); err != nil {
		switch {
		case err == io.EOF:
			return 0, 0, nil, io.EOF
		case errors.Is(err, io.ErrUnexpectedEOF):
			return 0, 0, nil, fmt.Errorf("element tag: %v (file truncated? download or save it again)", err)
		case errors.Is(err, zlib.ErrChecksum):
			return 0, 0, nil, fmt.Errorf("end of compressed data: %v (file corrupt? download or save it again)", err)
		}
		return 0, 0, nil, fmt.Errorf("element tag: %v", err)
	}
	t, n, small := splitTag(b[:], s.order)
	if small {
		if n > 4 {
			return 0, 0, nil, fmt.Errorf("small data element of %d bytes, want at most 4 (file corrupt?)", n)
		}
		return t, n, b[4 : 4+n], nil
	}
	return t, n, nil, nil
}

// splitTag decodes an element tag. In the small data element format the
// upper 16 bits of the first word (in file byte order) hold the size.
func splitTag(b []byte, o binary.ByteOrder) (t DataType, n int64, small bool) {
	w := o.Uint32(b)
	if w>>16 != 0 {
		return DataType(w & 0xffff), int64(w >> 16), true
	}
	return DataType(w), int64(o.Uint32(b[4:])), false
}

// readN reads n bytes. Memory grows with the data read, so a size that
// lies costs no more than the data behind it, unless s is known to hold
// the n bytes.
func (s *source) readN(n int64) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("negative size %d", n)
	}
	if s.remain >= n {
		b := make([]byte, n)
		return b, s.read(b)
	}
	const chunk = 1 << 20
	b := make([]byte, 0, min(n, chunk))
	for int64(len(b)) < n {
		if len(b) == cap(b) {
			// Doubling keeps the copies to about the final size; append
			// grows large slices by only a quarter.
			nb := make([]byte, len(b), min(2*int64(cap(b)), n))
			copy(nb, b)
			b = nb
		}
		want := min(int64(cap(b)), n)
		k, err := io.ReadFull(s.r, b[len(b):want])
		s.off += int64(k)
		b = b[:len(b)+k]
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// skipPad skips the padding that follows an element of n bytes to the
// next multiple of 8; a stream ending there instead is accepted.
func (s *source) skipPad(n int64) error {
	pad := (8 - n%8) % 8
	if pad == 0 || s.remain == 0 {
		return nil
	}
	var b [8]byte
	err := s.read(b[:pad])
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}
