package retrieval

import (
	"context"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/viterin/vek/vek32"
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

// searchScratch is the per-search working memory, pooled.
type searchScratch struct {
	query []float32
	// queryCodes is the quantized query, stride long; nil when the index
	// is not quantized.
	queryCodes []int16
	job        scanJob
	// final ranks a quantized search's rescored shortlist.
	final topK
}

func (e *Embedded) newScratch() *searchScratch {
	s := &searchScratch{query: make([]float32, e.dim)}
	if e.stride > 0 {
		s.queryCodes = make([]int16, e.stride)
	}
	return s
}

// scanJob is one search's pass over the vectors, cut into chunks of rows
// that the caller and any lent helpers claim in turn. Each participant
// keeps its own candidates; the caller merges them once all are done.
type scanJob struct {
	e      *Embedded
	ctx    context.Context
	filter Filter
	query  []float32
	// queryCodes is set for a quantized scan, which scores the int8 codes.
	queryCodes []int16
	// keep is how many candidates each participant keeps: k for an exact
	// scan, the shortlist for a quantized one.
	keep              int
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
	dots   []int32
	top    topK
	// err is the context's error when this participant stopped early.
	err error
}

// scan finds the best k rows for the query in s, under the read lock.
//
// Rows are scored a block at a time, so that a block's scores are still in
// L1 when the heap reads them and nothing but the result is allocated. A
// block stays under vek's parallel threshold, so that vek32.MatMul_Into
// never starts goroutines or allocates; a large scan is spread instead over
// this index's own helpers, parked goroutines started once and lent only
// while idle and while no other scan of the index needs the CPU (see
// helperPool). Under concurrent searches each therefore scans on its own
// goroutine, the most efficient use of CPUs that are all busy.
func (e *Embedded) scan(ctx context.Context, s *searchScratch, k int, filter Filter) ([]Hit, error) {
	n := len(e.ids)
	j := &s.job
	defer s.clear()
	rowBytes := 4 * e.dim
	j.keep = min(k, n)
	if e.stride > 0 {
		rowBytes = e.stride
		j.keep = e.opts.shortlist(k, n)
		j.queryCodes = s.queryCodes
	}
	j.e, j.ctx, j.filter, j.query = e, ctx, filter, s.query
	j.chunkRows = e.blockRows * max(1, scanChunkBytes/(e.blockRows*rowBytes))
	j.chunks = (n + j.chunkRows - 1) / j.chunkRows
	j.next.Store(0)

	helpers := 0
	if j.chunks > 1 && n*rowBytes >= minParallelBytes && e.opts.Parallelism != 1 {
		if pool := e.helperPool(); pool != nil {
			pool.scanning.Add(1)
			defer pool.scanning.Add(-1)
			j.ensureParts(1+pool.size, e.blockRows, e.stride > 0)
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
	j.ensureParts(1, e.blockRows, e.stride > 0)
	j.run(0)
	j.helping.Wait()

	top := &j.parts[0].top
	for i := range 1 + helpers {
		p := &j.parts[i]
		if p.err != nil {
			return nil, p.err
		}
		if i > 0 {
			for _, c := range p.top.items {
				if top.admits(c) {
					top.add(c)
				}
			}
		}
	}
	if e.stride > 0 {
		top = e.rescore(&s.final, top, s.query, min(k, n))
	}
	if len(top.items) == 0 {
		return nil, nil
	}
	return top.drain(make([]Hit, len(top.items))), nil
}

// rescore ranks the shortlist by exact scores into final.
func (e *Embedded) rescore(final, shortlist *topK, query []float32, k int) *topK {
	final.reset(e.ids, k)
	for _, c := range shortlist.items {
		c.score = vek32.Dot(e.row(c.slot), query)
		if c.score != c.score {
			c.score = float32(math.Inf(-1)) // as in offer
		}
		if final.admits(c) {
			final.add(c)
		}
	}
	return final
}

// ensureParts grows the participants' memory to n, reused by later scans.
func (j *scanJob) ensureParts(n, blockRows int, quantized bool) {
	for len(j.parts) < n {
		p := scanPart{scores: make([]float32, blockRows)}
		if quantized {
			p.dots = make([]int32, blockRows)
		}
		j.parts = append(j.parts, p)
	}
}

// clear drops every reference into the index, so that pooled scratch does
// not keep a closed index's memory alive.
func (s *searchScratch) clear() {
	j := &s.job
	for i := range j.parts {
		j.parts[i].top.reset(nil, 0)
		j.parts[i].err = nil
	}
	j.e, j.ctx, j.filter, j.query, j.queryCodes = nil, nil, nil, nil, nil
	s.final.reset(nil, 0)
}

// run is one participant's work: claim chunks until none are left or the
// context is done.
func (j *scanJob) run(part int) {
	p := &j.parts[part]
	p.err = nil
	p.top.reset(j.e.ids, j.keep)
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
		if j.queryCodes != nil {
			j.scoreCodes(p, lo, hi)
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

// scoreCodes scores rows [lo, hi) by their codes: the integer dot product
// times the row's scale, which ranks rows as the dequantized vectors would.
func (j *scanJob) scoreCodes(p *scanPart, lo, hi int) {
	e := j.e
	for start := lo; start < hi; start += e.blockRows {
		end := min(start+e.blockRows, hi)
		dots := p.dots[:end-start]
		dotsInt8(dots, e.codes[start*e.stride:end*e.stride], j.queryCodes, e.stride)
		scores := p.scores[:len(dots)]
		scales := e.scales[start:end]
		for i, d := range dots {
			scores[i] = float32(d) * scales[i]
		}
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
		if len(j.filter) > 0 && !j.filter.Match(j.e.meta[c.slot]) {
			continue
		}
		top.add(c)
	}
}
