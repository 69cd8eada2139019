//go:build amd64 && !noasm

#include "textflag.h"

// func epsAsm(dst *float32, vectors int, hi, lo *[8]uint64, step *[4]uint64, thresh, kept uint32, multiply bool)
//
// epsGo (pcg.go) eight outputs at a time. Per vector, with the lanes'
// states (hi, lo) in Z0, Z1:
//
//	out = hi ^ hi>>32; out *= cheapMul; out ^= out>>48; out *= lo|1   (DXSM)
//	ε[16 lanes of 32 bits] = out's halves, low first: kept where below thresh, else +0
//	(hi, lo) = (hi, lo)·m + c mod 2¹²⁸, the high half of lo·m.lo from four 32-bit products:
//	  t = lo0·m0; u = lo1·m0 + t>>32; v = lo0·m1 + (u & 0xffffffff); high = lo1·m1 + u>>32 + v>>32
TEXT ·epsAsm(SB), NOSPLIT, $0-49
	MOVQ dst+0(FP), DI
	MOVQ vectors+8(FP), CX
	MOVQ hi+16(FP), AX
	MOVQ lo+24(FP), BX
	MOVQ step+32(FP), DX
	VMOVDQU64 (AX), Z0
	VMOVDQU64 (BX), Z1
	VPBROADCASTQ (DX), Z21     // m.hi
	VPBROADCASTQ 8(DX), Z20    // m.lo
	VPBROADCASTQ 16(DX), Z23   // c.hi
	VPBROADCASTQ 24(DX), Z22   // c.lo
	VPSRLQ $32, Z20, Z24       // m.lo >> 32
	MOVQ $0xffffffff, R8
	VPBROADCASTQ R8, Z25
	MOVQ $0xda942042e4dd58b5, R8
	VPBROADCASTQ R8, Z26
	MOVQ $1, R8
	VPBROADCASTQ R8, Z27
	MOVL thresh+40(FP), R8
	VPBROADCASTD R8, Z28
	MOVL kept+44(FP), R8
	VPBROADCASTD R8, Z29
	MOVBQZX multiply+48(FP), R9

loop:
	// DXSM of the current states.
	VPSRLQ $32, Z0, Z3
	VPXORQ Z3, Z0, Z2
	VPMULLQ Z26, Z2, Z2
	VPSRLQ $48, Z2, Z3
	VPXORQ Z3, Z2, Z2
	VPORQ Z27, Z1, Z4
	VPMULLQ Z4, Z2, Z2
	// ε: kept below thresh, else +0.
	VPCMPUD $1, Z28, Z2, K1
	VMOVDQU32.Z Z29, K1, Z5
	TESTQ R9, R9
	JZ   store
	VMULPS (DI), Z5, Z5

store:
	VMOVUPS Z5, (DI)
	ADDQ $64, DI

	// (hi, lo) = (hi, lo)·m + c.
	VPSRLQ $32, Z1, Z6          // lo1
	VPMULUDQ Z20, Z1, Z7        // t = lo0·m0
	VPMULUDQ Z20, Z6, Z8        // lo1·m0
	VPSRLQ $32, Z7, Z9
	VPADDQ Z9, Z8, Z8           // u
	VPMULUDQ Z24, Z1, Z9        // lo0·m1
	VPANDQ Z25, Z8, Z10
	VPADDQ Z10, Z9, Z9          // v
	VPMULUDQ Z24, Z6, Z10       // lo1·m1
	VPSRLQ $32, Z8, Z8
	VPSRLQ $32, Z9, Z9
	VPADDQ Z8, Z10, Z10
	VPADDQ Z9, Z10, Z10         // high half of lo·m.lo
	VPMULLQ Z20, Z0, Z11        // hi·m.lo
	VPMULLQ Z21, Z1, Z12        // lo·m.hi
	VPMULLQ Z20, Z1, Z13        // low half of lo·m.lo
	VPADDQ Z11, Z10, Z10
	VPADDQ Z12, Z10, Z10
	VPADDQ Z23, Z10, Z10        // + c.hi
	VPADDQ Z22, Z13, Z1         // lo = low + c.lo
	VPCMPUQ $1, Z22, Z1, K2     // carried where lo < c.lo
	VPADDQ Z27, Z10, K2, Z10
	VMOVDQA64 Z10, Z0
	DECQ CX
	JNZ  loop

	VMOVDQU64 Z0, (AX)
	VMOVDQU64 Z1, (BX)
	VZEROUPPER
	RET
