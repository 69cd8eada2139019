//go:build openblas

package kernels

/*
#cgo LDFLAGS: -lopenblas
// Declared here rather than via <cblas.h> because Debian puts the header
// under an alternatives path that differs between BLAS flavours.
enum { RowMajor = 101, NoTrans = 111, Trans = 112 };
void cblas_sgemm(int order, int transA, int transB, int m, int n, int k,
                 float alpha, const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc);
void openblas_set_num_threads(int n);
char *openblas_get_corename(void);
*/
import "C"

import "unsafe"

// Backend names the matrix-multiply implementation compiled in.
const Backend = "openblas"

// BLASCore names the kernel core OpenBLAS picked for this CPU at run time
// (or OPENBLAS_CORETYPE forced), e.g. "Haswell" or "SkylakeX": cores
// round differently, so it is part of the kernel set.
func BLASCore() string { return C.GoString(C.openblas_get_corename()) }

func init() {
	// Ops parallelise across the batch themselves; BLAS threads on top of
	// that would oversubscribe the cores.
	C.openblas_set_num_threads(1)
}

func gemm(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := C.int(C.NoTrans), C.int(C.NoTrans)
	if tA {
		ta = C.Trans
	}
	if tB {
		tb = C.Trans
	}
	C.cblas_sgemm(C.RowMajor, ta, tb, C.int(m), C.int(n), C.int(k), 1,
		(*C.float)(unsafe.Pointer(&a[0])), C.int(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.int(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}
