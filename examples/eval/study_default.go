package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/retrieval"
)

// listView is one search's candidates with what every formula reads,
// computed once: the best lexical score, and each candidate's
// reciprocal-rank term 1/(DefaultRRFK + rank) by lexical score, cosine and
// preference (rank from 1; ties share the better rank).
type listView struct {
	hs                []hit
	maxLex            float64
	rLex, rCos, rPref []float64
}

func newListView(hs []hit) *listView {
	v := &listView{hs: hs}
	for _, h := range hs {
		v.maxLex = max(v.maxLex, h.lexical)
	}
	rr := func(by func(h hit) float64) []float64 {
		vals := make([]float64, len(hs))
		for i, h := range hs {
			vals[i] = by(h)
		}
		sorted := slices.Sorted(slices.Values(vals))
		out := make([]float64, len(hs))
		for i, x := range vals {
			// Candidates above x: those after the last at or below it.
			above := len(sorted) - sort.SearchFloat64s(sorted, math.Nextafter(x, math.Inf(1)))
			out[i] = 1 / float64(retrieval.DefaultRRFK+above+1)
		}
		return out
	}
	v.rLex = rr(func(h hit) float64 { return h.lexical })
	v.rCos = rr(func(h hit) float64 { return h.cosine })
	v.rPref = rr(func(h hit) float64 { return h.preference })
	return v
}

// scoreFormula is one offline score of the untrained engine, computed from
// what a search reports for each of its candidates.
type scoreFormula struct {
	name string
	// score scores the candidate at i of a search's candidates.
	score func(v *listView, i int) float64
}

// untrainedFormulas are the offline scores part c compares: today's, the
// lexical score alone, weighted sums with the lexical score divided by its
// maximum over the candidates, and reciprocal-rank fusions.
func untrainedFormulas() []scoreFormula {
	lexShare := func(v *listView, i int) float64 {
		if v.maxLex > 0 {
			return v.hs[i].lexical / v.maxLex
		}
		return 0
	}
	fs := []scoreFormula{
		{"today: (cosine + preference) / 2", func(v *listView, i int) float64 { return v.hs[i].score }},
		{"lexical (BM25F) alone", func(v *listView, i int) float64 { return v.hs[i].lexical }},
	}
	for _, a := range []float64{0, 0.25, 0.5, 1} {
		for _, b := range []float64{0, 0.25, 0.5, 1} {
			if a == 0 && b == 0 {
				continue
			}
			fs = append(fs, scoreFormula{fmt.Sprintf("lexical / max + %g · cosine + %g · preference", a, b), func(v *listView, i int) float64 {
				return lexShare(v, i) + a*v.hs[i].cosine + b*v.hs[i].preference
			}})
		}
	}
	return append(fs,
		scoreFormula{"RRF(lexical, cosine)", func(v *listView, i int) float64 { return v.rLex[i] + v.rCos[i] }},
		scoreFormula{"RRF(lexical, preference)", func(v *listView, i int) float64 { return v.rLex[i] + v.rPref[i] }},
		scoreFormula{"RRF(lexical, cosine, preference)", func(v *listView, i int) float64 { return v.rLex[i] + v.rCos[i] + v.rPref[i] }},
		scoreFormula{"RRF(2 × lexical, cosine, preference)", func(v *listView, i int) float64 { return 2*v.rLex[i] + v.rCos[i] + v.rPref[i] }},
	)
}

// untrainedScore is part c: which offline score of the untrained engine
// never loses to BM25 over the whole catalog, on the validation targets of
// every data set.
func (st *study) untrainedScore(ctx context.Context, w *strings.Builder, sets []*studyData) error {
	start := time.Now()
	fs := untrainedFormulas()
	fmt.Fprintf(w, "\n## c. An untrained score that never loses to BM25\n\n")
	w.WriteString("The untrained engine searches the whole catalog as it does today (hybrid retrieval of 100 candidates, the history left out, " +
		"stage one's kept history); each formula re-scores the candidates from what the search reports for each: its BM25F score " +
		"(Result.LexicalScore), query cosine (RetrievalScore) and history preference (PreferenceScore, 0 without history). " +
		"A target the retrieval missed is a miss for every formula; BM25 is eval.BM25 over the whole catalog, the baseline of the tables. " +
		"Reciprocal-rank fusions use k = 60 and ranks within the candidates.\n\n")
	type result struct {
		ranks [][]int // per data set
	}
	results := make([]result, len(fs))
	for si, sd := range sets {
		e, err := eval.NewEngine(ctx, sd.d.Products, hmpps.WithSummarizer(nil))
		if err != nil {
			return err
		}
		hits, err := searchAll(ctx, e, sd.val, true, eval.DefaultDepth, nil)
		e.Close()
		if err != nil {
			return err
		}
		views := make([]*listView, len(hits))
		for i, hs := range hits {
			views[i] = newListView(hs)
		}
		for fi, f := range fs {
			ranks := make([]int, len(sd.val))
			for i, t := range sd.val {
				v := views[i]
				scores := make([]float64, len(v.hs))
				for k := range v.hs {
					scores[k] = f.score(v, k)
				}
				ranks[i] = rankScores(v.hs, scores, t.Target, eval.DefaultDepth)
			}
			if si == 0 {
				results[fi].ranks = make([][]int, len(sets))
			}
			results[fi].ranks[si] = ranks
		}
	}
	w.WriteString("| formula (validation) |")
	for _, sd := range sets {
		fmt.Fprintf(w, " %s NDCG@10 [95%% CI] | − bm25 [95%% CI] |", sd.d.Name)
	}
	w.WriteString(" worst lower bound |\n| --- |" + strings.Repeat(" ---: | ---: |", len(sets)) + " ---: |\n")
	w.WriteString("| bm25 (whole catalog) |")
	for _, sd := range sets {
		s := eval.Bootstrap(sd.bm25Ranks, st.cfg.bootstrap, st.cfg.seed)[eval.NDCG10]
		fmt.Fprintf(w, " %.3f [%.3f, %.3f] | – |", s.Mean, s.Low, s.High)
	}
	w.WriteString(" – |\n")
	for fi, f := range fs {
		fmt.Fprintf(w, "| %s |", f.name)
		worst := 1.0
		for si, sd := range sets {
			r := results[fi].ranks[si]
			s := eval.Bootstrap(r, st.cfg.bootstrap, st.cfg.seed)[eval.NDCG10]
			c, err := eval.Compare(r, sd.bm25Ranks, eval.NDCG10, st.cfg.bootstrap, st.cfg.seed)
			if err != nil {
				return err
			}
			worst = min(worst, c.Diff.Low)
			fmt.Fprintf(w, " %.3f [%.3f, %.3f] | %+.3f [%+.3f, %+.3f] |", s.Mean, s.Low, s.High, c.Diff.Mean, c.Diff.Low, c.Diff.High)
		}
		fmt.Fprintf(w, " %+.3f |\n", worst)
	}
	st.logf("study: untrained formulas in %s", time.Since(start).Round(time.Second))
	return nil
}
