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
	dst = dst[:len(v)]
	for j, x := range v {
		// |x·inv| is at most 127 and a rounding, so the nearest integer
		// is within the codes.
		c := int32(math.RoundToEven(float64(x) * inv))
		dst[j] = int8(max(-maxCode, min(maxCode, c)))
	}
	return float32(m / maxCode)
}

// tinyScale reports whether scale, v's, is not a normal float32 although v
// is not zero: v's components are all under 127·2⁻¹²⁶, so small that the
// scale lost precision, and queryBound's bounds do not hold for its row.
func tinyScale(scale float32, v []float32) bool {
	return scale < 0x1p-126 && (scale > 0 || maxAbs(v) > 0)
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
		dst[j] = int16(clampCode(math.RoundToEven(float64(x)*inv), top))
	}
}

// queryBound returns t, the scale that maps the query's codes back to it
// (q ≈ t·codes), the query's norm, and the radius R of the error of a
// quantized score: for every stored row of scale s whose codes have the
// integer dot product d with the query's, the score an exact scan computes
// lies within s·(t·d ± R).
//
// Writing the row as v = s·c + e and the query as q = t·cq + δ,
//
//	q·v − s·t·(c·cq) = q·e + s·(c·δ),
//
// and quantizeVector leaves every |e_j| ≤ s·(1/2 + 8e−6) (half a step, and
// float32's rounding of s) and |c_j| ≤ 127, so that ‖e‖₂ ≤ √dim·s/2 and
// ‖s·c‖₂ ≤ ‖v‖₂ + ‖e‖₂ ≤ 127.5·√dim·s. Hence
//
//	|q·e|     ≤ min(‖q‖₁, √dim·‖q‖₂) · s·(1/2 + 1e−5)
//	|s·(c·δ)| ≤ 127.5·√dim·s · ‖δ‖₂
//
// and the exact scan's float32 sum of dim products is within γ·‖q‖₂·‖v‖₂
// of q·v, γ = (dim+2)·2⁻²⁴ / (1 − (dim+2)·2⁻²⁴), whatever the order of its
// additions. δ is measured, not bounded: it is what quantizeQuery's
// rounding and t's rounding to float32 left. R sums the three over s,
// widened by 1e−6 for float64's own roundings, and is rounded up to
// float32; what float32 underflows is covered by lowerBound's and
// upperBound's absolute slack. A zero query has t = R = 0.
func queryBound(q []float32, codes []int16) (t, radius float32, norm float64) {
	m := maxAbs(q)
	if m == 0 {
		return 0, 0, 0
	}
	t = float32(m / float64(queryCodeMax(len(codes))))
	var l1, l2, d2 float64
	for j, x := range q {
		l1 += math.Abs(float64(x))
		l2 += float64(x) * float64(x)
		delta := float64(x) - float64(t)*float64(codes[j])
		d2 += delta * delta
	}
	norm = math.Sqrt(l2)
	dim := float64(len(q))
	root := math.Sqrt(dim)
	gamma := (dim + 2) / (1 << 24)
	gamma /= 1 - gamma
	r := (min(l1, root*norm)*(0.5+1e-5) + root*127.5*(1+1e-5)*(math.Sqrt(d2)+gamma*norm)) * (1 + 1e-6)
	radius = float32(r)
	if float64(radius) < r {
		radius = math.Nextafter32(radius, float32(math.Inf(1)))
	}
	return t, radius, norm
}

// maxAbs returns the largest magnitude in v.
func maxAbs(v []float32) float64 {
	var m float32
	for _, x := range v {
		// A comparison rather than max, which orders NaNs and signed
		// zeros and costs several times as much; vectors are finite.
		if a := abs32(x); a > m {
			m = a
		}
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
