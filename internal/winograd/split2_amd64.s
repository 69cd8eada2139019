//go:build amd64 && !noasm

#include "textflag.h"

// The phase split and the output scatter of F(2×2, 5×5) for maps 16 and
// 8 wide (ConvNet-Quick's 5×5 layers), AVX-512: values are moved,
// multiplied by a mask or added to a bias as split2PlaneGo and
// scatter2PlaneGo in transform.go do, so the same bits.

// func split2Plane16(dst *float32, plane, ld int, src, mask *float32, th int, idx *[16]uint32, pad *float32, pld int)
//
// split2PlaneGo for w = 16 (ld = 10): each source row (times mask, and
// copied to pad) is split into its even and odd columns by one permute,
// which go to phases (a, 0) and (a, 1) at row r/2+1 of their planes
// (a = r mod 2), between zeros; rows 0 and th+1 of every phase are zero.
TEXT ·split2Plane16(SB), NOSPLIT, $0-72
	MOVQ dst+0(FP), AX
	MOVQ plane+8(FP), BX
	MOVQ ld+16(FP), CX
	MOVQ src+24(FP), SI
	MOVQ mask+32(FP), DI
	MOVQ th+40(FP), DX
	MOVQ idx+48(FP), R8
	MOVQ pad+56(FP), R9
	MOVQ pld+64(FP), R10
	SHLQ $2, BX
	SHLQ $2, CX
	SHLQ $2, R10
	VMOVDQU32 (R8), Z20
	VPXORD Z31, Z31, Z31
	LEAQ (BX)(BX*2), R12 // 3·plane
	// Row 0 and row th+1 of the four phases.
	MOVQ DX, R13
	INCQ R13
	IMULQ CX, R13
	ADDQ AX, R13
	MOVQ AX, R11
	MOVQ $4, R14

zero16:
	VMOVUPS Y31, (R11)
	MOVQ $0, 32(R11)
	VMOVUPS Y31, (R13)
	MOVQ $0, 32(R13)
	ADDQ BX, R11
	ADDQ BX, R13
	DECQ R14
	JNZ  zero16
	LEAQ (AX)(CX*1), R11 // row 1 of phase (0, 0)

rows16:
	// a = 0: phases (0, 0) and (0, 1)
	VMOVUPS (SI), Z0
	ADDQ $64, SI
	TESTQ DI, DI
	JZ   nm16a
	VMULPS (DI), Z0, Z0
	ADDQ $64, DI

nm16a:
	TESTQ R9, R9
	JZ   np16a
	VMOVUPS Z0, (R9)
	ADDQ R10, R9

np16a:
	VPERMPS Z0, Z20, Z1
	VEXTRACTF64X4 $1, Z1, Y2
	MOVL $0, (R11)
	VMOVUPS Y1, 4(R11)
	MOVL $0, 36(R11)
	MOVL $0, (R11)(BX*1)
	VMOVUPS Y2, 4(R11)(BX*1)
	MOVL $0, 36(R11)(BX*1)

	// a = 1: phases (1, 0) and (1, 1)
	VMOVUPS (SI), Z0
	ADDQ $64, SI
	TESTQ DI, DI
	JZ   nm16b
	VMULPS (DI), Z0, Z0
	ADDQ $64, DI

nm16b:
	TESTQ R9, R9
	JZ   np16b
	VMOVUPS Z0, (R9)
	ADDQ R10, R9

np16b:
	VPERMPS Z0, Z20, Z1
	VEXTRACTF64X4 $1, Z1, Y2
	MOVL $0, (R11)(BX*2)
	VMOVUPS Y1, 4(R11)(BX*2)
	MOVL $0, 36(R11)(BX*2)
	MOVL $0, (R11)(R12*1)
	VMOVUPS Y2, 4(R11)(R12*1)
	MOVL $0, 36(R11)(R12*1)
	ADDQ CX, R11
	DECQ DX
	JNZ  rows16
	VZEROUPPER
	RET

// func split2Plane8(dst *float32, plane, ld int, src, mask *float32, th int, idx *[16]uint32, pad *float32, pld int)
//
// split2PlaneGo for w = 8 (ld = 6): split2Plane16 on rows of 8, the
// permute over Y registers (idx's first 8 lanes).
TEXT ·split2Plane8(SB), NOSPLIT, $0-72
	MOVQ dst+0(FP), AX
	MOVQ plane+8(FP), BX
	MOVQ ld+16(FP), CX
	MOVQ src+24(FP), SI
	MOVQ mask+32(FP), DI
	MOVQ th+40(FP), DX
	MOVQ idx+48(FP), R8
	MOVQ pad+56(FP), R9
	MOVQ pld+64(FP), R10
	SHLQ $2, BX
	SHLQ $2, CX
	SHLQ $2, R10
	VMOVDQU32 (R8), Y20
	VPXORD Z31, Z31, Z31
	LEAQ (BX)(BX*2), R12
	MOVQ DX, R13
	INCQ R13
	IMULQ CX, R13
	ADDQ AX, R13
	MOVQ AX, R11
	MOVQ $4, R14

zero8:
	VMOVUPS X31, (R11)
	MOVQ $0, 16(R11)
	VMOVUPS X31, (R13)
	MOVQ $0, 16(R13)
	ADDQ BX, R11
	ADDQ BX, R13
	DECQ R14
	JNZ  zero8
	LEAQ (AX)(CX*1), R11

