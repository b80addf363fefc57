package eval

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"

	"golang.org/x/sync/errgroup"
)

// Boost is a sparse score that a blend adds to a base method's: for a task,
// the products it scores (those bought with the shopper's history, say);
// products it leaves out score 0. It must not look at Task.Target.
type Boost struct {
	// Name labels the boost in results.
	Name string
	// Scores returns the task's boosted products and their scores, which
	// must be finite and non-negative.
	Scores func(ctx context.Context, t Task) (map[string]float64, error)
}

// BlendResult is the ranking of one blend of a sweep: a boost at a weight.
type BlendResult struct {
	// Boost is the boost's name and Weight its weight.
	Boost  string  `json:"boost"`
	Weight float64 `json:"weight"`
	// Ranks are the targets' ranks, in task order, as Report.Ranks.
	Ranks []int `json:"ranks"`
}

// blend is the score of one candidate of a blend: base / max base + weight
// · boost / max boost, the maxima over the task's candidates (a maximum of
// 0 leaves its term 0). CoPurchase and SweepBlend compute it with this one
// function, so that a swept blend and the method ranked alike.
func blend(base, maxBase, boost, maxBoost, weight float64) float64 {
	var b, s float64
	if maxBase > 0 {
		b = base / maxBase
	}
	if maxBoost > 0 {
		s = boost / maxBoost
	}
	return b + weight*s
}

// SweepBlend ranks the whole catalog for every task, as EvaluateCatalog
// does, by base's scores blended with every boost at every weight (see
// blend; base's scores must not be negative), and returns one result per
// boost and weight, boosts outer. A task's base scores are computed once
// for all blends and the target's rank in each is counted from them sorted,
// so a sweep of many blends costs little more than one; the ranks are those
// EvaluateCatalog gives the same blend as a Method.
func SweepBlend(ctx context.Context, catalog []string, tasks []Task, base Method, boosts []Boost, weights []float64, opts Options) ([]BlendResult, error) {
	if len(tasks) == 0 {
		return nil, fmt.Errorf("%w: no tasks to evaluate", ErrInvalidSplit)
	}
	if opts.Depth <= 0 {
		opts.Depth = DefaultDepth
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.GOMAXPROCS(0)
	}
	out := make([]BlendResult, 0, len(boosts)*len(weights))
	for _, b := range boosts {
		for _, w := range weights {
			out = append(out, BlendResult{Boost: b.Name, Weight: w, Ranks: make([]int, len(tasks))})
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	for ti, t := range tasks {
		g.Go(func() error {
			t.Candidates = CatalogCandidates(catalog, t.History)
			target := slices.Index(t.Candidates, t.Target)
			s, err := base.Score(gctx, t)
			if err != nil {
				return fmt.Errorf("eval: %s: %w", base.Name(), err)
			}
			if len(s.Scores) != len(t.Candidates) {
				return fmt.Errorf("%w: %s returned %d scores for %d candidates", ErrInvalidScores, base.Name(), len(s.Scores), len(t.Candidates))
			}
			r := newBlendRanker(t.Candidates, s.Scores, target)
			for bi, b := range boosts {
				scores, err := b.Scores(gctx, t)
				if err != nil {
					return fmt.Errorf("eval: boost %s: %w", b.Name, err)
				}
				if err := r.boost(scores); err != nil {
					return fmt.Errorf("eval: boost %s: user %q: %w", b.Name, t.User, err)
				}
				for wi, w := range weights {
					rank := r.rank(w)
					if rank > opts.Depth {
						rank = 0
					}
					out[bi*len(weights)+wi].Ranks[ti] = rank
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// blendRanker counts a target's rank among candidates scored by blend,
// for one task's base scores and any number of boosts and weights.
type blendRanker struct {
	candidates []string
	at         map[string]int
	base       []float64
	maxBase    float64
	// sorted is base / maxBase in ascending order.
	sorted []float64
	target int
	// the current boost: candidate indexes and scores, and its maximum.
	idx      []int
	val      []float64
	maxBoost float64
}

func newBlendRanker(candidates []string, base []float64, target int) *blendRanker {
	r := &blendRanker{candidates: candidates, base: base, target: target, at: make(map[string]int, len(candidates))}
	for i, id := range candidates {
		r.at[id] = i
	}
	for _, s := range base {
		r.maxBase = max(r.maxBase, s)
	}
	r.sorted = make([]float64, len(base))
	for i, s := range base {
		r.sorted[i] = blend(s, r.maxBase, 0, 0, 0)
	}
	slices.Sort(r.sorted)
	return r
}

// boost sets the boost's scores; products that are not candidates are
// ignored.
func (r *blendRanker) boost(scores map[string]float64) error {
	r.idx, r.val, r.maxBoost = r.idx[:0], r.val[:0], 0
	for id, s := range scores {
		if s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
			return fmt.Errorf("%w: boost of %q is %v", ErrInvalidScores, id, s)
		}
		if i, ok := r.at[id]; ok && s > 0 {
			r.idx, r.val = append(r.idx, i), append(r.val, s)
			r.maxBoost = max(r.maxBoost, s)
		}
	}
	return nil
}

// rank returns the target's pessimistic rank (see Rank) under weight w, or
// 0 when the target is not a candidate.
func (r *blendRanker) rank(w float64) int {
	if r.target < 0 {
		return 0
	}
	var tBoost float64
	for k, i := range r.idx {
		if i == r.target {
			tBoost = r.val[k]
		}
	}
	t := blend(r.base[r.target], r.maxBase, tBoost, r.maxBoost, w)
	// Candidates without a boost at or above t, counted in the sorted base
	// scores; then the boosted ones, and the target, corrected one by one.
	n := len(r.sorted) - sort.SearchFloat64s(r.sorted, t)
	if blend(r.base[r.target], r.maxBase, 0, 0, 0) >= t {
		n--
	}
	for k, i := range r.idx {
		if i == r.target {
			continue
		}
		if blend(r.base[i], r.maxBase, 0, 0, 0) >= t {
			n--
		}
		if blend(r.base[i], r.maxBase, r.val[k], r.maxBoost, w) >= t {
			n++
		}
	}
	return n + 1
}
