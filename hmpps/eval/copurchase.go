package eval

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"hmpps/internal/cooccur"
)

// CoPurchaseParams are the settings of a CoPurchase baseline.
type CoPurchaseParams struct {
	// Window and Decay are how co-occurrences are counted: two purchases
	// of one shopper at most Window places apart, weighed 1/d^Decay at
	// distance d. Window 0 means the default of 3, negative the whole
	// sequence.
	Window int     `json:"window"`
	Decay  float64 `json:"decay"`
	// Normalization turns a pair's weight into a strength: "raw" (the
	// count), "conditional" (P(candidate | purchase)), "cosine", "pmi"
	// (positive pointwise mutual information) or "idf" (the count damped by
	// how many shoppers bought the candidate). Blank means "raw".
	Normalization string `json:"normalization"`
	// Recent is how many of the shopper's latest purchases the co-purchase
	// score reads; 0 reads the whole history.
	Recent int `json:"recent"`
	// Weight is the co-purchase score's weight in the blend (see
	// CoPurchase).
	Weight float64 `json:"weight"`
}

// String is the settings as reports print them.
func (p CoPurchaseParams) String() string {
	window, recent := fmt.Sprint(p.Window), fmt.Sprint(p.Recent)
	if p.Window < 0 {
		window = "all"
	}
	if p.Recent == 0 {
		recent = "all"
	}
	norm := p.Normalization
	if norm == "" {
		norm = "raw"
	}
	return fmt.Sprintf("window %s, decay %g, %s, last %s purchases, weight %g", window, p.Decay, norm, recent, p.Weight)
}

// counting returns the options of the count table.
func (p CoPurchaseParams) counting() cooccur.Options {
	return cooccur.Options{Window: p.Window, Decay: p.Decay}
}

func (p CoPurchaseParams) normalization() (cooccur.Normalization, error) {
	var n cooccur.Normalization
	if p.Normalization == "" {
		return cooccur.NormRaw, nil
	}
	if err := n.UnmarshalText([]byte(p.Normalization)); err != nil {
		return 0, fmt.Errorf("eval: co-purchase: %w", err)
	}
	return n, nil
}

// CoPurchase is the lexical baseline with a collaborative signal: BM25 plus
// what shoppers bought together. A candidate c of a shopper whose latest
// purchases are h₁ … h_r (Params.Recent of them) scores
//
//	bm25(c) / max bm25 + Weight · co(c) / max co,  co(c) = Σᵢ strength(hᵢ, c)
//
// the maxima over the task's candidates, the strengths those of a
// cooccur.Table learned from training purchases only (see
// LeaveOneOut.TrainingSequences). A product no training purchase holds has
// co = 0 and ranks by BM25 alone. Build it with NewCoPurchase; tune its
// settings on validation tasks with TuneCoPurchase.
type CoPurchase struct {
	bm25   *BM25
	table  *cooccur.Table
	norm   cooccur.Normalization
	params CoPurchaseParams
}

// NewCoPurchase learns the co-purchase table from train, each shopper's
// training purchases oldest first, for a blend with bm25. An unknown
// normalization, or a negative or non-finite weight, is an error.
func NewCoPurchase(bm25 *BM25, train [][]string, p CoPurchaseParams) (*CoPurchase, error) {
	return newCoPurchase(bm25, cooccur.Learn(train, p.counting()), p)
}

func newCoPurchase(bm25 *BM25, table *cooccur.Table, p CoPurchaseParams) (*CoPurchase, error) {
	n, err := p.normalization()
	if err != nil {
		return nil, err
	}
	if p.Weight < 0 || math.IsNaN(p.Weight) || math.IsInf(p.Weight, 0) || p.Recent < 0 {
		return nil, fmt.Errorf("eval: co-purchase: weight %v and recent %d must be non-negative", p.Weight, p.Recent)
	}
	return &CoPurchase{bm25: bm25, table: table, norm: n, params: p}, nil
}

