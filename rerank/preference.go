package rerank

import (
	"context"
	"errors"
	"fmt"
	"math"

	"hmpps/retrieval"
)

// Default weights of Preference, used when all of its weights are zero:
// the lexical match counts as much as the history, the query cosine half as
// much. On the validation purchases of the Amazon data, ranked over the
// whole catalog, this beat BM25 alone and every other blend tried (see
// docs/architecture.md).
const (
	DefaultLexicalWeight = 1
	DefaultQueryWeight   = 0.5
	DefaultHistoryWeight = 1
)

// ErrInvalidWeight reports a Preference weight that is negative, NaN or
// infinite.
var ErrInvalidWeight = errors.New("rerank: invalid weight")

// PreferenceScore returns how close candidate is to the user's kept history:
// the mean of dot(candidate, h.Vector) over history, weighted by each item's
// Relevance so that the items stage one found most relevant to the query
// count most. Negative or non-finite relevances weigh 0; if every weight is 0
// the mean is plain. It returns 0 for an empty history or candidate. The dot
// products are retrieval.Dot64's, so the score is the same on every machine.
//
// History items whose vector is empty or differs in length from candidate are
// skipped, so that the function never panics on unchecked input (a NaN
// component still makes the result NaN); Preference.Rerank rejects such
// vectors instead. It is exported because the engine reports it for every
// result, whichever reranker decides the order.
func PreferenceScore(candidate []float32, history []Item) float64 {
	if len(candidate) == 0 {
		return 0
	}
	var sum, wsum, plain float64
	var n int
	for _, h := range history {
		if len(h.Vector) != len(candidate) {
			continue
		}
		sim := retrieval.Dot64(candidate, h.Vector)
		w := relevanceWeight(h.Relevance)
		sum += w * sim
		wsum += w
		plain += sim
		n++
	}
	switch {
	case n == 0:
		return 0
	case wsum == 0:
		return plain / float64(n)
	}
	return sum / wsum
}

// relevanceWeight is the weight of a history item in PreferenceScore.
func relevanceWeight(r float32) float64 {
	w := float64(r)
	if w > 0 && !math.IsInf(w, 0) {
		return w
	}
	return 0
}

// Preference is the offline Reranker: it scores each candidate by a weighted
// mean of its lexical match with the query (Item.Lexical, the engine's BM25F
// score over the best candidate's), its similarity to the query and its
// PreferenceScore against the kept history, the last two inner products of
// fused vectors on the same cosine scale.
//
// All weights zero, the zero value, means the defaults (DefaultLexicalWeight,
// DefaultQueryWeight, DefaultHistoryWeight). The lexical term is there
// because a search engine's users type words that products hold, and an
// offline embedder that hashes words (retrieval.HashingEmbedder) ranks them
// worse than the BM25F score the engine already computes; without it, the
// untrained engine ranked below BM25 alone. Stage one has already kept only
// the history relevant to this query, so the history term is
// query-conditioned taste rather than a generic profile that would need
// discounting. Only the ratios of the weights matter. Setting any weight
// leaves the unset ones at zero: Preference{QueryWeight: 1, HistoryWeight: 1}
// is the score without the lexical term.
//
// A Preference is safe for concurrent use.
type Preference struct {
	// LexicalWeight is the weight of the candidate's Item.Lexical. Must be
	// finite and >= 0.
	LexicalWeight float64
	// QueryWeight is the weight of the candidate's similarity to the query;
	// raise it for users whose history is a poor guide. Must be finite and
	// >= 0.
	QueryWeight float64
	// HistoryWeight is the weight of the candidate's PreferenceScore; set it
	// to 0 to rank by the query alone. Must be finite and >= 0.
	HistoryWeight float64
}

var _ ContentReader = Preference{}

// ReadsContent returns false: Preference reads vectors only.
func (Preference) ReadsContent() bool { return false }

// Rerank scores every candidate as
//
//	(wl·c.Lexical + wq·dot(query, c) + wh·PreferenceScore(c, history)) / (wl + wq + wh)
//
// or without the history term (wh = 0) when the history is empty, so that
// an unpersonalized ranking has the same scale. Scores are in request order
// and never degraded; Usage is zero. Every dot product is retrieval.Dot64's,
// so the same request gets the same scores, bit for bit, on every machine,
// and the engine's tie-break decides the same order.
//
// The query vector is required, and every candidate and history vector must
// be finite and as long as it; otherwise Rerank returns an error wrapping
// retrieval.ErrInvalidVector or retrieval.ErrDimensionMismatch that names the
// item. A non-finite history Relevance or candidate Lexical, or an invalid
// weight (ErrInvalidWeight), is also an error.
func (p Preference) Rerank(ctx context.Context, req Request) (Result, error) {
	wl, wq, wh, err := p.weights()
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("rerank: preference: %w", err)
	}
	dim := len(req.QueryVector)
	if err := retrieval.CheckVector(req.QueryVector, 0); err != nil {
		return Result{}, fmt.Errorf("rerank: query vector: %w", err)
	}
	for _, h := range req.History {
		if err := retrieval.CheckVector(h.Vector, dim); err != nil {
			return Result{}, fmt.Errorf("rerank: history item %q: %w", h.ID, err)
		}
		if r := float64(h.Relevance); math.IsNaN(r) || math.IsInf(r, 0) {
			return Result{}, fmt.Errorf("rerank: history item %q: relevance is %v", h.ID, h.Relevance)
		}
	}
	for _, c := range req.Candidates {
		if err := retrieval.CheckVector(c.Vector, dim); err != nil {
			return Result{}, fmt.Errorf("rerank: candidate %q: %w", c.ID, err)
		}
		if math.IsNaN(c.Lexical) || math.IsInf(c.Lexical, 0) {
			return Result{}, fmt.Errorf("rerank: candidate %q: lexical match is %v", c.ID, c.Lexical)
		}
	}
	if len(req.History) == 0 {
		wh = 0
		if wl == 0 && wq == 0 {
			wq = 1
		}
	}
	scores := make([]Score, len(req.Candidates))
	for i, c := range req.Candidates {
		if err := ctx.Err(); err != nil {
			return Result{}, fmt.Errorf("rerank: preference: %w", err)
		}
		s := wq * retrieval.Dot64(req.QueryVector, c.Vector)
		if wl > 0 {
			s += wl * c.Lexical
		}
		if wh > 0 {
			s += wh * PreferenceScore(c.Vector, req.History)
		}
		scores[i] = Score{ID: c.ID, Score: s / (wl + wq + wh)}
	}
	return Result{Scores: scores}, nil
}

// weights returns the weights to use, applying the defaults and scaling the
// largest to 1 so that their sum cannot overflow.
func (p Preference) weights() (wl, wq, wh float64, err error) {
	wl, wq, wh = p.LexicalWeight, p.QueryWeight, p.HistoryWeight
	for _, w := range []float64{wl, wq, wh} {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return 0, 0, 0, fmt.Errorf("%w: lexical %v, query %v, history %v", ErrInvalidWeight, wl, wq, wh)
		}
	}
	if wl == 0 && wq == 0 && wh == 0 {
		wl, wq, wh = DefaultLexicalWeight, DefaultQueryWeight, DefaultHistoryWeight
	}
	m := max(wl, wq, wh)
	return wl / m, wq / m, wh / m, nil
}
