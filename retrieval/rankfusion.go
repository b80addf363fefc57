package retrieval

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// DefaultRRFK is RankFusion's K when it is zero: the value of Cormack,
// Clarke and Büttcher (SIGIR 2009). With it, a product near the top of one
// list and absent from the others ties with one in the middle of two.
const DefaultRRFK = 60

// ErrInvalidFusion reports a RankFusion or RankedList setting that cannot
// fuse: a negative K, or a weight that is negative, NaN or infinite.
var ErrInvalidFusion = errors.New("retrieval: invalid rank fusion")

// RankedList is one ranking to fuse: its hits, best first, and how much a
// place in it counts.
type RankedList struct {
	// Hits are the list's products, best first; only their order is read.
	// An ID a list holds twice counts at its first place.
	Hits []Hit
	// Weight scales the list's reciprocal ranks. If zero, 1; it must not
	// be negative.
	Weight float64
}

// RankFusion combines ranked lists of products by weighted reciprocal
// rank: a product scores
//
//	Σ_lists weight / (K + rank)
//
// over the lists it is in, rank counting from 1. Ranks, not scores, are
// compared, so lists whose scores have no common scale (a cosine, a BM25F
// score, a count of purchases) fuse without calibration. The zero value is
// ready to use.
type RankFusion struct {
	// K damps the difference between the first places. If zero,
	// DefaultRRFK; it must not be negative.
	K int
}

// Validate returns an error wrapping ErrInvalidFusion for a negative K or
// a list weight that is negative, NaN or infinite.
func (f RankFusion) Validate(lists ...RankedList) error {
	if f.K < 0 {
		return fmt.Errorf("%w: K %d is negative", ErrInvalidFusion, f.K)
	}
	for i, l := range lists {
		if w := l.Weight; w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("%w: list %d has weight %v", ErrInvalidFusion, i, w)
		}
	}
	return nil
}

// Fuse returns the n best products of the lists, best first, each Hit's
// Score its fused score rounded to float32; they are ordered by the exact
// sums, equal sums by ascending ID. A single list keeps its own order. It
// returns an error wrapping ErrInvalidFusion for invalid settings (see
// Validate).
func (f RankFusion) Fuse(n int, lists ...RankedList) ([]Hit, error) {
	if err := f.Validate(lists...); err != nil {
		return nil, err
	}
	k := f.K
	if k == 0 {
		k = DefaultRRFK
	}
	// Each ID's fused score, summed in list order; the map only finds an
	// ID's place, so that the sort compares values, not map lookups.
	type fused struct {
		id    string
		score float64
		// last is the list that added to score last, so that a list's
		// repeated ID counts once.
		last int
	}
	size := 0
	for _, l := range lists {
		size += len(l.Hits)
	}
	at := make(map[string]int, size)
	all := make([]fused, 0, size)
	for li, l := range lists {
		w := l.Weight
		if w == 0 {
			w = 1
		}
		for rank, h := range l.Hits {
			s := w / float64(k+rank+1)
			i, ok := at[h.ID]
			switch {
			case !ok:
				at[h.ID] = len(all)
				all = append(all, fused{id: h.ID, score: s, last: li})
			case all[i].last != li:
				all[i].score += s
				all[i].last = li
			}
		}
	}
	slices.SortFunc(all, func(x, y fused) int {
		if c := cmp.Compare(y.score, x.score); c != 0 {
			return c
		}
		return cmp.Compare(x.id, y.id)
	})
	out := make([]Hit, min(max(n, 0), len(all)))
	for i := range out {
		out[i] = Hit{ID: all[i].id, Score: float32(all[i].score)}
	}
	return out, nil
}
