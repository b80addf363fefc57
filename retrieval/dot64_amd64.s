//go:build amd64 && !purego

#include "textflag.h"

// func dot64SIMD(s *[16]float64, a, b []float32)
//
// Adds a[i]·b[i] to s[i%16] for every i, in ascending order, as dot64Go
// does; len(a) is a positive multiple of 16 and len(b) equals it. Y0..Y3
// hold s[0:4], s[4:8], s[8:12] and s[12:16]; each step widens four floats
// of a and of b to doubles (exact) and adds their product with one
// rounding, which is the add's rounding, since the product is exact.
TEXT ·dot64SIMD(SB), NOSPLIT, $0-56
	MOVQ s+0(FP), DI
	MOVQ a_base+8(FP), SI
	MOVQ a_len+16(FP), CX
	MOVQ b_base+32(FP), DX
	VMOVUPD (DI), Y0
	VMOVUPD 32(DI), Y1
	VMOVUPD 64(DI), Y2
	VMOVUPD 96(DI), Y3
	XORQ    BX, BX

step:
	VCVTPS2PD   (SI)(BX*4), Y4
	VCVTPS2PD   (DX)(BX*4), Y5
	VFMADD231PD Y5, Y4, Y0
	VCVTPS2PD   16(SI)(BX*4), Y6
	VCVTPS2PD   16(DX)(BX*4), Y7
	VFMADD231PD Y7, Y6, Y1
	VCVTPS2PD   32(SI)(BX*4), Y8
	VCVTPS2PD   32(DX)(BX*4), Y9
	VFMADD231PD Y9, Y8, Y2
	VCVTPS2PD   48(SI)(BX*4), Y10
	VCVTPS2PD   48(DX)(BX*4), Y11
	VFMADD231PD Y11, Y10, Y3
	ADDQ        $16, BX
	CMPQ        BX, CX
	JB          step

	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VZEROUPPER
	RET
