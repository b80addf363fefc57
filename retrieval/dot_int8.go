package retrieval

// The quantized scan multiplies int8 codes by an int16 query. Both kernels,
// the SIMD one and the portable one below, compute the exact integer sums,
// so they agree bit for bit and a test can hold one against the other.

// int8Align is the multiple of bytes every quantized row is padded to, with
// zero codes, so that the kernels never handle a tail.
const int8Align = 32

// dotsInt8 sets dst[r] to the dot product of row r of codes with query, for
// every r < len(dst). Rows are stride bytes apart; stride must be a positive
// multiple of int8Align, codes must hold len(dst) rows and query stride
// values. The caller bounds the query's magnitude (see quantizeQuery) so that
// no sum can overflow an int32.
func dotsInt8(dst []int32, codes []int8, query []int16, stride int) {
	if len(dst) == 0 {
		return
	}
	// One check here lets the kernels trust their arguments.
	if stride <= 0 || stride%int8Align != 0 || len(query) < stride || len(codes) < len(dst)*stride {
		panic("retrieval: dotsInt8: bad shape")
	}
	if hasInt8Kernel {
		dotsInt8SIMD(dst, codes, query, stride)
		return
	}
	dotsInt8Go(dst, codes, query, stride)
}

// dotsInt8Go is the portable kernel: eight products per step into four
// independent int32 accumulators, so that the adds do not wait on each
// other, with slice shapes the compiler can prove in bounds.
func dotsInt8Go(dst []int32, codes []int8, query []int16, stride int) {
	query = query[:stride]
	for r := range dst {
		row := codes[r*stride : (r+1)*stride]
		q := query
		var s0, s1, s2, s3 int32
		for len(row) >= 8 && len(q) >= 8 {
			s0 += int32(row[0])*int32(q[0]) + int32(row[4])*int32(q[4])
			s1 += int32(row[1])*int32(q[1]) + int32(row[5])*int32(q[5])
			s2 += int32(row[2])*int32(q[2]) + int32(row[6])*int32(q[6])
			s3 += int32(row[3])*int32(q[3]) + int32(row[7])*int32(q[7])
			row, q = row[8:], q[8:]
		}
		dst[r] = (s0 + s1) + (s2 + s3)
	}
}