// Name returns "bm25 + co-purchase".
func (*CoPurchase) Name() string { return "bm25 + co-purchase" }

// Params returns the method's settings.
func (c *CoPurchase) Params() CoPurchaseParams { return c.params }

// Table returns the co-purchase table the method learned.
func (c *CoPurchase) Table() *cooccur.Table { return c.table }

// Score implements Method.
func (c *CoPurchase) Score(ctx context.Context, t Task) (Scored, error) {
	base, err := c.bm25.Score(ctx, t)
	if err != nil {
		return Scored{}, err
	}
	co, err := coScores(c.table, t.History, c.params.Recent, c.norm)
	if err != nil {
		return Scored{}, err
	}
	var maxBase, maxCo float64
	boost := make([]float64, len(t.Candidates))
	for i, id := range t.Candidates {
		boost[i] = co[id]
		maxBase, maxCo = max(maxBase, base.Scores[i]), max(maxCo, boost[i])
	}
	for i := range base.Scores {
		base.Scores[i] = blend(base.Scores[i], maxBase, boost[i], maxCo, c.params.Weight)
	}
	return base, nil
}

// coScores sums the strengths between the recent last items of history and
// every product bought with them.
func coScores(table *cooccur.Table, history []string, recent int, n cooccur.Normalization) (map[string]float64, error) {
	if recent > 0 && recent < len(history) {
		history = history[len(history)-recent:]
	}
	related, err := table.Related(history, nil, n)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(related))
	for _, r := range related {
		out[r.ID] = r.Strength
	}
	return out, nil
}

// CoPurchaseGrid is the settings TuneCoPurchase tries: every combination.
type CoPurchaseGrid struct {
	Windows        []int
	Decays         []float64
	Normalizations []string
	Recents        []int
	Weights        []float64
}

// CoPurchaseResult is one setting's validation ranking.
type CoPurchaseResult struct {
	Params CoPurchaseParams `json:"params"`
	// NDCG10 is the mean NDCG@10 of Ranks, what TuneCoPurchase maximizes.
	NDCG10 float64 `json:"ndcg10"`
	Ranks  []int   `json:"-"`
}

// TuneCoPurchase ranks tasks (validation tasks: tuning must never see the
// test targets) against the whole catalog with every setting of grid, the
// co-purchase tables learned from train, and returns the results best
// first by NDCG@10; of equal ones, the earlier in grid order. A setting
// that NewCoPurchase would refuse is an error.
func TuneCoPurchase(ctx context.Context, bm25 *BM25, catalog []string, tasks []Task, train [][]string, grid CoPurchaseGrid, opts Options) ([]CoPurchaseResult, error) {
	var out []CoPurchaseResult
	for _, w := range grid.Windows {
		for _, d := range grid.Decays {
			table := cooccur.Learn(train, cooccur.Options{Window: w, Decay: d})
			var boosts []Boost
			var params []CoPurchaseParams
			for _, norm := range grid.Normalizations {
				for _, r := range grid.Recents {
					p := CoPurchaseParams{Window: w, Decay: d, Normalization: norm, Recent: r}
					m, err := newCoPurchase(bm25, table, p)
					if err != nil {
						return nil, err
					}
					params = append(params, p)
					boosts = append(boosts, Boost{Name: p.String(), Scores: func(_ context.Context, t Task) (map[string]float64, error) {
						return coScores(table, t.History, r, m.norm)
					}})
				}
			}
			res, err := SweepBlend(ctx, catalog, tasks, bm25, boosts, grid.Weights, opts)
			if err != nil {
				return nil, err
			}
			for i, r := range res {
				p := params[i/len(grid.Weights)]
				p.Weight = r.Weight
				out = append(out, CoPurchaseResult{Params: p, NDCG10: NDCG10.Mean(r.Ranks), Ranks: r.Ranks})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("eval: co-purchase: an empty grid")
	}
	slices.SortStableFunc(out, func(a, b CoPurchaseResult) int { return cmp.Compare(b.NDCG10, a.NDCG10) })
	return out, nil
}