rows8:
	VMOVUPS (SI), Y0
	ADDQ $32, SI
	TESTQ DI, DI
	JZ   nm8a
	VMULPS (DI), Y0, Y0
	ADDQ $32, DI

nm8a:
	TESTQ R9, R9
	JZ   np8a
	VMOVUPS Y0, (R9)
	ADDQ R10, R9

np8a:
	VPERMPS Y0, Y20, Y1
	VEXTRACTF128 $1, Y1, X2
	MOVL $0, (R11)
	VMOVUPS X1, 4(R11)
	MOVL $0, 20(R11)
	MOVL $0, (R11)(BX*1)
	VMOVUPS X2, 4(R11)(BX*1)
	MOVL $0, 20(R11)(BX*1)

	VMOVUPS (SI), Y0
	ADDQ $32, SI
	TESTQ DI, DI
	JZ   nm8b
	VMULPS (DI), Y0, Y0
	ADDQ $32, DI

nm8b:
	TESTQ R9, R9
	JZ   np8b
	VMOVUPS Y0, (R9)
	ADDQ R10, R9

np8b:
	VPERMPS Y0, Y20, Y1
	VEXTRACTF128 $1, Y1, X2
	MOVL $0, (R11)(BX*2)
	VMOVUPS X1, 4(R11)(BX*2)
	MOVL $0, 20(R11)(BX*2)
	MOVL $0, (R11)(R12*1)
	VMOVUPS X2, 4(R11)(R12*1)
	MOVL $0, 20(R11)(R12*1)
	ADDQ CX, R11
	DECQ DX
	JNZ  rows8
	VZEROUPPER
	RET

// func scatter2Plane16(dst, y, mask *float32, run, ld, th int, bias float32, hasBias bool, idx *[16]uint32)
//
// scatter2PlaneGo for w = 16: output row 2ty+i is runs y[2i] and
// y[2i+1] (run floats apart) at ty·ld, interleaved by one permute, plus
// bias when hasBias, times mask's row when mask is not nil.
TEXT ·scatter2Plane16(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ y+8(FP), AX
	MOVQ mask+16(FP), R10
	MOVQ run+24(FP), BX
	MOVQ ld+32(FP), CX
	MOVQ th+40(FP), DX
	VBROADCASTSS bias+48(FP), Z30
	MOVBQZX hasBias+52(FP), R9
	MOVQ idx+56(FP), R8
	SHLQ $2, BX
	SHLQ $2, CX
	VMOVDQU32 (R8), Z20
	LEAQ (BX)(BX*2), R12 // 3·run

sc16:
	VMOVUPS (AX), Y0
	VINSERTF64X4 $1, (AX)(BX*1), Z0, Z0
	VMOVUPS (AX)(BX*2), Y1
	VINSERTF64X4 $1, (AX)(R12*1), Z1, Z1
	TESTQ R9, R9
	JZ   nb16
	VADDPS Z30, Z0, Z0
	VADDPS Z30, Z1, Z1

nb16:
	VPERMPS Z0, Z20, Z8
	VPERMPS Z1, Z20, Z9
	TESTQ R10, R10
	JZ   nm16
	VMULPS (R10), Z8, Z8
	VMULPS 64(R10), Z9, Z9
	ADDQ $128, R10

nm16:
	VMOVUPS Z8, (DI)
	VMOVUPS Z9, 64(DI)
	ADDQ $128, DI
	ADDQ CX, AX
	DECQ DX
	JNZ  sc16
	VZEROUPPER
	RET

// func scatter2Plane8(dst, y, mask *float32, run, ld, th int, bias float32, hasBias bool, idx *[16]uint32)
//
// scatter2PlaneGo for w = 8: scatter2Plane16 on rows of 8, over Y
// registers (idx's first 8 lanes).
TEXT ·scatter2Plane8(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ y+8(FP), AX
	MOVQ mask+16(FP), R10
	MOVQ run+24(FP), BX
	MOVQ ld+32(FP), CX
	MOVQ th+40(FP), DX
	VBROADCASTSS bias+48(FP), Y30
	MOVBQZX hasBias+52(FP), R9
	MOVQ idx+56(FP), R8
	SHLQ $2, BX
	SHLQ $2, CX
	VMOVDQU32 (R8), Y20
	LEAQ (BX)(BX*2), R12

sc8:
	VMOVUPS (AX), X0
	VINSERTF128 $1, (AX)(BX*1), Y0, Y0
	VMOVUPS (AX)(BX*2), X1
	VINSERTF128 $1, (AX)(R12*1), Y1, Y1
	TESTQ R9, R9
	JZ   nb8
	VADDPS Y30, Y0, Y0
	VADDPS Y30, Y1, Y1

nb8:
	VPERMPS Y0, Y20, Y8
	VPERMPS Y1, Y20, Y9
	TESTQ R10, R10
	JZ   nm8
	VMULPS (R10), Y8, Y8
	VMULPS 32(R10), Y9, Y9
	ADDQ $64, R10

nm8:
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 32(DI)
	ADDQ $64, DI
	ADDQ CX, AX
	DECQ DX
	JNZ  sc8
	VZEROUPPER
	RET
