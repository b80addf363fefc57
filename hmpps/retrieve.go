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

// candidates returns the request's candidates that pass its filter, or the
// best matches of the configured retrieval with their fused scores (nil for
// the request's own).
func (e *Engine) candidates(ctx context.Context, qvec []float32, req *Request) ([]*entry, []float64, error) {
	if len(req.CandidateIDs) > 0 {
		all, err := e.lookup("candidates", req.CandidateIDs)
		if err != nil {
			return nil, nil, err
		}
		out := all[:0]
		for _, en := range all {
			if req.Filter.MatchField(en.field) {
				out = append(out, en)
			}
		}
		return out, nil, nil
	}
	k := e.cfg.retrieveK
	if k == 0 {
		return nil, nil, nil
	}
	var vector, lexical []retrieval.Hit
	var err error
	switch e.cfg.retrieval {
	case RetrieveVector:
		vector, err = e.vectorSearch(ctx, qvec, k, req.Filter)
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
		vector, err = e.vectorSearch(ctx, qvec, k, req.Filter)
		<-done
	}
	if err != nil {
		return nil, nil, fmt.Errorf("hmpps: retrieve: %w", err)
	}
	hits, err := retrieval.RankFusion{}.Fuse(k, retrieval.RankedList{Hits: vector}, retrieval.RankedList{Hits: lexical})
	if err != nil {
		return nil, nil, fmt.Errorf("hmpps: retrieve: %w", err)
	}
	return e.hitEntries(hits)
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
			rec, ok := e.products[id]
			return ok && req.Filter.MatchField(rec.field)
		}
	}
	return e.lex.Search(req.Query, k, keep)
}
