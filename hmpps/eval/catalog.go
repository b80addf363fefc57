package eval

import (
	"context"
	"fmt"
	"slices"
)

// DefaultDepth is how far down a whole-catalog ranking is read: the 100
// results a shop's search would show over a few pages, and the candidates
// an engine retrieves by default (hmpps.DefaultRetrieveK).
const DefaultDepth = 100

// EvaluateCatalog has every method rank the whole catalog for every task, the
// protocol a shop lives with: each task's candidates are every product of
// catalog but the ones in its history (what the user bought is not shown to
// them again), in catalog order; the task's own Candidates are ignored. The
// target's rank is Rank's, pessimistic on ties; a target ranked below
// opts.Depth (DefaultDepth) is a miss, rank 0, as is a target in its own
// history (a repeat purchase, which no method may rank). HR@k, NDCG@k and
// Recall@100 are then those of the top Depth, and MRR is cut at Depth.
//
// Methods that score candidates (BM25, Popularity, QueryCosine, CoPurchase)
// score the whole catalog; an EngineMethod with a Depth retrieves with the
// engine's own indexes instead and scores what it returns. A target missing
// from catalog is an error wrapping ErrInvalidSplit.
func EvaluateCatalog(ctx context.Context, catalog []string, tasks []Task, methods []Method, opts Options) (*Report, error) {
	if len(tasks) == 0 {
		return nil, fmt.Errorf("%w: no tasks to evaluate", ErrInvalidSplit)
	}
	if opts.Depth <= 0 {
		opts.Depth = DefaultDepth
	}
	at := make(map[string]int, len(catalog))
	for i, id := range catalog {
		at[id] = i
	}
	for _, t := range tasks {
		if _, ok := at[t.Target]; !ok {
			return nil, fmt.Errorf("%w: user %q: target %q is not in the catalog", ErrInvalidSplit, t.User, t.Target)
		}
	}
	return evaluate(ctx, len(tasks), methods, opts, func(i int) (Task, int) {
		t := tasks[i]
		t.Candidates = CatalogCandidates(catalog, t.History)
		return t, slices.Index(t.Candidates, t.Target)
	})
}

// CatalogCandidates returns the products of catalog that are not in
// history, in catalog order: what a whole-catalog ranking ranks.
func CatalogCandidates(catalog, history []string) []string {
	out := make([]string, 0, len(catalog))
	for _, id := range catalog {
		if !slices.Contains(history, id) {
			out = append(out, id)
		}
	}
	return out
}
