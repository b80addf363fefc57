package retrieval

import (
	"context"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// scanChunkBytes is how much of the stored vectors a scan participant
// claims at a time: small enough that participants finish close together
// (on a shared machine one of them may be slowed down) and that a cancelled
// context is noticed within a fraction of a millisecond, large enough that
// claiming costs nothing measurable.
const scanChunkBytes = 1 << 20

// minParallelBytes is the smallest scan that borrows helpers; below it,
// waking a parked goroutine costs about as much as it saves.
const minParallelBytes = 4 << 20

// groupRows is how many rows of codes a quantized scan scores per kernel
// call: their sums and bound bits stay in L1 while the scan reads them.
const groupRows = codeBlockRows

// searchScratch is the per-search working memory, pooled.
type searchScratch struct {
	query []float32
	// queryCodes is the quantized query, stride long, and pairs its pairs
	// that are not zero; both unused when the index is not quantized.
	queryCodes []int16
	pairs      queryPairs
	// t, radius and norm are the query's bounds (see queryBound).
	t, radius float32
	norm      float64
	job       scanJob
	// final ranks a quantized search's rescored rows.
	final topK
	// lows gathers the participants' lower bounds.
	lows []float32
	// one holds the exact score of one row.
	one [1]float32
}

func (e *Embedded) newScratch() *searchScratch {
	s := &searchScratch{query: make([]float32, e.dim)}
	if e.stride > 0 {
		s.queryCodes = make([]int16, e.stride)
	}
	return s
}

// setQuery quantizes s.query and bounds the quantized scores.
func (s *searchScratch) setQuery() {
	quantizeQuery(s.queryCodes, s.query)
	s.pairs.set(s.queryCodes)
	s.t, s.radius, s.norm = queryBound(s.query, s.queryCodes)
}

// scanJob is one search's pass over the vectors, cut into chunks of rows
// that the caller and any lent helpers claim in turn. Each participant
// keeps its own candidates; the caller merges them once all are done.
type scanJob struct {
	e      *Embedded
	ctx    context.Context
	filter Filter
	// keepID, if not nil, is SearchFunc's filter.
	keepID func(id string) bool
	query  []float32
	// quantized says the scan bounds scores from the codes, with the
	// query's pairs, t and radius; otherwise it scores the matrix exactly.
	quantized bool
	pairs     *queryPairs
	t, radius float32
	// want is how many rows the search returns: each participant keeps
	// the want best rows of an exact scan, or the want best lower bounds
	// of a quantized one.
	want              int
	chunkRows, chunks int
	// next is the next chunk to claim.
	next atomic.Int64
	// parts[0] is the caller's, parts[i] the i-th lent helper's.
	parts []scanPart
	// helping counts the lent helpers still at work.
	helping sync.WaitGroup
}

// scanPart is one participant's working memory and result.
type scanPart struct {
	scores []float32
	// top is an exact scan's best rows.
	top topK
	// dots, masks and scales are a quantized scan's per group of rows: the
	// quantized dot products, the bits of the rows whose upper bound
	// reaches the floor, and the rows' scales (copied only for the last,
	// partial group).
	dots   []int32
	masks  []uint64
	scales []float32
	// lows holds the want best lower bounds of rows that pass the filter,
	// and cands every such row whose upper bound reached the worst of
	// them when it was seen.
	lows  lowerBounds
	cands []boundedRow
	// err is the context's error when this participant stopped early.
	err error
}

// boundedRow is a row of a quantized scan that may make the top k, with
// the upper bound of its score.
type boundedRow struct {
	slot int32
	hi   float32
}

// scan finds the best k rows for the query in s, under the read lock.
//
// An exact scan scores rows a block at a time, so that a block's scores are
// still in L1 when the heap reads them and nothing but the result is
// allocated. A block stays under vek's parallel threshold, so that
// vek32.MatMul_Into never starts goroutines or allocates; a large scan is
// spread instead over this index's own helpers, parked goroutines started
// once and lent only while idle and while no other scan of the index needs
// the CPU (see helperPool). Under concurrent searches each therefore scans
// on its own goroutine, the most efficient use of CPUs that are all busy.
//
// A quantized scan bounds every row's exact score from its codes (see
// queryBound) and keeps, besides the k best lower bounds, every row whose
// upper bound reaches the k-th best lower bound: no other row can be in
// the top k, whatever the tie-breaking. Those rows are then scored exactly,
// by the same kernel as an exact scan, so the two return the same hits.
func (e *Embedded) scan(ctx context.Context, s *searchScratch, k int, filter Filter, keepID func(string) bool) ([]Hit, error) {
	n := len(e.ids)
	j := &s.job
	defer s.clear()
	rowBytes := 4 * e.dim
	j.want = min(k, n)
	j.quantized = e.stride > 0 && e.quantizedSafe(s)
	j.chunkRows = e.blockRows * max(1, scanChunkBytes/(e.blockRows*rowBytes))
	if j.quantized {
		// The bytes a quantized scan reads of each row: the query's pairs.
		rowBytes = max(1, 2*len(s.pairs.offsets))
		j.pairs, j.t, j.radius = &s.pairs, s.t, s.radius
		j.chunkRows = groupRows * max(1, scanChunkBytes/(groupRows*e.stride))
	}
	j.e, j.ctx, j.filter, j.keepID, j.query = e, ctx, filter, keepID, s.query
	j.chunks = (n + j.chunkRows - 1) / j.chunkRows
	j.next.Store(0)

	helpers := 0
	if j.chunks > 1 && n*rowBytes >= minParallelBytes && e.opts.Parallelism != 1 {
		if pool := e.helperPool(); pool != nil {
			pool.scanning.Add(1)
			defer pool.scanning.Add(-1)
			j.ensureParts(1+pool.size, e.blockRows, j.quantized)
			helpers = pool.lend(j)
		}
	}
	if helpers > 0 {
		// A woken helper waits in this P's runnext slot, where another P
		// steals it only after a sleep of tens of microseconds; yielding
		// runs the helper here at once and lets another P take the caller
		// from the global queue. At 10k rows this is a quarter of the scan.
		runtime.Gosched()
	}
	j.ensureParts(1, e.blockRows, j.quantized)
	j.run(0)
	j.helping.Wait()

	for i := range 1 + helpers {
		if err := j.parts[i].err; err != nil {
			return nil, err
		}
	}
	var top *topK
	if j.quantized {
		top = e.rescore(s, helpers)
	} else {
		top = &j.parts[0].top
		for i := 1; i <= helpers; i++ {
			for _, c := range j.parts[i].top.items {
				if top.admits(c) {
					top.add(c)
				}
			}
		}
	}
	if len(top.items) == 0 {
		return nil, nil
	}
	return top.drain(make([]Hit, len(top.items))), nil
}

// quantizedSafe reports whether the bounds hold for s's query: no bound
// and no exact score can overflow float32 (rows of a scale up to maxScale
// have a norm up to 127·√dim·maxScale), and every row's scale is a normal
// float32, as queryBound assumes. Only an index of huge or tiny
// inner-product vectors fails it, and is then scanned exactly.
func (e *Embedded) quantizedSafe(s *searchScratch) bool {
	worst := float64(e.maxScale) * (254*math.Sqrt(float64(e.dim))*s.norm + float64(s.radius))
	return worst < 1e36 && e.tiny == 0
}

// rescore scores exactly the rows the participants of a quantized scan
// kept, those whose upper bound reaches the want-th best lower bound of
// all, and returns the best of them.
func (e *Embedded) rescore(s *searchScratch, helpers int) *topK {
	j := &s.job
	lows := s.lows[:0]
	for i := range 1 + helpers {
		lows = append(lows, j.parts[i].lows.items...)
	}
	floor := float32(math.Inf(-1))
	if len(lows) >= j.want {
		slices.Sort(lows)
		floor = lows[len(lows)-j.want]
	}
	s.lows = lows[:0]
	final := &s.final
	final.reset(e.ids, j.want)
	for i := range 1 + helpers {
		for _, c := range j.parts[i].cands {
			if c.hi < floor {
				continue
			}
			score := matVec(s.one[:], e.row(int(c.slot)), s.query, e.dim)[0]
			if score != score {
				score = float32(math.Inf(-1)) // as in offer
			}
			if r := (candidate{score: score, slot: int(c.slot)}); final.admits(r) {
				final.add(r)
			}
		}
	}
	return final
}

// ensureParts grows the participants' memory to n, reused by later scans.
func (j *scanJob) ensureParts(n, blockRows int, quantized bool) {
	for len(j.parts) < n {
		j.parts = append(j.parts, scanPart{scores: make([]float32, blockRows)})
	}
	if quantized {
		for i := range j.parts[:n] {
			p := &j.parts[i]
			if p.dots == nil {
				p.dots = make([]int32, groupRows)
				p.masks = make([]uint64, groupRows/64)
				p.scales = make([]float32, groupRows)
			}
		}
	}
}

// clear drops every reference into the index, so that pooled scratch does
// not keep a closed index's memory alive.
func (s *searchScratch) clear() {
	j := &s.job
	for i := range j.parts {
		p := &j.parts[i]
		p.top.reset(nil, 0)
		p.lows.reset(0)
		p.cands = p.cands[:0]
		p.err = nil
	}
	j.e, j.ctx, j.filter, j.keepID, j.query, j.pairs = nil, nil, nil, nil, nil, nil
	s.final.reset(nil, 0)
}

// run is one participant's work: claim chunks until none are left or the
// context is done.
func (j *scanJob) run(part int) {
	p := &j.parts[part]
	p.err = nil
	if j.quantized {
		p.lows.reset(j.want)
		p.cands = p.cands[:0]
	} else {
		p.top.reset(j.e.ids, j.want)
	}
	n := len(j.e.ids)
	for {
		c := int(j.next.Add(1) - 1)
		if c >= j.chunks {
			return
		}
		if err := j.ctx.Err(); err != nil {
			p.err = err
			return
		}
		lo := c * j.chunkRows
		hi := min(lo+j.chunkRows, n)
		if j.quantized {
			j.boundCodes(p, lo, hi)
		} else {
			j.scoreFloats(p, lo, hi)
		}
	}
}

// scoreFloats scores rows [lo, hi) exactly.
func (j *scanJob) scoreFloats(p *scanPart, lo, hi int) {
	e := j.e
	for start := lo; start < hi; start += e.blockRows {
		end := min(start+e.blockRows, hi)
		scores := matVec(p.scores, e.matrix[start*e.dim:end*e.dim], j.query, e.dim)
		j.offer(p, scores, start)
	}
}

// offer passes a block's scores, the first being row start's, to the
// participant's candidates.
func (j *scanJob) offer(p *scanPart, scores []float32, start int) {
	top := &p.top
	for i, score := range scores {
		// Most rows fall below the worst candidate kept: reject them here,
		// before the tie-breaking comparison of admits. NaN fails the test
		// and goes on.
		if len(top.items) == top.k && score < top.items[0].score {
			continue
		}
		if score != score {
			// Only InnerProduct of huge vectors overflows to NaN; ranking it
			// last keeps the heap's order total.
			score = float32(math.Inf(-1))
		}
		c := candidate{score: score, slot: start + i}
		if !top.admits(c) {
			continue
		}
		if !j.passes(c.slot) {
			continue
		}
		top.add(c)
	}
}

// passes reports whether the row at slot passes the search's filter.
func (j *scanJob) passes(slot int) bool {
	if len(j.filter) > 0 && !j.filter.Match(j.e.meta[slot]) {
		return false
	}
	return j.keepID == nil || j.keepID(j.e.ids[slot])
}

// boundCodes bounds rows [lo, hi) from their codes, lo a multiple of
// codeBlockRows, and keeps the rows that may make the top k.
func (j *scanJob) boundCodes(p *scanPart, lo, hi int) {
	e := j.e
	size := blockBytes(e.dim)
	for start := lo; start < hi; start += groupRows {
		end := min(start+groupRows, hi)
		rows := (end - start + codeBlockRows - 1) / codeBlockRows * codeBlockRows
		dots := p.dots[:rows]
		dotsBlocks(dots, e.codes[start/codeBlockRows*size:], size, j.pairs)
		scales := e.scales[start:]
		if len(scales) >= rows {
			scales = scales[:rows]
		} else {
			// The last block's padding rows: a zero scale, never offered.
			clear(p.scales[copy(p.scales, scales):rows])
			scales = p.scales[:rows]
		}
		masks := p.masks[:rows/64]
		upperBounds(masks, dots, scales, j.t, j.radius, p.lows.floor())
		for w, m := range masks {
			for m != 0 {
				r := start + 64*w + bits.TrailingZeros64(m)
				m &= m - 1
				if r >= end {
					break
				}
				j.offerBound(p, r, dots[r-start])
			}
		}
	}
}

// offerBound keeps row slot, whose quantized dot product is dot, if its
// upper bound still reaches the participant's floor and it passes the
// filter.
func (j *scanJob) offerBound(p *scanPart, slot int, dot int32) {
	scale := j.e.scales[slot]
	hi := upperBound(dot, scale, j.t, j.radius)
	if hi < p.lows.floor() || !j.passes(slot) {
		return
	}
	p.lows.push(lowerBound(dot, scale, j.t, j.radius))
	p.cands = append(p.cands, boundedRow{slot: int32(slot), hi: hi})
	if len(p.cands) >= 2*j.want+4096 {
		// Rows kept early, before the floor rose, that no longer reach it.
		floor := p.lows.floor()
		p.cands = slices.DeleteFunc(p.cands, func(c boundedRow) bool { return c.hi < floor })
	}
}

// lowerBounds keeps the k best lower bounds seen in a min-heap whose root is
// the worst of them: the floor an upper bound must reach.
type lowerBounds struct {
	k     int
	items []float32
}

func (l *lowerBounds) reset(k int) {
	l.k = k
	l.items = l.items[:0]
}

// floor returns the k-th best lower bound, or -Inf before k are seen.
func (l *lowerBounds) floor() float32 {
	if len(l.items) < l.k {
		return float32(math.Inf(-1))
	}
	return l.items[0]
}

func (l *lowerBounds) push(x float32) {
	if len(l.items) < l.k {
		l.items = append(l.items, x)
		for i := len(l.items) - 1; i > 0; {
			parent := (i - 1) / 2
			if l.items[parent] <= l.items[i] {
				break
			}
			l.items[parent], l.items[i] = l.items[i], l.items[parent]
			i = parent
		}
		return
	}
	if x <= l.items[0] {
		return
	}
	l.items[0] = x
	for i := 0; ; {
		c := 2*i + 1
		if c >= len(l.items) {
			break
		}
		if c+1 < len(l.items) && l.items[c+1] < l.items[c] {
			c++
		}
		if l.items[i] <= l.items[c] {
			break
		}
		l.items[i], l.items[c] = l.items[c], l.items[i]
		i = c
	}
}
