// Package tile holds the assembly inner loops of the direct convolution
// (kept apart from package kernels because Go does not allow assembly in a
// package that uses cgo, as the OpenBLAS build does).
package tile
