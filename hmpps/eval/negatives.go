package eval

import (
	"math/rand/v2"
	"slices"
)

// negativeSampler draws candidate lists from a catalog.
type negativeSampler struct {
	mode CandidateMode
	// ids is the catalog in ID order, so draws depend only on the seed.
	ids      []string
	category map[string][]string
}

func newNegativeSampler(d *Dataset, mode CandidateMode) *negativeSampler {
	s := &negativeSampler{mode: mode, category: make(map[string][]string, len(d.Products))}
	for _, p := range d.Products {
		s.ids = append(s.ids, p.ID)
		s.category[p.ID] = p.Category
	}
	return s
}

// target returns the Target for product, or nil when the product has no
// query. bought holds everything the user purchased, none of which may be a
// negative.
func (s *negativeSampler) target(product string, bought map[string]bool, cfg SplitConfig, user string, part Part) *Target {
	query := CategoryQuery(s.category[product], cfg.Stopwords)
	if query == "" {
		return nil
	}
	rng := rngFor(cfg.Seed, user, part)
	var pool []string
	for _, id := range s.ids {
		if !bought[id] {
			pool = append(pool, id)
		}
	}
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	if s.mode == HardNegatives {
		// A stable sort of the shuffled pool by shared category depth keeps
		// the draw random within each depth.
		path := s.category[product]
		slices.SortStableFunc(pool, func(a, b string) int {
			return sharedPrefix(s.category[b], path) - sharedPrefix(s.category[a], path)
		})
	}
	pool = pool[:min(len(pool), cfg.Negatives)]
	candidates := append(pool, product)
	shuffle(rng, candidates)
	return &Target{Product: product, Query: query, Candidates: candidates}
}

func shuffle(rng *rand.Rand, ids []string) {
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
}

// sharedPrefix is the number of leading category levels a and b share.
func sharedPrefix(a, b []string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
