package hmpps

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"hmpps/internal/ltr"
	"hmpps/rerank"
)

// learned is a trained model's view of one search: the standardized
// features of its candidates and history, stage one's attention over the
// history and stage two's score of each candidate.
type learned struct {
	list      ltr.List
	attention []float64
	scores    []float64
}

// learn computes the model's features, attention and scores for a search
// over history (in request order) and candidates, whose lexical scores the
// caller may pass in lexCand (nil: computed here).
func (e *Engine) learn(m *Model, query string, qvec []float32, history, candidates []*entry, lexCand []float64) *learned {
	in := featureInput{query: query, qvec: qvec, history: history, candidates: candidates,
		popularity: m.popularity, leaveOut: -1, lexCand: lexCand}
	if in.lexCand == nil {
		in.lexCand = e.lexicalScores(query, candidates)
	}
	in.lexHist = e.lexicalScores(query, history)
	l := &learned{list: features(&in, e.cfg.textEmbedder.Dimension())}
	m.scaler.Apply(&l.list)
	w := m.weights
	if m.DisableStageOne {
		// Trained with uniform attention: zero stage-one weights give it.
		w = ltr.Weights{Cand: w.Cand, Pair: w.Pair, Attn: make([]float64, len(w.Attn))}
	}
	l.attention = w.Attention(&l.list, nil)
	l.scores = w.Score(&l.list, l.attention, nil)
	return l
}

// stageOne keeps the history items relevant to the query: by the learned
// attention when a model is loaded (unless its stage one is off), else by
// the configured filter; k overrides how many (0: the model's or filter's
// setting). With a model it also returns the model's view of the search,
// for which lexCand may hold the candidates' lexical scores (nil: computed).
func (e *Engine) stageOne(query string, qvec []float32, history, candidates []*entry, lexCand []float64, k int) ([]item, *learned, error) {
	m := e.cfg.model
	var l *learned
	if m != nil {
		l = e.learn(m, query, qvec, history, candidates, lexCand)
		if !m.DisableStageOne {
			if k <= 0 {
				k = m.historyK()
			}
			return l.keepAttended(history, k), l, nil
		}
	}
	kept, err := e.keepHistory(qvec, history, k)
	return kept, l, err
}

// keepAttended is the learned stage one: the k history items of highest
// attention, best first; among equal weights the one the request lists
// first.
func (l *learned) keepAttended(history []*entry, k int) []item {
	order := make([]int, len(history))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(l.attention[b], l.attention[a]) })
	order = order[:min(k, len(order))]
	out := make([]item, len(order))
	for i, h := range order {
		out[i] = item{en: history[h], relevance: float32(l.attention[h])}
	}
	return out
}

// rankLearned gives every candidate its learned score as the reranker's.
func (l *learned) rankLearned(candidates []item) {
	for i := range candidates {
		candidates[i].score = rerank.Score{ID: candidates[i].en.product.ID, Score: l.scores[i]}
	}
}

// ranker returns the learned score as an offline reranker for candidates
// (the search's, in the order learn saw them): it scores any subset of
// them by ID.
func (l *learned) ranker(candidates []item) rerank.Reranker {
	byID := make(map[string]float64, len(candidates))
	for i := range candidates {
		byID[candidates[i].en.product.ID] = l.scores[i]
	}
	return rerank.Func(func(_ context.Context, req rerank.Request) (rerank.Result, error) {
		res := rerank.Result{Scores: make([]rerank.Score, len(req.Candidates))}
		for i, c := range req.Candidates {
			s, ok := byID[c.ID]
			if !ok {
				return rerank.Result{}, fmt.Errorf("learned ranker: candidate %q was not scored", c.ID)
			}
			res.Scores[i] = rerank.Score{ID: c.ID, Score: s}
		}
		return res, nil
	})
}
