package retrieval

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/viterin/vek/vek32"
)

// DefaultHistoryK is how many history items a HistoryFilter keeps when its K
// is zero: enough to describe the user's taste for one query, few enough to
// fit a reranker's prompt.
const DefaultHistoryK = 5

// HistoryFilter is stage one of HMPPS: of everything a user bought or viewed,
// it keeps only the few items relevant to the current query, so that the
// later stages personalize with signal instead of the whole, mostly
// unrelated, history.
//
// Each item is scored by inner product,
//
//	score = (1-w)·(query·item) + w·(candidate·item)
//
// with w the CandidateWeight, and the K best items with score >= MinScore are
// kept. The inner product is the intended similarity: pass unit vectors (e.g.
// from HashingEmbedder) or, in a multimodal engine, fused product vectors for
// the items and a VectorFusion.Query vector for the query, whose inner product is
// the query-to-text cosine (see VectorFusion). A candidate, when given, is the
// product being reranked, and w > 0 favours history items that resemble it.
// Because the score is linear, the query and candidate are blended once and
// each item costs a single SIMD dot product.
//
// The zero value keeps the DefaultHistoryK items most similar to the query,
// whatever their score. A HistoryFilter is a plain value, safe to share.
type HistoryFilter struct {
	// K is the most items to keep. If zero, DefaultHistoryK. Selection is a
	// bounded heap, not a sort of the whole history, so it costs n·log K
	// comparisons for n items; K is meant to be small.
	K int
	// MinScore, if set, drops items whose score is below it (an item scoring
	// exactly MinScore is kept), so a user with no relevant history gets
	// fewer than K items, possibly none. If nil, there is no threshold and
	// the top K are kept whatever their score. It is a pointer because every
	// float, zero included, is a meaningful threshold.
	MinScore *float32
	// CandidateWeight, in [0, 1], is the share of candidate·item in the
	// score. Zero scores by the query alone, and so does a nil candidate
	// whatever the weight.
	CandidateWeight float32
}

// HistoryItem is one product from the user's history with its vector.
type HistoryItem struct {
	// ID names the item in results and errors.
	ID string
	// Vector must have the query's length and finite components.
	Vector []float32
}

// HistoryHit is a history item the filter kept.
type HistoryHit struct {
	// Index is the item's position in the history slice passed in, so the
	// caller can find its own record without a lookup by ID.
	Index int
	// ID is the item's ID.
	ID string
	// Score is the item's blended inner product; higher is more relevant.
	Score float32
}

// HistoryScratch holds the buffer AppendFilter needs to blend the query
// with a candidate. Reusing one makes AppendFilter allocation-free after the
// first call. The zero value is ready to use; a HistoryScratch must not be
// used by two goroutines at once.
type HistoryScratch struct {
	blended []float32
}

// Validate returns an error wrapping ErrInvalidConfig when K is negative,
// CandidateWeight is outside [0, 1] or MinScore is not finite.
func (f HistoryFilter) Validate() error {
	if f.K < 0 {
		return fmt.Errorf("%w: history filter K %d is negative", ErrInvalidConfig, f.K)
	}
	if w := f.CandidateWeight; math.IsNaN(float64(w)) || w < 0 || w > 1 {
		return fmt.Errorf("%w: history filter candidate weight %v is outside [0, 1]", ErrInvalidConfig, w)
	}
	if f.MinScore != nil && !finite32(*f.MinScore) {
		return fmt.Errorf("%w: history filter min score %v is not finite", ErrInvalidConfig, *f.MinScore)
	}
	return nil
}

// Filter returns the kept items, best first; ties go to the earlier item.
// candidate may be nil. An empty history gives an empty result. A query or
// candidate that is empty, not finite or of another length than the query,
// and any history item whose vector has another length or is not finite,
// fail the call with an error wrapping ErrInvalidVector or
// ErrDimensionMismatch that names the item: a broken item is never skipped
// silently.
func (f HistoryFilter) Filter(query, candidate []float32, history []HistoryItem) ([]HistoryHit, error) {
	if err := f.Validate(); err != nil {
		return nil, err // before sizing dst by a possibly negative K
	}
	kept, err := f.AppendFilter(make([]HistoryHit, 0, min(f.k(), len(history))), query, candidate, history, nil)
	if err != nil {
		return nil, err
	}
	return kept, nil
}

// AppendFilter is Filter for hot paths: it appends the kept items to dst and
// returns the extended slice, and blends query and candidate in scratch
// (which may be nil, at the cost of an allocation when blending). With a
// reused dst and scratch it does not allocate. On error it returns dst
// unchanged.
func (f HistoryFilter) AppendFilter(dst []HistoryHit, query, candidate []float32, history []HistoryItem, scratch *HistoryScratch) ([]HistoryHit, error) {
	return f.appendFilter(dst, query, candidate, history, scratch, vek32.Dot)
}

