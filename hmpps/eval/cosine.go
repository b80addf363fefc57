package eval

import (
	"context"
	"fmt"

	"hmpps/hmpps"
	"hmpps/retrieval"
)

// QueryCosine scores a candidate by the cosine similarity of the query's
// text vector and the candidate's, from one Embedder: dense retrieval
// without personalization, reranking or summaries. Build it with
// NewQueryCosine.
type QueryCosine struct {
	embedder retrieval.Embedder
	vectors  map[string][]float32
}

// NewQueryCosine embeds the products' text (title, brand, category path and
// description) with e.
func NewQueryCosine(ctx context.Context, e retrieval.Embedder, products []hmpps.Product) (*QueryCosine, error) {
	texts := make([]string, len(products))
	for i, p := range products {
		texts[i] = productText(p)
	}
	vecs, err := e.Embed(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("eval: query cosine: %w", err)
	}
	if len(vecs) != len(products) {
		return nil, fmt.Errorf("eval: query cosine: embedder returned %d vectors for %d texts", len(vecs), len(products))
	}
	q := &QueryCosine{embedder: e, vectors: make(map[string][]float32, len(products))}
	for i, p := range products {
		if err := unitVector(vecs[i], e.Dimension()); err != nil {
			return nil, fmt.Errorf("eval: query cosine: product %q: %w", p.ID, err)
		}
		q.vectors[p.ID] = vecs[i]
	}
	return q, nil
}

// Name returns "query cosine".
func (*QueryCosine) Name() string { return "query cosine" }

// Score implements Method. A candidate without a vector scores -1, below any
// cosine.
func (q *QueryCosine) Score(ctx context.Context, t Task) (Scored, error) {
	vecs, err := q.embedder.Embed(ctx, []string{t.Query})
	if err != nil {
		return Scored{}, fmt.Errorf("eval: query cosine: %w", err)
	}
	if len(vecs) != 1 {
		return Scored{}, fmt.Errorf("eval: query cosine: embedder returned %d vectors for 1 query", len(vecs))
	}
	qv := vecs[0]
	if err := unitVector(qv, q.embedder.Dimension()); err != nil {
		return Scored{}, fmt.Errorf("eval: query cosine: query: %w", err)
	}
	scores := make([]float64, len(t.Candidates))
	for i, id := range t.Candidates {
		v, ok := q.vectors[id]
		if !ok {
			scores[i] = -1
			continue
		}
		scores[i] = float64(retrieval.Dot(qv, v))
	}
	return Scored{Scores: scores}, nil
}

// unitVector checks v's length and scales it to unit length in place.
func unitVector(v []float32, dim int) error {
	if err := retrieval.CheckVector(v, dim); err != nil {
		return err
	}
	return retrieval.Normalize(v)
}
