package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/rerank"
	"hmpps/retrieval"
)

// tuneConfig is one point of the validation grid: the settings of stage one
// and of the preference reranker.
type tuneConfig struct {
	// K is how many history items stage one keeps; 0 keeps all of them.
	K int `json:"k"`
	// MinScore is stage one's threshold; nil for none.
	MinScore *float32 `json:"min_score"`
	// LexicalWeight, QueryWeight and HistoryWeight are
	// rerank.Preference's weights.
	LexicalWeight float64 `json:"lexical_weight"`
	QueryWeight   float64 `json:"query_weight"`
	HistoryWeight float64 `json:"history_weight"`
}

// String is the configuration as the report prints it.
func (c tuneConfig) String() string {
	k, min := "all", "none"
	if c.K > 0 {
		k = fmt.Sprint(c.K)
	}
	if c.MinScore != nil {
		min = fmt.Sprint(*c.MinScore)
	}
	return fmt.Sprintf("K=%s, MinScore=%s, weights %.2f/%.2f/%.2f", k, min, c.LexicalWeight, c.QueryWeight, c.HistoryWeight)
}

// options are the engine options of the configuration; "all" history is
// maxHistory, the longest history a split holds.
func (c tuneConfig) options(maxHistory int, summaries bool) []hmpps.Option {
	k := c.K
	if k == 0 {
		k = maxHistory
	}
	opts := []hmpps.Option{
		hmpps.WithHistoryFilter(retrieval.HistoryFilter{K: k, MinScore: c.MinScore}),
		hmpps.WithReranker(rerank.Preference{LexicalWeight: c.LexicalWeight, QueryWeight: c.QueryWeight, HistoryWeight: c.HistoryWeight}),
	}
	if !summaries {
		// The offline reranker scores vectors, so summaries cannot change
		// its ranking (the "− summaries" ablation checks this on the test
		// split); leaving them out makes the grid several times faster.
		opts = append(opts, hmpps.WithSummarizer(nil))
	}
	return opts
}

// defaultTuneConfig is the library's default pipeline as a grid point.
func defaultTuneConfig() tuneConfig {
	min := hmpps.DefaultHistoryMinScore
	return tuneConfig{K: retrieval.DefaultHistoryK, MinScore: &min,
		LexicalWeight: rerank.DefaultLexicalWeight, QueryWeight: rerank.DefaultQueryWeight, HistoryWeight: rerank.DefaultHistoryWeight}
}

// tuneGrid is every configuration the validation search tries: the lexical
// match at its default weight, the query and the history sharing a weight
// of one between them.
func tuneGrid() []tuneConfig {
	f := func(x float32) *float32 { return &x }
	var grid []tuneConfig
	for _, k := range []int{1, 2, 3, 5, 10, 0} {
		for _, min := range []*float32{nil, f(0.05), f(0.1), f(0.2), f(0.3)} {
			for _, wh := range []float64{0, 0.2, 0.35, 0.5, 0.65, 0.8, 1} {
				grid = append(grid, tuneConfig{K: k, MinScore: min, LexicalWeight: rerank.DefaultLexicalWeight, QueryWeight: 1 - wh, HistoryWeight: wh})
			}
		}
	}
	return grid
}

// tuneResult is one grid point's validation NDCG@10 and HR@10 per candidate
// mode.
type tuneResult struct {
	Config tuneConfig         `json:"config"`
	NDCG10 map[string]float64 `json:"ndcg10"`
	HR10   map[string]float64 `json:"hr10"`
	// Score is the mean NDCG@10 over the modes, what the search maximizes.
	Score float64 `json:"score"`
}

