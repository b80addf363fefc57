package hmpps

import (
	"context"
	"slices"

	"hmpps/internal/ltr"
	"hmpps/internal/rankmetric"
)

// StudyLists builds Train's standardized lists without learning, and the
// model they were built for (its counts and standardization, no weights),
// for the validation study (go test -tags study).
func StudyLists(ctx context.Context, e *Engine, examples []TrainingExample, opts TrainOptions) (*Model, []ltr.List, []ltr.List, error) {
	return buildLists(ctx, e, examples, opts.withDefaults())
}

// StudyNames are the feature names by kind: candidate, pair, history.
func StudyNames() (cand, pair, hist []string) {
	return candidateFeatures, pairFeatures, historyFeatures
}

// StudyNDCG is Train's validation measure.
func StudyNDCG(w ltr.Weights, lists []ltr.List) float64 { return meanNDCG10(w, lists) }

// StudyRecountedValidation builds the validation lists again, read as a
// search of m (from StudyLists of examples) recounted on counted reads
// them, standardized as m's training lists; what Recount before an
// evaluation would show.
func StudyRecountedValidation(ctx context.Context, e *Engine, m *Model, examples, counted []TrainingExample, opts TrainOptions) ([]ltr.List, error) {
	opts = opts.withDefaults()
	r, err := m.Recount(counted)
	if err != nil {
		return nil, err
	}
	r.cats = &categoryCache{}
	r.cats.fill(e.decodedEntries())
	b := newListBuilder(e, r, opts, examples)
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
		total = slices.Grow(total[:0], lists[i].C)[:lists[i].C]
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
