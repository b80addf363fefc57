//go:build amd64 && !purego

#include "textflag.h"

// func dotsBlocksSIMD(dst []int32, codes []int8, size int, offsets []int32, pairs []uint32)
//
// For each block of 64 rows, eight accumulators hold the rows' sums; for
// each listed pair, its two query codes are broadcast to every int32 lane
// and each 16 bytes of the pair (two codes of eight rows) are sign-extended
// to int16 (VPMOVSXBW), multiplied and summed in pairs into the eight rows'
// int32 lanes (VPMADDWD), and accumulated (VPADDD). dotsBlocks checks the
// shapes; len(dst) is a positive multiple of 64.
TEXT ·dotsBlocksSIMD(SB), NOSPLIT, $0-104
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	SHRQ $6, CX
	MOVQ codes_base+24(FP), SI
	MOVQ size+48(FP), R8
	MOVQ offsets_base+56(FP), R9
	MOVQ offsets_len+64(FP), R10
	MOVQ pairs_base+80(FP), R11
	// R12 is the distance to the same pair two blocks ahead, which the
	// loop prefetches: a sparse query reads a few pairs of each block,
	// gaps that defeat the hardware's prefetcher.
	LEAQ (R8)(R8*1), R12

block:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	XORQ  BX, BX
	TESTQ R10, R10
	JZ    store

pair:
	MOVLQSX      (R9)(BX*4), AX
	VPBROADCASTD (R11)(BX*4), Y15
	LEAQ         (SI)(AX*1), DX
	PREFETCHT0   (DX)(R12*1)
	PREFETCHT0   64(DX)(R12*1)
	VPMOVSXBW    0(DX), Y8
	VPMOVSXBW    16(DX), Y9
	VPMOVSXBW    32(DX), Y10
	VPMOVSXBW    48(DX), Y11
	VPMADDWD     Y15, Y8, Y8
	VPMADDWD     Y15, Y9, Y9
	VPMADDWD     Y15, Y10, Y10
	VPMADDWD     Y15, Y11, Y11
	VPADDD       Y8, Y0, Y0
	VPADDD       Y9, Y1, Y1
	VPADDD       Y10, Y2, Y2
	VPADDD       Y11, Y3, Y3
	VPMOVSXBW    64(DX), Y8
	VPMOVSXBW    80(DX), Y9
	VPMOVSXBW    96(DX), Y10
	VPMOVSXBW    112(DX), Y11
	VPMADDWD     Y15, Y8, Y8
	VPMADDWD     Y15, Y9, Y9
	VPMADDWD     Y15, Y10, Y10
	VPMADDWD     Y15, Y11, Y11
	VPADDD       Y8, Y4, Y4
	VPADDD       Y9, Y5, Y5
	VPADDD       Y10, Y6, Y6
	VPADDD       Y11, Y7, Y7
	INCQ         BX
	CMPQ         BX, R10
	JB           pair

store:
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	VMOVDQU Y4, 128(DI)
	VMOVDQU Y5, 160(DI)
	VMOVDQU Y6, 192(DI)
	VMOVDQU Y7, 224(DI)
	ADDQ    $256, DI
	ADDQ    R8, SI
	DECQ    CX
	JNZ     block

	VZEROUPPER
	RET

// func upperBoundsSIMD(mask []uint64, dots []int32, scales []float32, t, radius, floor float32)
//
// upperBoundsGo's float32 operations, eight rows at a time: x = dot·t·scale,
// y = scale·radius, hi = (x+y) + (|x|+y)·2^-16 + 2^-118, and a bit for each
// row whose hi >= floor (VCMPPS GE_OS: false for NaN, as Go's >= is).
// upperBounds checks the shapes; len(dots) is a positive multiple of 64.
TEXT ·upperBoundsSIMD(SB), NOSPLIT, $0-84
	MOVQ         mask_base+0(FP), DI
	MOVQ         dots_base+24(FP), SI
	MOVQ         dots_len+32(FP), R12
	SHRQ         $6, R12
	MOVQ         scales_base+48(FP), DX
	VBROADCASTSS t+72(FP), Y10
	VBROADCASTSS radius+76(FP), Y11
	VBROADCASTSS floor+80(FP), Y12
	MOVL         $0x7fffffff, AX
	MOVL         AX, X13
	VPBROADCASTD X13, Y13
	MOVL         $0x37800000, AX // 2^-16
	MOVL         AX, X14
	VPBROADCASTD X14, Y14
	MOVL         $0x04800000, AX // 2^-118
	MOVL         AX, X15
	VPBROADCASTD X15, Y15

word:
	XORQ R9, R9 // the word's bits
	XORQ CX, CX // where the next group's eight bits go: 0, 8, ..., 56

group:
	VCVTDQ2PS (SI), Y0
	VMULPS    Y10, Y0, Y0
	VMULPS    (DX), Y0, Y0  // x
	VMULPS    (DX), Y11, Y1 // y
	VANDPS    Y13, Y0, Y2
	VADDPS    Y1, Y2, Y2
	VMULPS    Y14, Y2, Y2
	VADDPS    Y1, Y0, Y0
	VADDPS    Y2, Y0, Y0
	VADDPS    Y15, Y0, Y0
	VCMPPS    $0x0D, Y12, Y0, Y0
	VMOVMSKPS Y0, AX
	SHLQ      CX, AX
	ORQ       AX, R9
	ADDQ      $32, SI
	ADDQ      $32, DX
	ADDQ      $8, CX
	CMPQ      CX, $64
	JB        group

	MOVQ R9, (DI)
	ADDQ $8, DI
	DECQ R12
	JNZ  word

	VZEROUPPER
	RET
