//go:build amd64 && !noasm

#include "textflag.h"

// func compact8Asm(dst, src *float32, blocks int, idx *[16]uint32)
//
// compact8Go on AVX-512: each block's 16 tiles are lanes of the 32
// positions that hold them, picked by one two-table permute. The Go loop:
// compact8Go in transform.go.
TEXT ·compact8Asm(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ blocks+16(FP), CX
	MOVQ idx+24(FP), AX
	VMOVDQU32 (AX), Z2

compact:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VPERMT2PS Z1, Z2, Z0
	VMOVUPS Z0, (DI)
	ADDQ $144, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  compact
	VZEROUPPER
	RET

// func expand8Asm(dst, src *float32, blocks int, idx *[2][16]uint32, mask *[2]uint16)
//
// expand8Go on AVX-512: each block's 16 tiles are permuted to their places
// in the first 32 positions and stored under a mask of those places, so
// the grid's padding positions keep what they held. The Go loop:
// expand8Go in transform.go.
TEXT ·expand8Asm(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ blocks+16(FP), CX
	MOVQ idx+24(FP), AX
	VMOVDQU32 (AX), Z2
	VMOVDQU32 64(AX), Z3
	MOVQ mask+32(FP), AX
	KMOVW (AX), K1
	KMOVW 2(AX), K2

expand:
	VMOVUPS (SI), Z0
	VPERMPS Z0, Z2, Z4
	VMOVUPS Z4, K1, (DI)
	VPERMPS Z0, Z3, Z5
	VMOVUPS Z5, K2, 64(DI)
	ADDQ $64, SI
	ADDQ $144, DI
	DECQ CX
	JNZ  expand
	VZEROUPPER
	RET
