package hmpps

import (
	"context"
	"fmt"

	"hmpps/retrieval"
)

// Retrieval says where the candidates of a request that names none come
// from.
type Retrieval int

const (
	// RetrieveHybrid takes the best matches of both the vector index and
	// the lexical index and fuses the two lists by reciprocal rank (see
	// retrieval.RankFusion, with its default K). It is the default.
	RetrieveHybrid Retrieval = iota
	// RetrieveVector takes the vector index's best matches for the query
	// vector.
	RetrieveVector
	// RetrieveLexical takes the lexical index's best matches (BM25F) for
	// the query's words.
	RetrieveLexical
)

// String returns "hybrid", "vector" or "lexical".
func (r Retrieval) String() string {
	switch r {
	case RetrieveHybrid:
		return "hybrid"
	case RetrieveVector:
		return "vector"
	case RetrieveLexical:
		return "lexical"
	default:
		return fmt.Sprintf("Retrieval(%d)", int(r))
	}
}

// candidates returns the request's candidates that pass its filter (and,
// with ExcludeHistory, are not in history), or the best matches of the
// configured retrieval with their fused scores (nil for the request's own).
// With ExcludeHistory each index is asked for k more than the history
// holds, so that k candidates remain once it is left out.
func (e *Engine) candidates(ctx context.Context, qvec []float32, req *Request, history []*entry) ([]*entry, []float64, error) {
	if len(req.CandidateIDs) > 0 {
		all, err := e.lookupContext(ctx, "candidates", req.CandidateIDs)
		if err != nil {
			return nil, nil, err
		}
		out := all[:0]
		for _, en := range all {
			if req.Filter.MatchField(en.field) {
				out = append(out, en)
			}
		}
		if req.ExcludeHistory {
			out, _ = withoutHistory(out, nil, history)
		}
		return out, nil, nil
	}
	k := e.cfg.retrieveK
	if k == 0 {
		return nil, nil, nil
	}
	var exclude map[string]bool
	if req.ExcludeHistory {
		exclude = idSet(history)
	}
	lists, err := e.retrieveLists(ctx, qvec, req, k+len(exclude))
	if err != nil {
		return nil, nil, err
	}
	return e.fuse(ctx, lists, exclude, k)
}

// retrievedLists are the ranked lists of the indexes for one query, the
// vector index's and the lexical index's (nil for a retrieval that does not
// ask it).
type retrievedLists struct {
	vector, lexical []retrieval.Hit
}

// retrieveLists asks the configured indexes for their depth best matches
// for the request's query that pass its filter.
func (e *Engine) retrieveLists(ctx context.Context, qvec []float32, req *Request, depth int) (retrievedLists, error) {
	var l retrievedLists
	var err error
	switch e.cfg.retrieval {
	case RetrieveVector:
		l.vector, err = e.vectorSearch(ctx, qvec, depth, req.Filter)
	case RetrieveLexical:
		l.lexical, err = e.lexicalCandidates(ctx, req, depth)
	default:
		// Hybrid retrieval asks both indexes at once: the lexical search
		// runs on its own goroutine while this one waits on the vector
		// index, a scan or a server's answer. It takes e.mu itself, and is
		// waited for before this goroutine takes e.mu: holding a read lock
		// while waiting for another reader could deadlock behind a waiting
		// writer.
		done := make(chan struct{})
		var lexErr error
		go func() {
			defer close(done)
			l.lexical, lexErr = e.lexicalCandidates(ctx, req, depth)
		}()
		l.vector, err = e.vectorSearch(ctx, qvec, depth, req.Filter)
		<-done
		if err == nil {
			err = lexErr
		}
	}
	if err != nil {
		return l, fmt.Errorf("hmpps: retrieve: %w", err)
	}
	return l, nil
}

// fuse leaves the excluded products out of each list, fuses what remains
// by reciprocal rank and returns the k best that the catalog still holds,
// with their fused scores. Leaving them out of each list before fusing
// ranks exactly as indexes that never held them would.
func (e *Engine) fuse(ctx context.Context, l retrievedLists, exclude map[string]bool, k int) ([]*entry, []float64, error) {
	keep := func(hits []retrieval.Hit) []retrieval.Hit {
		if len(exclude) == 0 {
			return hits[:min(k, len(hits))]
		}
		out := make([]retrieval.Hit, 0, min(k, len(hits)))
		for _, h := range hits {
			if len(out) == k {
				break
			}
			if !exclude[h.ID] {
				out = append(out, h)
			}
		}
		return out
	}
	hits, err := retrieval.RankFusion{}.Fuse(k, retrieval.RankedList{Hits: keep(l.vector)}, retrieval.RankedList{Hits: keep(l.lexical)})
	if err != nil {
		return nil, nil, fmt.Errorf("hmpps: retrieve: %w", err)
	}
	return e.hitEntries(ctx, hits)
}

// idSet returns the IDs of entries as a set.
func idSet(entries []*entry) map[string]bool {
	out := make(map[string]bool, len(entries))
	for _, en := range entries {
		out[en.product.ID] = true
	}
	return out
}

// lexicalCandidates returns the lexical index's k best matches for the
// request's query that pass its filter.
func (e *Engine) lexicalCandidates(ctx context.Context, req *Request, k int) ([]retrieval.Hit, error) {
	if e.shared != nil {
		return e.sharedLexical(ctx, req, k)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	// Without a filter there is nothing to check: the lexical index holds
	// the products, since both are written under e.mu. With one, keep runs
	// under e.mu, which writers take before the lexical index's lock, so it
	// may read the products without locking.
	var keep func(id string) bool
	if len(req.Filter) > 0 {
		keep = func(id string) bool {
			rec, ok := e.products[id]
			return ok && req.Filter.MatchField(rec.field)
		}
	}
	return e.lex.Search(req.Query, k, keep), nil
}
