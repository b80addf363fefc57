package hmpps

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"hmpps/internal/tokenize"
	"hmpps/retrieval"
)

// checkQuery returns ErrEmptyQuery for a query without a word, as the
// engine's tokenizer splits words: searches, training and the training
// export judge a query alike.
func checkQuery(q string) error {
	if len(tokenize.Words(q)) == 0 {
		return ErrEmptyQuery
	}
	return nil
}

// history returns the entries of a shopper's purchases: the ad-hoc
// products, embedded for this call, then the catalog products named by ids,
// each product once (its first purchase stands for the others). An ad-hoc
// product that cannot be embedded fails with its error; unknown IDs with an
// *UnknownIDsError naming every one. usage is the model work of embedding,
// also when it fails.
func (e *Engine) history(ctx context.Context, adhoc []Product, ids []string) ([]*entry, retrieval.Usage, error) {
	batch, usage, err := e.prepare(ctx, adhoc, productTexts(adhoc), false)
	if err != nil {
		return nil, usage, fmt.Errorf("hmpps: history: %w", err)
	}
	entries := make([]*entry, len(batch))
	for i := range batch {
		entries[i] = newEntry(batch[i].rec, batch[i].vector)
	}
	known, err := e.lookupContext(ctx, "history", ids)
	if err != nil {
		return nil, usage, err
	}
	return dedupe(append(entries, known...)), usage, nil
}

// dedupe drops repeated purchases of the same product, keeping the first.
func dedupe(entries []*entry) []*entry {
	seen := make(map[string]bool, len(entries))
	out := entries[:0]
	for _, en := range entries {
		if !seen[en.product.ID] {
			seen[en.product.ID] = true
			out = append(out, en)
		}
	}
	return out
}

// withoutHistory returns the candidates that are not in history, with
// their scores (nil stays nil).
func withoutHistory(candidates []*entry, scores []float64, history []*entry) ([]*entry, []float64) {
	bought := make(map[string]bool, len(history))
	for _, h := range history {
		bought[h.product.ID] = true
	}
	out := candidates[:0]
	var kept []float64
	if scores != nil {
		kept = scores[:0]
	}
	for i, c := range candidates {
		if !bought[c.product.ID] {
			out = append(out, c)
			if scores != nil {
				kept = append(kept, scores[i])
			}
		}
	}
	return out, kept
}

// randomNegatives returns n IDs of catalog (sorted, see catalogIDs) drawn
// by rng, none of them in exclude: the products a purchase is ranked
// against when nothing better is known.
func randomNegatives(catalog []string, exclude map[string]bool, n int, rng *rand.Rand) []string {
	pool := slices.DeleteFunc(slices.Clone(catalog), func(id string) bool { return exclude[id] })
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	return pool[:min(n, len(pool))]
}
