//go:build amd64 && !noasm

#include "textflag.h"

// func expandAsm(dst, src *float32, base *int32, vectors int, idx *[2][16]uint32, mask *[2]uint16)
//
// expandGo on AVX-512: each vector of 16 tiles is permuted to their places
// in the 32 grid positions at its base and stored under a mask of those
// places, so the grid's padding positions keep what they held. The Go
// loop: expandGo in transform.go.
TEXT ·expandAsm(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ base+16(FP), BX
	MOVQ vectors+24(FP), CX
	MOVQ idx+32(FP), AX
	VMOVDQU32 (AX), Z2
	VMOVDQU32 64(AX), Z3
	MOVQ mask+40(FP), AX
	KMOVW (AX), K1
	KMOVW 2(AX), K2

expand:
	MOVLQSX (BX), R8
	LEAQ    (DI)(R8*4), R9
	VMOVUPS (SI), Z0
	VPERMPS Z0, Z2, Z4
	VMOVUPS Z4, K1, (R9)
	VPERMPS Z0, Z3, Z5
	VMOVUPS Z5, K2, 64(R9)
	ADDQ $4, BX
	ADDQ $64, SI
	DECQ CX
	JNZ  expand
	VZEROUPPER
	RET
