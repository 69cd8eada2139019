package matfile

import "fmt"

// DataType is the type of a data element, MATLAB's miINT8 to miUTF32.
type DataType uint32

// The data types of MAT level 5; 8, 10 and 11 are reserved.
const (
	Int8       DataType = 1
	Uint8      DataType = 2
	Int16      DataType = 3
	Uint16     DataType = 4
	Int32      DataType = 5
	Uint32     DataType = 6
	Single     DataType = 7
	Double     DataType = 9
	Int64      DataType = 12
	Uint64     DataType = 13
	Matrix     DataType = 14
	Compressed DataType = 15
	UTF8       DataType = 16
	UTF16      DataType = 17
	UTF32      DataType = 18
)

var dataTypeNames = [...]string{
	Int8: "miINT8", Uint8: "miUINT8", Int16: "miINT16", Uint16: "miUINT16",
	Int32: "miINT32", Uint32: "miUINT32", Single: "miSINGLE", Double: "miDOUBLE",
	Int64: "miINT64", Uint64: "miUINT64", Matrix: "miMATRIX", Compressed: "miCOMPRESSED",
	UTF8: "miUTF8", UTF16: "miUTF16", UTF32: "miUTF32",
}

// String returns MATLAB's name of t, e.g. "miUINT8".
func (t DataType) String() string {
	if int(t) < len(dataTypeNames) && dataTypeNames[t] != "" {
		return dataTypeNames[t]
	}
	return fmt.Sprintf("data type %d", uint32(t))
}

// Size returns the bytes of one value of t, or 0 if t holds no plain values.
func (t DataType) Size() int {
	switch t {
	case Int8, Uint8, UTF8:
		return 1
	case Int16, Uint16, UTF16:
		return 2
	case Int32, Uint32, Single, UTF32:
		return 4
	case Double, Int64, Uint64:
		return 8
	}
	return 0
}

// Class is the class of an array, MATLAB's mxCELL_CLASS to mxUINT64_CLASS.
type Class uint8

// The array classes of MAT level 5.
const (
	CellClass   Class = 1
	StructClass Class = 2
	ObjectClass Class = 3
	CharClass   Class = 4
	SparseClass Class = 5
	DoubleClass Class = 6
	SingleClass Class = 7
	Int8Class   Class = 8
	Uint8Class  Class = 9
	Int16Class  Class = 10
	Uint16Class Class = 11
	Int32Class  Class = 12
	Uint32Class Class = 13
	Int64Class  Class = 14
	Uint64Class Class = 15
)

var classNames = [...]string{
	CellClass: "cell", StructClass: "struct", ObjectClass: "object", CharClass: "char",
	SparseClass: "sparse", DoubleClass: "double", SingleClass: "single",
	Int8Class: "int8", Uint8Class: "uint8", Int16Class: "int16", Uint16Class: "uint16",
	Int32Class: "int32", Uint32Class: "uint32", Int64Class: "int64", Uint64Class: "uint64",
}

// String returns the name MATLAB's class() gives c, e.g. "uint8".
func (c Class) String() string {
	if int(c) < len(classNames) && classNames[c] != "" {
		return classNames[c]
	}
	return fmt.Sprintf("class %d", uint8(c))
}

// hasValues reports whether arrays of class c store their values as a real
// part (and an imaginary part if complex) that Var can return.
func (c Class) hasValues() bool { return c == CharClass || (c >= DoubleClass && c <= Uint64Class) }

// numeric reports whether t may store the values of a numeric array.
func (t DataType) numeric() bool {
	switch t {
	case Int8, Uint8, Int16, Uint16, Int32, Uint32, Single, Double, Int64, Uint64:
		return true
	}
	return false
}
