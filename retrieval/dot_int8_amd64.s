//go:build amd64 && !purego

#include "textflag.h"

// func dotsInt8SIMD(dst []int32, codes []int8, query []int16, stride int)
//
// For each of len(dst) rows, two accumulators take 32 codes per step; the
// caller guarantees len(dst) > 0 and stride a positive multiple of 32.
TEXT ·dotsInt8SIMD(SB), NOSPLIT, $0-80
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ codes_base+24(FP), SI
	MOVQ query_base+48(FP), DX
	MOVQ stride+72(FP), R8

row:
	VPXOR Y0, Y0, Y0
	VPXOR Y2, Y2, Y2
	XORQ  BX, BX

step:
	VPMOVSXBW (SI)(BX*1), Y1
	VPMOVSXBW 16(SI)(BX*1), Y3
	VPMADDWD  (DX)(BX*2), Y1, Y1
	VPMADDWD  32(DX)(BX*2), Y3, Y3
	VPADDD    Y1, Y0, Y0
	VPADDD    Y3, Y2, Y2
	ADDQ      $32, BX
	CMPQ      BX, R8
	JB        step

	// Sum the eight int32 lanes of both accumulators into one.
	VPADDD       Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4E, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xB1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, (DI)

	ADDQ $4, DI
	ADDQ R8, SI
	DECQ CX
	JNZ  row

	VZEROUPPER
	RET
