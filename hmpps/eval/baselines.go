package eval

import (
	"context"
	"hash/fnv"
	"math/rand/v2"
)

// Random scores candidates uniformly at random: the floor every method must
// clear. With C candidates its expected HR@k is k/C (0.10 for HR@10 of 100).
// Its draws depend only on Seed and the task (user, query and candidates),
// so a rerun gives the same numbers.
type Random struct {
	// Seed fixes the draws.
	Seed uint64
}

// Name returns "random".
func (Random) Name() string { return "random" }

// Score implements Method.
func (r Random) Score(ctx context.Context, t Task) (Scored, error) {
	if err := ctx.Err(); err != nil {
		return Scored{}, err
	}
	h := fnv.New64a()
	h.Write([]byte(t.User))
	h.Write([]byte{0})
	h.Write([]byte(t.Query))
	for _, id := range t.Candidates {
		h.Write([]byte{0})
		h.Write([]byte(id))
	}
	rng := rand.New(rand.NewPCG(r.Seed, h.Sum64()))
	scores := make([]float64, len(t.Candidates))
	for i := range scores {
		scores[i] = rng.Float64()
	}
	return Scored{Scores: scores}, nil
}

// Popularity scores a candidate by how often it was bought in the training
// purchases (Split.TrainPurchases): the non-personalized baseline that
// ignores the query. Products bought equally often tie, and ties rank
// pessimistically.
type Popularity struct {
	// Counts maps a product ID to its training purchases; absent means 0.
	Counts map[string]int
}

// Name returns "popularity".
func (Popularity) Name() string { return "popularity" }

// Score implements Method.
func (p Popularity) Score(ctx context.Context, t Task) (Scored, error) {
	if err := ctx.Err(); err != nil {
		return Scored{}, err
	}
	scores := make([]float64, len(t.Candidates))
	for i, id := range t.Candidates {
		scores[i] = float64(p.Counts[id])
	}
	return Scored{Scores: scores}, nil
}
