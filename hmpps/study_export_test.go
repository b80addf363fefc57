package hmpps

import (
	"context"

	"hmpps/internal/ltr"
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
