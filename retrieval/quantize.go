package retrieval

import "math"

// Scalar quantization for the Embedded index's Quantize option. Each stored
// vector becomes int8 codes with one scale, v[j] ≈ scale·code[j], the codes
// spanning [-127, 127] so that the largest component is exact to half a
// step. A scale per vector, rather than per dimension, needs no statistics
// over the whole collection: every upsert quantizes on its own, and a new
// vector can never fall outside a range calibrated on older ones.
//
// The query is quantized too, to int16, so that scoring is one integer dot
// product per row; its 15 bits make its own rounding error negligible next
// to the int8 codes'.

// maxCode is the largest int8 code; -maxCode the smallest, so that the
// codes are symmetric and -128 never appears.
const maxCode = 127

// quantizeVector writes v's codes to dst, zeroing dst past len(v), and
// returns the scale that maps them back. A zero vector gets scale 0. The
// arithmetic is in float64 so that neither tiny nor huge components
// overflow the reciprocal.
func quantizeVector(dst []int8, v []float32) float32 {
	clear(dst[len(v):])
	m := maxAbs(v)
	if m == 0 {
		clear(dst[:len(v)])
		return 0
	}
	inv := maxCode / m
	for j, x := range v {
		dst[j] = int8(clampCode(math.Round(float64(x)*inv), maxCode))
	}
	return float32(m / maxCode)
}

// queryCodeMax returns the largest query code for rows of stride codes: as
// fine as int16 allows, but coarse enough that stride products of a code
// and a query code can never sum past an int32.
func queryCodeMax(stride int) int {
	return min(math.MaxInt16, math.MaxInt32/(maxCode*stride))
}

// quantizeQuery writes q's codes to dst, zeroing dst past len(q), bounded
// by queryCodeMax(len(dst)). Ranking by the codes needs no scale: it is the
// same positive factor for every row.
func quantizeQuery(dst []int16, q []float32) {
	clear(dst[len(q):])
	m := maxAbs(q)
	if m == 0 {
		clear(dst[:len(q)])
		return
	}
	top := float64(queryCodeMax(len(dst)))
	inv := top / m
	for j, x := range q {
		dst[j] = int16(clampCode(math.Round(float64(x)*inv), top))
	}
}

// maxAbs returns the largest magnitude in v.
func maxAbs(v []float32) float64 {
	var m float32
	for _, x := range v {
		m = max(m, abs32(x))
	}
	return float64(m)
}

func abs32(x float32) float32 {
	return math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
}

// clampCode guards the conversion to an integer against the last ulp of
// rounding in x·(limit/m).
func clampCode(x, limit float64) float64 {
	return max(-limit, min(limit, x))
}
