package rerank

import (
	"context"
	"errors"
	"fmt"
	"math"

	"hmpps/retrieval"
)

// Default weights of Preference, used when both of its weights are zero.
const (
	DefaultQueryWeight   = 0.5
	DefaultHistoryWeight = 0.5
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
// mean of its similarity to the query and its PreferenceScore against the kept
// history, both inner products of fused vectors on the same cosine scale.
//
// Both weights zero, the zero value, means the defaults: an equal split. The
// two terms are on the same scale, and stage one has already kept only the
// history relevant to this query, so the history term is query-conditioned
// taste rather than a generic profile that would need discounting; without
// click data to tune on, equal weights are the neutral choice and keep the
// score a plain average. Only the ratio of the weights matters.
//
// A Preference is safe for concurrent use.
type Preference struct {
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
//	(wq·dot(query, c) + wh·PreferenceScore(c, history)) / (wq + wh)
//
// or as dot(query, c) alone when the history is empty, so that an
// unpersonalized ranking has the same scale. Scores are in request order and
// never degraded; Usage is zero. Every dot product is retrieval.Dot64's, so
// the same request gets the same scores, bit for bit, on every machine, and
// the engine's tie-break decides the same order.
//
// The query vector is required, and every candidate and history vector must
// be finite and as long as it; otherwise Rerank returns an error wrapping
// retrieval.ErrInvalidVector or retrieval.ErrDimensionMismatch that names the
// item. A non-finite history Relevance or an invalid weight (ErrInvalidWeight)
// is also an error.
func (p Preference) Rerank(ctx context.Context, req Request) (Result, error) {
	wq, wh, err := p.weights()
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
	}
	if len(req.History) == 0 {
		wq, wh = 1, 0
	}
	scores := make([]Score, len(req.Candidates))
	for i, c := range req.Candidates {
		if err := ctx.Err(); err != nil {
			return Result{}, fmt.Errorf("rerank: preference: %w", err)
		}
		s := wq * retrieval.Dot64(req.QueryVector, c.Vector)
		if wh > 0 {
			s += wh * PreferenceScore(c.Vector, req.History)
		}
		scores[i] = Score{ID: c.ID, Score: s / (wq + wh)}
	}
	return Result{Scores: scores}, nil
}

// weights returns the weights to use, applying the defaults and scaling the
// larger to 1 so that their sum cannot overflow.
func (p Preference) weights() (wq, wh float64, err error) {
	wq, wh = p.QueryWeight, p.HistoryWeight
	for _, w := range []float64{wq, wh} {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return 0, 0, fmt.Errorf("%w: query %v, history %v", ErrInvalidWeight, wq, wh)
		}
	}
	if wq == 0 && wh == 0 {
		wq, wh = DefaultQueryWeight, DefaultHistoryWeight
	}
	m := max(wq, wh)
	return wq / m, wh / m, nil
}
