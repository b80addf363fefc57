package retrieval

import "math"

// The quantized scan multiplies int8 codes by an int16 query. The codes are
// kept in blocks of codeBlockRows rows laid out dimension by dimension: for
// each dimension j, the block holds the code of its first row, then of its
// second, and so on, a column of codeBlockRows bytes. A query that is zero
// in a dimension gains nothing from its column, so the scan reads only the
// columns where the query is not zero: a query of a few words embedded by
// HashingEmbedder is zero in most dimensions, and its scan reads a fraction
// of the codes. A dense query reads them all, as a row-major layout would.
// A column is four kilobytes read from end to end, which the processor's
// prefetcher follows.
//
// The kernels take the query's columns two at a time, interleaving their
// codes row by row so that one multiply-add (VPMADDWD) takes both; a query
// with an odd number of columns pairs its last with the first, given a zero
// code.
//
// Both kernels below, the SIMD one and the portable one, compute the exact
// integer sums, so they agree bit for bit and a test holds one against the
// other.

const (
	// codeBlockRows is the number of rows in a block, whose int32 sums
	// stay in L1 while the kernels add each pair of columns to them.
	codeBlockRows = 4096
)

// blockBytes returns the size of a block of rows with dim dimensions.
func blockBytes(dim int) int { return dim * codeBlockRows }

// codeOffset returns where the code of dimension j of row lane of a block
// lies in the block.
func codeOffset(lane, j int) int { return j*codeBlockRows + lane }

// queryPairs lists the columns of a quantized query that are not zero, in
// pairs: for pair i, the offsets in a block of its two columns,
// offsets[2i] and offsets[2i+1], and its two codes packed in an uint32,
// the first column's in the low half, as VPMADDWD reads them.
type queryPairs struct {
	offsets []int32
	codes   []uint32
}

// set lists the columns of q (int16 codes, one per dimension) that are not
// zero, in pairs.
func (qp *queryPairs) set(q []int16) {
	qp.offsets, qp.codes = qp.offsets[:0], qp.codes[:0]
	first := -1
	for j, c := range q {
		if c == 0 {
			continue
		}
		if first < 0 {
			first = j
		}
		qp.offsets = append(qp.offsets, int32(j*codeBlockRows))
		if len(qp.offsets)%2 == 0 {
			qp.codes[len(qp.codes)-1] |= uint32(uint16(c)) << 16
		} else {
			qp.codes = append(qp.codes, uint32(uint16(c)))
		}
	}
	if len(qp.offsets)%2 == 1 {
		// The last column pairs with the first, whose code here is zero:
		// read twice, counted once.
		qp.offsets = append(qp.offsets, int32(first*codeBlockRows))
	}
}

// dotsBlocks sets dst[b*codeBlockRows+l] to the dot product of row l of
// block b of codes with the query pairs qp, for every block that dst has
// room for: len(dst) must be a multiple of codeBlockRows, codes must hold
// that many blocks of size bytes, and every offset of qp must be a column
// inside a block. The caller bounds the query's magnitude (see
// quantizeQuery) so that no sum can overflow an int32.
func dotsBlocks(dst []int32, codes []int8, size int, qp *queryPairs) {
	blocks := len(dst) / codeBlockRows
	if blocks == 0 {
		return
	}
	// One check here lets the kernels trust their arguments.
	if len(dst)%codeBlockRows != 0 || size <= 0 || size%codeBlockRows != 0 || len(codes) < blocks*size ||
		len(qp.offsets) != 2*len(qp.codes) {
		panic("retrieval: dotsBlocks: bad shape")
	}
	for _, off := range qp.offsets {
		if off < 0 || int(off)+codeBlockRows > size || off%codeBlockRows != 0 {
			panic("retrieval: dotsBlocks: column outside the block")
		}
	}
	if hasInt8Kernel {
		dotsBlocksSIMD(dst, codes, size, qp.offsets, qp.codes)
		return
	}
	dotsBlocksGo(dst, codes, size, qp.offsets, qp.codes)
}

