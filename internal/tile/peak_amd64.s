//go:build amd64 && !noasm

#include "textflag.h"

// PEAK12 is one round of Peak: twelve independent chains.
#define PEAK12(R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11, M, A) \
	VFMADD231PS M, A, R0 \
	VFMADD231PS M, A, R1 \
	VFMADD231PS M, A, R2 \
	VFMADD231PS M, A, R3 \
	VFMADD231PS M, A, R4 \
	VFMADD231PS M, A, R5 \
	VFMADD231PS M, A, R6 \
	VFMADD231PS M, A, R7 \
	VFMADD231PS M, A, R8 \
	VFMADD231PS M, A, R9 \
	VFMADD231PS M, A, R10 \
	VFMADD231PS M, A, R11

// func peak512(iters int)
//
// The Go loop: peak(iters, 16) in tile.go (the register values differ; no
// result is kept).
TEXT ·peak512(SB), NOSPLIT, $0-8
	MOVQ iters+0(FP), CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	TESTQ CX, CX
	JLE done512

loop512:
	PEAK12(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13)
	DECQ CX
	JNZ loop512

done512:
	VZEROUPPER
	RET

// func peak256(iters int)
//
// The Go loop: peak(iters, 8) in tile.go.
TEXT ·peak256(SB), NOSPLIT, $0-8
	MOVQ iters+0(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	TESTQ CX, CX
	JLE done256

loop256:
	PEAK12(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13)
	DECQ CX
	JNZ loop256

done256:
	VZEROUPPER
	RET