func (f HistoryFilter) k() int {
	if f.K == 0 {
		return DefaultHistoryK
	}
	return f.K
}

// appendFilter takes the dot product as a parameter so that a benchmark can
// measure the same work without SIMD.
func (f HistoryFilter) appendFilter(dst []HistoryHit, query, candidate []float32, history []HistoryItem,
	scratch *HistoryScratch, dot func(a, b []float32) float32) ([]HistoryHit, error) {
	if err := f.Validate(); err != nil {
		return dst, err
	}
	probe, err := f.probe(query, candidate, scratch)
	if err != nil {
		return dst, err
	}
	k, base := f.k(), len(dst)
	for i := range history {
		item := &history[i]
		if len(item.Vector) != len(probe) {
			return dst[:base], fmt.Errorf("retrieval: history filter: item %d (%q): %w: got %d, want %d",
				i, item.ID, ErrDimensionMismatch, len(item.Vector), len(probe))
		}
		s := dot(probe, item.Vector)
		if !finite32(s) {
			// A NaN or infinite component always makes the dot product
			// non-finite, so checking the score is enough on the hot path;
			// only now find out which it was.
			if err := CheckVector(item.Vector, 0); err != nil {
				return dst[:base], fmt.Errorf("retrieval: history filter: item %d (%q): %w", i, item.ID, err)
			}
			return dst[:base], fmt.Errorf("retrieval: history filter: item %d (%q): %w: score overflows float32",
				i, item.ID, ErrInvalidVector)
		}
		if f.MinScore != nil && s < *f.MinScore {
			continue
		}
		dst = pushKept(dst, base, k, HistoryHit{Index: i, ID: item.ID, Score: s})
	}
	slices.SortFunc(dst[base:], func(a, b HistoryHit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Index, b.Index)
	})
	return dst, nil
}

// probe checks query and candidate and returns the single vector every item
// is scored against: the dot product is linear, so blending the two once
// costs one pass instead of a second dot product per item.
func (f HistoryFilter) probe(query, candidate []float32, scratch *HistoryScratch) ([]float32, error) {
	if err := CheckVector(query, 0); err != nil {
		return nil, fmt.Errorf("retrieval: history filter: query: %w", err)
	}
	if candidate == nil {
		return query, nil
	}
	// Checked even when its weight is zero: a broken candidate is a bug
	// upstream that should not depend on a setting to surface.
	if err := CheckVector(candidate, len(query)); err != nil {
		return nil, fmt.Errorf("retrieval: history filter: candidate: %w", err)
	}
	w := f.CandidateWeight
	if w == 0 {
		return query, nil
	}
	if w == 1 {
		return candidate, nil
	}
	if scratch == nil {
		scratch = new(HistoryScratch)
	}
	b := slices.Grow(scratch.blended[:0], len(query))[:len(query)]
	scratch.blended = b
	// In float64, where both products of float32s are exact, so the blend
	// is rounded once and is the same whether or not the compiler fuses the
	// multiply and add (it may on arm64, not on amd64).
	wq, wc := float64(1-w), float64(w)
	for i := range b {
		b[i] = float32(wq*float64(query[i]) + wc*float64(candidate[i]))
	}
	if err := CheckVector(b, 0); err != nil {
		return nil, fmt.Errorf("retrieval: history filter: blending query and candidate: %w", err)
	}
	return b, nil
}

// keptWorse orders kept items for the heap: lower score first, and among equal
// scores the later item, so ties keep the earlier one.
func keptWorse(a, b HistoryHit) bool {
	return a.Score < b.Score || (a.Score == b.Score && a.Index > b.Index)
}

// pushKept offers it to the min-heap (worst item at the root) held in
// dst[base:], which never grows beyond k items.
func pushKept(dst []HistoryHit, base, k int, it HistoryHit) []HistoryHit {
	h := dst[base:]
	if len(h) < k {
		dst = append(dst, it)
		h = dst[base:]
		for c := len(h) - 1; c > 0; {
			p := (c - 1) / 2
			if !keptWorse(h[c], h[p]) {
				break
			}
			h[c], h[p] = h[p], h[c]
			c = p
		}
		return dst
	}
	if !keptWorse(h[0], it) {
		return dst
	}
	h[0] = it
	for p := 0; ; {
		c := 2*p + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && keptWorse(h[c+1], h[c]) {
			c++
		}
		if !keptWorse(h[c], h[p]) {
			break
		}
		h[c], h[p] = h[p], h[c]
		p = c
	}
	return dst
}

func finite32(x float32) bool {
	return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
}
