package hmpps

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"hmpps/retrieval"
)

// Retrieval says where the candidates of a request that names none come
// from.
type Retrieval int

const (
	// RetrieveHybrid takes the best matches of both the vector index and
	// the lexical index and fuses the two lists by reciprocal rank (see
	// RRFK). It is the default.
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

// RRFK is the constant of reciprocal-rank fusion (Cormack, Clarke and
// Büttcher, SIGIR 2009): hybrid retrieval scores a product
//
//	Σ_lists 1 / (RRFK + rank)
//
// over the lists it is in, rank counting from 1, and keeps the best. 60 is
// the paper's value: a product near the top of one list and absent from the
// other ties with one in the middle of both, and ranks, not scores, are
// compared, so a cosine and a BM25F score need no common scale.
const RRFK = 60

// candidates returns the request's candidates that pass its filter, or the
// best matches of the configured retrieval.
func (e *Engine) candidates(ctx context.Context, qvec []float32, req *Request) ([]*entry, error) {
	if len(req.CandidateIDs) > 0 {
		all, err := e.lookup("candidates", req.CandidateIDs)
		if err != nil {
			return nil, err
		}
		out := all[:0]
		for _, en := range all {
			if len(req.Filter) == 0 || req.Filter.Match(en.product.metadata()) {
				out = append(out, en)
			}
		}
		return out, nil
	}
	k := e.cfg.retrieveK
	if k == 0 {
		return nil, nil
	}
	var vector, lexical []retrieval.Hit
	var err error
	switch e.cfg.retrieval {
	case RetrieveVector:
		vector, err = e.ix.Search(ctx, qvec, k, req.Filter)
	case RetrieveLexical:
		lexical = e.lexicalCandidates(req, k)
	default:
		// Hybrid retrieval asks both indexes at once: the lexical search
		// runs on its own goroutine while this one waits on the vector
		// index, a scan or a server's answer. It takes e.mu itself, and is
		// waited for before this goroutine takes e.mu: holding a read lock
		// while waiting for another reader could deadlock behind a waiting
		// writer.
		done := make(chan struct{})
		go func() {
			defer close(done)
			lexical = e.lexicalCandidates(req, k)
		}()
		vector, err = e.ix.Search(ctx, qvec, k, req.Filter)
		<-done
	}
	if err != nil {
		return nil, fmt.Errorf("hmpps: retrieve: %w", err)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	ids := fuseRanks(vector, lexical, k)
	out := make([]*entry, 0, len(ids))
	for _, id := range ids {
		// A product deleted since the index answered is skipped.
		if en, ok := e.products[id]; ok {
			out = append(out, en)
		}
	}
	return out, nil
}

// lexicalCandidates returns the lexical index's k best matches for the
// request's query that pass its filter.
func (e *Engine) lexicalCandidates(req *Request, k int) []retrieval.Hit {
	e.mu.RLock()
	defer e.mu.RUnlock()
	// Without a filter there is nothing to check: the lexical index holds
	// the products, since both are written under e.mu. With one, keep runs
	// under e.mu, which writers take before the lexical index's lock, so it
	// may read the products without locking.
	var keep func(id string) bool
	if len(req.Filter) > 0 {
		keep = func(id string) bool {
			en, ok := e.products[id]
			return ok && req.Filter.Match(en.product.metadata())
		}
	}
	return e.lex.Search(req.Query, k, keep)
}

// fuseRanks returns the IDs of the k best hits of the two lists by
// reciprocal-rank fusion (see RRFK), best first; equal fused scores come in
// ascending ID order. With one list empty, it is the other's order.
func fuseRanks(a, b []retrieval.Hit, k int) []string {
	if len(b) == 0 || len(a) == 0 {
		hits := a
		if len(a) == 0 {
			hits = b
		}
		ids := make([]string, min(k, len(hits)))
		for i := range ids {
			ids[i] = hits[i].ID
		}
		return ids
	}
	// Each ID's fused score, summed in list order; the map only finds an
	// ID's place, so that the sort compares values, not map lookups.
	type fused struct {
		id    string
		score float64
	}
	at := make(map[string]int, len(a)+len(b))
	all := make([]fused, 0, len(a)+len(b))
	for _, hits := range [][]retrieval.Hit{a, b} {
		for rank, h := range hits {
			s := 1 / float64(RRFK+rank+1)
			if i, ok := at[h.ID]; ok {
				all[i].score += s
			} else {
				at[h.ID] = len(all)
				all = append(all, fused{id: h.ID, score: s})
			}
		}
	}
	slices.SortFunc(all, func(x, y fused) int {
		if c := cmp.Compare(y.score, x.score); c != 0 {
			return c
		}
		return cmp.Compare(x.id, y.id)
	})
	ids := make([]string, min(k, len(all)))
	for i := range ids {
		ids[i] = all[i].id
	}
	return ids
}
