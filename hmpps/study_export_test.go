package hmpps

import (
	"context"

	"hmpps/internal/ltr"
	"hmpps/internal/rankmetric"
)

// StudyLists builds Train's standardized lists without learning, for the
// validation study (go test -tags study).
func StudyLists(ctx context.Context, e *Engine, examples []TrainingExample, opts TrainOptions) (train, val []ltr.List, err error) {
	_, train, val, err = buildLists(ctx, e, examples, opts.withDefaults())
	return train, val, err
}

// StudyNames are the feature names by kind: candidate, pair, history.
func StudyNames() (cand, pair, hist []string) {
	return candidateFeatures, pairFeatures, historyFeatures
}

// StudyNDCG is Train's validation measure.
func StudyNDCG(w ltr.Weights, lists []ltr.List) float64 { return meanNDCG10(w, lists) }

// StudyRecountedValidation builds the validation lists again, read as a
// search of a model recounted on counted reads them, standardized as the
// training lists of the first build; what Recount before an evaluation
// would show.
func StudyRecountedValidation(ctx context.Context, e *Engine, examples, counted []TrainingExample, opts TrainOptions) ([]ltr.List, error) {
	opts = opts.withDefaults()
	m, _, _, err := buildLists(ctx, e, examples, opts)
	if err != nil {
		return nil, err
	}
	r, err := m.Recount(counted)
	if err != nil {
		return nil, err
	}
	r.cats = &categoryCache{}
	r.cats.fill(e.decodedEntries())
	b := &listBuilder{e: e, m: r, opts: opts, catalog: e.catalogIDs()}
	if opts.Candidates == TrainRetrieved {
		b.depth = e.cfg.retrieveK + maxHistory(examples, opts.Validation)
	}
	search := r.collab.view(r.popularity)
	val := make([]ltr.List, len(opts.Validation))
	for i := range opts.Validation {
		l, err := b.list(ctx, &opts.Validation[i], search, false, nil)
		if err != nil {
			return nil, err
		}
		m.scaler.Apply(&l)
		val[i] = l
	}
	return val, nil
}

// StudyEnsembleNDCG is Train's validation measure for the mean score of
// several weights.
func StudyEnsembleNDCG(ws []ltr.Weights, lists []ltr.List) float64 {
	var sum float64
	var a, s, total []float64
	for i := range lists {
		if lists[i].Positive < 0 {
			continue
		}
		total = grow(total, lists[i].C)
		clear(total)
		for _, w := range ws {
			a = w.Attention(&lists[i], a)
			s = w.Score(&lists[i], a, s)
			for j, v := range s {
				total[j] += v
			}
		}
		sum += rankmetric.NDCG(rankmetric.Rank(total, lists[i].Positive), 10)
	}
	return sum / float64(len(lists))
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
