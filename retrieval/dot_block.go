package retrieval

import "math"

// The quantized scan multiplies int8 codes by an int16 query. The codes are
// kept in blocks of codeBlockRows rows laid out dimension pair by dimension
// pair: for each pair of dimensions (2p, 2p+1), the block holds the two
// codes of its first row, then of its second, and so on, pairBytes bytes in
// all. A query whose two codes of a pair are both zero gains nothing from
// that pair, so the scan reads only the pairs where the query is not zero:
// a query of a few words embedded by HashingEmbedder is zero in most
// dimensions, and its scan reads a fraction of the codes. A dense query
// reads them all, as a row-major layout would. A pair of a block is two
// kilobytes read from end to end, which the processor's prefetcher follows;
// blocks of a few rows, pairs a few cache lines apart, left a sparse scan
// waiting on memory.
//
// Both kernels below, the SIMD one and the portable one, compute the exact
// integer sums, so they agree bit for bit and a test holds one against the
// other.

const (
	// codeBlockRows is the number of rows in a block, whose int32 sums
	// stay in L1 while the kernels add each pair to them.
	codeBlockRows = 4096
	// pairBytes is one dimension pair of one block, and pairStride the
	// distance from one pair to the next.
	pairBytes  = 2 * codeBlockRows
	pairStride = pairBytes
)

// blockBytes returns the size of a block of rows with dim dimensions,
// rounded up to whole pairs.
func blockBytes(dim int) int { return (dim + 1) / 2 * pairStride }

// codeOffset returns where the code of dimension j of row lane of a block
// lies in the block.
func codeOffset(lane, j int) int { return j/2*pairStride + lane*2 + j%2 }

// queryPairs lists the dimension pairs of a quantized query that are not
// zero: the offset of each in a block and its two codes packed in an
// uint32, the even dimension's in the low half, as VPMADDWD reads them.
type queryPairs struct {
	offsets []int32
	codes   []uint32
}

// set lists the pairs of q (int16 codes, one per dimension) that are not
// zero.
func (qp *queryPairs) set(q []int16) {
	qp.offsets, qp.codes = qp.offsets[:0], qp.codes[:0]
	for p := 0; 2*p < len(q); p++ {
		lo := q[2*p]
		var hi int16
		if 2*p+1 < len(q) {
			hi = q[2*p+1]
		}
		if lo == 0 && hi == 0 {
			continue
		}
		qp.offsets = append(qp.offsets, int32(p*pairStride))
		qp.codes = append(qp.codes, uint32(uint16(lo))|uint32(uint16(hi))<<16)
	}
}

// dotsBlocks sets dst[b*codeBlockRows+l] to the dot product of row l of
// block b of codes with the query pairs qp, for every block that dst has
// room for: len(dst) must be a multiple of codeBlockRows, codes must hold
// that many blocks of size bytes, and every offset of qp must leave a whole
// pair inside a block. The caller bounds the query's magnitude (see
// quantizeQuery) so that no sum can overflow an int32.
func dotsBlocks(dst []int32, codes []int8, size int, qp *queryPairs) {
	blocks := len(dst) / codeBlockRows
	if blocks == 0 {
		return
	}
	// One check here lets the kernels trust their arguments.
	if len(dst)%codeBlockRows != 0 || size <= 0 || size%pairStride != 0 || len(codes) < blocks*size ||
		len(qp.offsets) != len(qp.codes) {
		panic("retrieval: dotsBlocks: bad shape")
	}
	for _, off := range qp.offsets {
		if off < 0 || int(off)+pairBytes > size || off%pairStride != 0 {
			panic("retrieval: dotsBlocks: pair outside the block")
		}
	}
	if hasInt8Kernel {
		dotsBlocksSIMD(dst, codes, size, qp.offsets, qp.codes)
		return
	}
	dotsBlocksGo(dst, codes, size, qp.offsets, qp.codes)
}

// dotsBlocksGo is the portable kernel: for each pair, the block's rows
// eight at a time.
func dotsBlocksGo(dst []int32, codes []int8, size int, offsets []int32, pairs []uint32) {
	pairs = pairs[:len(offsets)]
	for b := 0; b+codeBlockRows <= len(dst); b += codeBlockRows {
		block := codes[b/codeBlockRows*size : b/codeBlockRows*size+size]
		sums := dst[b : b+codeBlockRows]
		clear(sums)
		for i, off := range offsets {
			q0, q1 := int32(int16(pairs[i])), int32(int16(pairs[i]>>16))
			pair := block[off : int(off)+pairBytes]
			for l := 0; l < codeBlockRows; l += 8 {
				p := (*[16]int8)(pair[2*l : 2*l+16])
				s := (*[8]int32)(sums[l : l+8])
				s[0] += int32(p[0])*q0 + int32(p[1])*q1
				s[1] += int32(p[2])*q0 + int32(p[3])*q1
				s[2] += int32(p[4])*q0 + int32(p[5])*q1
				s[3] += int32(p[6])*q0 + int32(p[7])*q1
				s[4] += int32(p[8])*q0 + int32(p[9])*q1
				s[5] += int32(p[10])*q0 + int32(p[11])*q1
				s[6] += int32(p[12])*q0 + int32(p[13])*q1
				s[7] += int32(p[14])*q0 + int32(p[15])*q1
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