// tune scores every grid point on the validation tasks of every split and
// returns the results best first, with the library default's result.
func tune(ctx context.Context, d *eval.Dataset, splits []*eval.Split, progress func(eval.Progress)) ([]tuneResult, tuneResult, error) {
	grid := append(tuneGrid(), defaultTuneConfig())
	results := make([]tuneResult, len(grid))
	for i, c := range grid {
		r := tuneResult{Config: c, NDCG10: map[string]float64{}, HR10: map[string]float64{}}
		e, err := eval.NewEngine(ctx, d.Products, c.options(splits[0].MaxHistory, false)...)
		if err != nil {
			return nil, tuneResult{}, err
		}
		m := &eval.EngineMethod{Label: c.String(), Engine: e}
		for _, s := range splits {
			rep, err := eval.Evaluate(ctx, s.Tasks(eval.Validation), []eval.Method{m}, eval.Options{BootstrapSamples: 1})
			if err != nil {
				e.Close()
				return nil, tuneResult{}, err
			}
			ranks := rep.Methods[0].Ranks
			r.NDCG10[string(s.Mode)] = eval.NDCG10.Mean(ranks)
			r.HR10[string(s.Mode)] = eval.HR10.Mean(ranks)
			r.Score += r.NDCG10[string(s.Mode)] / float64(len(splits))
		}
		e.Close()
		results[i] = r
		if progress != nil {
			progress(eval.Progress{Method: "validation grid", Done: i + 1, Total: len(grid), Methods: 1})
		}
	}
	def := results[len(results)-1]
	results = results[:len(results)-1]
	// Stable, so that among equal scores the earlier (simpler: smaller K,
	// no threshold) configuration wins.
	slices.SortStableFunc(results, func(a, b tuneResult) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	return results, def, nil
}

// writeTuning writes the validation table: the library default, the best
// configurations, and the best one for each history weight, which shows how
// much personalization the validation split rewards.
func writeTuning(w io.Writer, results []tuneResult, def tuneResult, modes []string, top int) {
	var b strings.Builder
	b.WriteString("| configuration (validation split) |")
	for _, m := range modes {
		fmt.Fprintf(&b, " NDCG@10 %s | HR@10 %s |", m, m)
	}
	b.WriteString(" mean NDCG@10 |\n| --- |")
	for range modes {
		b.WriteString(" ---: | ---: |")
	}
	b.WriteString(" ---: |\n")
	row := func(label string, r tuneResult) {
		fmt.Fprintf(&b, "| %s |", label)
		for _, m := range modes {
			fmt.Fprintf(&b, " %.3f | %.3f |", r.NDCG10[m], r.HR10[m])
		}
		fmt.Fprintf(&b, " %.3f |\n", r.Score)
	}
	row("library default: "+def.Config.String(), def)
	for i, r := range results[:min(top, len(results))] {
		row(fmt.Sprintf("#%d: %s", i+1, r.Config), r)
	}
	best := map[float64]tuneResult{}
	var weights []float64
	for _, r := range results {
		if _, ok := best[r.Config.HistoryWeight]; !ok {
			best[r.Config.HistoryWeight] = r
			weights = append(weights, r.Config.HistoryWeight)
		}
	}
	slices.Sort(weights)
	for _, wh := range weights {
		r := best[wh]
		row(fmt.Sprintf("best with history weight %.2f: %s", wh, r.Config), r)
	}
	io.WriteString(w, b.String())
}

// summaryWordsSweep measures, on the validation tasks of s, the prompt size
// of the default pipeline at several summary budgets. The offline reranker
// scores vectors, so the budget changes what a model would read, not the
// offline ranking; this is the number to choose it by.
func summaryWordsSweep(ctx context.Context, d *eval.Dataset, s *eval.Split) ([]summaryWordsResult, error) {
	var out []summaryWordsResult
	for _, words := range []int{20, 40, hmpps.DefaultSummaryWords, 100} {
		e, err := eval.NewEngine(ctx, d.Products, hmpps.WithSummaryWords(words))
		if err != nil {
			return nil, err
		}
		m := &eval.EngineMethod{Label: fmt.Sprintf("%d words", words), Engine: e, MeasurePrompt: true}
		rep, err := eval.Evaluate(ctx, s.Tasks(eval.Validation), []eval.Method{m}, eval.Options{BootstrapSamples: 1})
		e.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, summaryWordsResult{Words: words, Prompt: *rep.Methods[0].Prompt, NDCG10: eval.NDCG10.Mean(rep.Methods[0].Ranks)})
	}
	return out, nil
}

// summaryWordsResult is one summary budget's prompt size and ranking.
type summaryWordsResult struct {
	Words  int              `json:"words"`
	Prompt eval.PromptStats `json:"prompt"`
	NDCG10 float64          `json:"ndcg10"`
}

func writeSummaryWords(w io.Writer, mode string, rs []summaryWordsResult) {
	var b strings.Builder
	fmt.Fprintf(&b, "| summary words (validation, %s negatives) | history tokens | candidate tokens | tokens / candidate | NDCG@10 |\n", mode)
	b.WriteString("| ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %d | %.0f | %.0f | %.0f | %.3f |\n", r.Words, r.Prompt.HistoryTokens, r.Prompt.CandidateTokens, r.Prompt.PerCandidate, r.NDCG10)
	}
	io.WriteString(w, b.String())
}