// dotsBlocksGo is the portable kernel: for each pair of columns, the
// block's rows eight at a time.
func dotsBlocksGo(dst []int32, codes []int8, size int, offsets []int32, pairs []uint32) {
	pairs = pairs[:len(offsets)/2]
	for b := 0; b+codeBlockRows <= len(dst); b += codeBlockRows {
		block := codes[b/codeBlockRows*size : b/codeBlockRows*size+size]
		sums := dst[b : b+codeBlockRows]
		clear(sums)
		for i, q := range pairs {
			q0, q1 := int32(int16(q)), int32(int16(q>>16))
			a := block[offsets[2*i] : int(offsets[2*i])+codeBlockRows]
			c := block[offsets[2*i+1] : int(offsets[2*i+1])+codeBlockRows]
			for l := 0; l < codeBlockRows; l += 8 {
				x := (*[8]int8)(a[l : l+8])
				y := (*[8]int8)(c[l : l+8])
				s := (*[8]int32)(sums[l : l+8])
				s[0] += int32(x[0])*q0 + int32(y[0])*q1
				s[1] += int32(x[1])*q0 + int32(y[1])*q1
				s[2] += int32(x[2])*q0 + int32(y[2])*q1
				s[3] += int32(x[3])*q0 + int32(y[3])*q1
				s[4] += int32(x[4])*q0 + int32(y[4])*q1
				s[5] += int32(x[5])*q0 + int32(y[5])*q1
				s[6] += int32(x[6])*q0 + int32(y[6])*q1
				s[7] += int32(x[7])*q0 + int32(y[7])*q1
			}
		}
	}
}

// The bounds of a quantized score. Row r's exact score lies within
// scale[r]·(t·dot ± radius) (see queryBound); the scan keeps a row when the
// upper end can reach the best lower ends, computed in float32 with a
// margin that covers float32's rounding of either.
const (
	// boundRelSlack widens a bound by this share of its terms' magnitudes:
	// far more than the few roundings to float32 it covers.
	boundRelSlack = 1.0 / (1 << 16)
	// boundAbsSlack covers what underflows to zero or a denormal in
	// float32.
	boundAbsSlack = 1.0 / (1 << 118)
)

// upperBounds sets bit l of mask[w] for row r = 64w+l when the upper bound
// of its score, scales[r]·(t·dots[r] + radius) widened by the slacks,
// reaches floor. len(dots) must be len(scales) and a multiple of 64, and
// mask must hold one word per 64 rows.
func upperBounds(mask []uint64, dots []int32, scales []float32, t, radius, floor float32) {
	if len(dots) != len(scales) || len(dots)%64 != 0 || len(mask) < len(dots)/64 {
		panic("retrieval: upperBounds: bad shape")
	}
	if len(dots) == 0 {
		return
	}
	if hasInt8Kernel {
		upperBoundsSIMD(mask, dots, scales, t, radius, floor)
		return
	}
	upperBoundsGo(mask, dots, scales, t, radius, floor)
}

// upperBoundsGo is the portable twin of upperBoundsSIMD, the same float32
// operations in the same order, so that the two set the same bits. Each
// product is converted to float32 explicitly so that no compiler fuses it
// into a multiply-add.
func upperBoundsGo(mask []uint64, dots []int32, scales []float32, t, radius, floor float32) {
	for w := range len(dots) / 64 {
		var m uint64
		for l := range 64 {
			r := 64*w + l
			hi := upperBound(dots[r], scales[r], t, radius)
			if hi >= floor {
				m |= 1 << l
			}
		}
		mask[w] = m
	}
}

// upperBound is one row's widened upper bound (see upperBounds).
func upperBound(dot int32, scale, t, radius float32) float32 {
	x := float32(float32(float32(dot)*t) * scale)
	y := float32(scale * radius)
	ax := math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
	return float32(float32(x+y)+float32(float32(ax+y)*boundRelSlack)) + boundAbsSlack
}

// lowerBound is one row's lower bound, widened like upperBound's.
func lowerBound(dot int32, scale, t, radius float32) float32 {
	x := float32(float32(float32(dot)*t) * scale)
	y := float32(scale * radius)
	ax := math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
	return float32(float32(x-y)-float32(float32(ax+y)*boundRelSlack)) - boundAbsSlack
}
