package retrieval

// Dot64 returns the inner product of a and b accumulated in float64, or 0
// when either is empty or their lengths differ. Each product of two float32s
// is exact in float64 and the order of the sum is fixed (below), so the
// result is the same on every machine and architecture, whatever its SIMD
// support, unlike Dot's. It is for scores computed per item and then
// reported or compared, such as a reranker's or a trained model's features;
// scans over a catalog use Dot.
//
// The order: sixteen partial sums, s_r over the indexes i ≡ r (mod 16) in
// ascending order; then t_l = (s_l + s_{4+l}) + (s_{8+l} + s_{12+l}) for
// l < 4, and the result (t_0 + t_1) + (t_2 + t_3). That is the order in
// which an AVX2 kernel with four accumulators of four lanes adds, so on
// amd64 the sum runs in assembly, about ten times as fast as one running
// sum, and elsewhere in Go with the same bits: a fused multiply-add rounds
// once, like the add alone, since the product is exact.
func Dot64(a, b []float32) float64 {
	if len(a) == 0 || len(a) != len(b) {
		return 0
	}
	var s [dot64Lanes]float64
	n := len(a) &^ (dot64Lanes - 1)
	if n > 0 {
		if hasDot64Kernel {
			dot64SIMD(&s, a[:n], b[:n])
		} else {
			dot64Go(&s, a[:n], b[:n])
		}
	}
	for i := n; i < len(a); i++ {
		s[i-n] += float64(a[i]) * float64(b[i])
	}
	var t [4]float64
	for l := range t {
		t[l] = (s[l] + s[4+l]) + (s[8+l] + s[12+l])
	}
	return (t[0] + t[1]) + (t[2] + t[3])
}

// dot64Lanes is the number of Dot64's partial sums.
const dot64Lanes = 16

// dot64Go adds a[i]·b[i] to s[i%16] for every i, in ascending order; the
// lengths of a and b are equal multiples of 16. The sums are held in
// locals, not in s, so that they stay in registers.
func dot64Go(s *[dot64Lanes]float64, a, b []float32) {
	s0, s1, s2, s3, s4, s5, s6, s7 := s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
	s8, s9, s10, s11, s12, s13, s14, s15 := s[8], s[9], s[10], s[11], s[12], s[13], s[14], s[15]
	for len(a) >= dot64Lanes && len(b) >= dot64Lanes {
		x, y := a[:dot64Lanes:dot64Lanes], b[:dot64Lanes:dot64Lanes]
		s0 += float64(x[0]) * float64(y[0])
		s1 += float64(x[1]) * float64(y[1])
		s2 += float64(x[2]) * float64(y[2])
		s3 += float64(x[3]) * float64(y[3])
		s4 += float64(x[4]) * float64(y[4])
		s5 += float64(x[5]) * float64(y[5])
		s6 += float64(x[6]) * float64(y[6])
		s7 += float64(x[7]) * float64(y[7])
		s8 += float64(x[8]) * float64(y[8])
		s9 += float64(x[9]) * float64(y[9])
		s10 += float64(x[10]) * float64(y[10])
		s11 += float64(x[11]) * float64(y[11])
		s12 += float64(x[12]) * float64(y[12])
		s13 += float64(x[13]) * float64(y[13])
		s14 += float64(x[14]) * float64(y[14])
		s15 += float64(x[15]) * float64(y[15])
		a, b = a[dot64Lanes:], b[dot64Lanes:]
	}
	*s = [dot64Lanes]float64{s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15}
}
