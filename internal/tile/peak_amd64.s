//go:build amd64 && !noasm

#include "textflag.h"

// ZERO14 clears the fourteen registers Peak uses, so that no chain
// starts from a denormal or NaN left by the caller.
#define ZERO14(R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11, M, A) \
	VXORPS R0, R0, R0 \
	VXORPS R1, R1, R1 \
	VXORPS R2, R2, R2 \
	VXORPS R3, R3, R3 \
	VXORPS R4, R4, R4 \
	VXORPS R5, R5, R5 \
	VXORPS R6, R6, R6 \
	VXORPS R7, R7, R7 \
	VXORPS R8, R8, R8 \
	VXORPS R9, R9, R9 \
	VXORPS R10, R10, R10 \
	VXORPS R11, R11, R11 \
	VXORPS M, M, M \
	VXORPS A, A, A

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
	ZERO14(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13)
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
	ZERO14(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13)
	TESTQ CX, CX
	JLE done256

loop256:
	PEAK12(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13)
	DECQ CX
	JNZ loop256

done256:
	VZEROUPPER
	RET
