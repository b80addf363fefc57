//go:build amd64 && !purego

#include "textflag.h"

// BLOCK_ROWS is codeBlockRows, 1<<BLOCK_SHIFT.
#define BLOCK_ROWS 4096
#define BLOCK_SHIFT 12

// func dotsBlocksSIMD(dst []int32, codes []int8, size int, offsets []int32, pairs []uint32)
//
// For each block of BLOCK_ROWS rows, its sums in dst start at zero; the
// pairs of columns are then taken two at a time, and one at a time for the
// last: each pair's query codes are broadcast to every int32 lane, and its
// two columns are read from end to end together, 16 bytes of each a step,
// interleaved row by row (VPUNPCKLBW, VPUNPCKHBW), sign-extended to int16
// (VPMOVSXBW), multiplied and summed in pairs into one int32 lane per row
// (VPMADDWD), and added to the rows' sums (VPADDD). dotsBlocks checks the
// shapes; len(dst) is a positive multiple of BLOCK_ROWS.
TEXT ·dotsBlocksSIMD(SB), NOSPLIT, $0-104
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	SHRQ $BLOCK_SHIFT, CX
	MOVQ codes_base+24(FP), SI
	MOVQ size+48(FP), R8
	MOVQ offsets_base+56(FP), R9
	MOVQ pairs_base+80(FP), R11
	MOVQ pairs_len+88(FP), R10

block:
	// The block's sums start at zero.
	VPXOR Y0, Y0, Y0
	MOVQ  DI, R12
	MOVQ  $(BLOCK_ROWS/32), R13

zero:
	VMOVDQU Y0, 0(R12)
	VMOVDQU Y0, 32(R12)
	VMOVDQU Y0, 64(R12)
	VMOVDQU Y0, 96(R12)
	ADDQ    $128, R12
	DECQ    R13
	JNZ     zero

	XORQ BX, BX

two:
	// Two pairs left?
	LEAQ 2(BX), R13
	CMPQ R13, R10
	JA   one
	MOVLQSX      0(R9)(BX*8), DX
	MOVLQSX      4(R9)(BX*8), AX
	MOVLQSX      8(R9)(BX*8), R14
	MOVLQSX      12(R9)(BX*8), R15
	ADDQ         SI, DX
	ADDQ         SI, AX
	ADDQ         SI, R14
	ADDQ         SI, R15
	VPBROADCASTD 0(R11)(BX*4), Y14
	VPBROADCASTD 4(R11)(BX*4), Y15
	MOVQ         DI, R12
	MOVQ         $(BLOCK_ROWS/32), R13

rows2:
	PREFETCHT0 256(DX)
	PREFETCHT0 256(AX)
	PREFETCHT0 256(R14)
	PREFETCHT0 256(R15)
	VMOVDQU    0(DX), X8
	VMOVDQU    0(AX), X9
	VPUNPCKLBW X9, X8, X10
	VPUNPCKHBW X9, X8, X11
	VPMOVSXBW  X10, Y10
	VPMOVSXBW  X11, Y11
	VPMADDWD   Y14, Y10, Y0
	VPMADDWD   Y14, Y11, Y1
	VMOVDQU    0(R14), X8
	VMOVDQU    0(R15), X9
	VPUNPCKLBW X9, X8, X10
	VPUNPCKHBW X9, X8, X11
	VPMOVSXBW  X10, Y10
	VPMOVSXBW  X11, Y11
	VPMADDWD   Y15, Y10, Y2
	VPMADDWD   Y15, Y11, Y3
	VPADDD     Y2, Y0, Y0
	VPADDD     Y3, Y1, Y1
	VPADDD     0(R12), Y0, Y0
	VPADDD     32(R12), Y1, Y1
	VMOVDQU    Y0, 0(R12)
	VMOVDQU    Y1, 32(R12)
	VMOVDQU    16(DX), X8
	VMOVDQU    16(AX), X9
	VPUNPCKLBW X9, X8, X10
	VPUNPCKHBW X9, X8, X11
	VPMOVSXBW  X10, Y10
	VPMOVSXBW  X11, Y11
	VPMADDWD   Y14, Y10, Y0
	VPMADDWD   Y14, Y11, Y1
	VMOVDQU    16(R14), X8
	VMOVDQU    16(R15), X9
	VPUNPCKLBW X9, X8, X10
	VPUNPCKHBW X9, X8, X11
	VPMOVSXBW  X10, Y10
	VPMOVSXBW  X11, Y11
	VPMADDWD   Y15, Y10, Y2
	VPMADDWD   Y15, Y11, Y3
	VPADDD     Y2, Y0, Y0
	VPADDD     Y3, Y1, Y1
	VPADDD     64(R12), Y0, Y0
	VPADDD     96(R12), Y1, Y1
	VMOVDQU    Y0, 64(R12)
	VMOVDQU    Y1, 96(R12)
	ADDQ $32, DX
	ADDQ $32, AX
	ADDQ $32, R14
	ADDQ $32, R15
	ADDQ $128, R12
	DECQ R13
	JNZ  rows2

	ADDQ $2, BX
	JMP  two

one:
	CMPQ         BX, R10
	JAE          next
	MOVLQSX      0(R9)(BX*8), DX
	MOVLQSX      4(R9)(BX*8), AX
	ADDQ         SI, DX
	ADDQ         SI, AX
	VPBROADCASTD (R11)(BX*4), Y14
	MOVQ         DI, R12
	MOVQ         $(BLOCK_ROWS/32), R13

rows1:
	PREFETCHT0 256(DX)
	PREFETCHT0 256(AX)
	VMOVDQU    0(DX), X8
	VMOVDQU    0(AX), X9
	VPUNPCKLBW X9, X8, X10
	VPUNPCKHBW X9, X8, X11
	VPMOVSXBW  X10, Y10
	VPMOVSXBW  X11, Y11
	VPMADDWD   Y14, Y10, Y0
	VPMADDWD   Y14, Y11, Y1
	VPADDD     0(R12), Y0, Y0
	VPADDD     32(R12), Y1, Y1
	VMOVDQU    Y0, 0(R12)
	VMOVDQU    Y1, 32(R12)
	VMOVDQU    16(DX), X8
	VMOVDQU    16(AX), X9
	VPUNPCKLBW X9, X8, X10
	VPUNPCKHBW X9, X8, X11
	VPMOVSXBW  X10, Y10
	VPMOVSXBW  X11, Y11
	VPMADDWD   Y14, Y10, Y0
	VPMADDWD   Y14, Y11, Y1
	VPADDD     64(R12), Y0, Y0
	VPADDD     96(R12), Y1, Y1
	VMOVDQU    Y0, 64(R12)
	VMOVDQU    Y1, 96(R12)
	ADDQ $32, DX
	ADDQ $32, AX
	ADDQ $128, R12
	DECQ R13
	JNZ  rows1

	INCQ BX
	JMP  one

next:
	ADDQ $(BLOCK_ROWS*4), DI
	ADDQ R8, SI
	DECQ CX
	JNZ  block

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
