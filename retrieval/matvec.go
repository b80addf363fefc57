package retrieval

import "github.com/viterin/vek/vek32"

// matVec sets dst[i] to the dot product of row i of the row-major matrix m,
// whose rows have dim components, with q, and returns dst[:rows]. The caller
// keeps rows·dim under vekParallelWork, so that vek computes on this
// goroutine.
func matVec(dst, m, q []float32, dim int) []float32 {
	if vekMatVec {
		return vek32.MatMul_Into(dst, m, q, dim)
	}
	return matVecGo(dst, m, q, dim)
}

// matVecGo is matVec in portable Go, for where vek has no SIMD kernel. Four
// independent sums let the additions overlap, which a single running sum
// (vek's fallback) forbids, and component j goes to sum j mod 4 as it goes
// to a lane in vek's AVX2 kernel, so that overflowing rows come out the
// same (NaN, rather than an infinity of either sign).
func matVecGo(dst, m, q []float32, dim int) []float32 {
	rows := len(m) / dim
	dst = dst[:rows]
	q = q[:dim]
	for r := range dst {
		row := m[r*dim : (r+1)*dim]
		x, y := row, q
		var s0, s1, s2, s3 float32
		for len(x) >= 4 && len(y) >= 4 {
			s0 += x[0] * y[0]
			s1 += x[1] * y[1]
			s2 += x[2] * y[2]
			s3 += x[3] * y[3]
			x, y = x[4:], y[4:]
		}
		for i := range x {
			s0 += x[i] * y[i]
		}
		dst[r] = (s0 + s1) + (s2 + s3)
	}
	return dst
}
