package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/internal/cooccur"
	"hmpps/internal/ltr"
	"hmpps/internal/rankmetric"
)

// negatives is part b of the study: the trained engine learns from lists
// of random negatives, but ranks, over the whole catalog, the candidates its
// retrieval found for the query. It trains on lists of the engine's own
// retrieved candidates instead, mixed or not with random ones, early-stops
// on one half of the validation users and measures on the other half,
// whole catalog. Part e follows on the same halves: the co-purchase signal
// blended into the trained score, its weight chosen on the first half.
func (st *study) negatives(ctx context.Context, w *strings.Builder, sd *studyData) error {
	start := time.Now()
	catalog, seed := sd.catalog, st.cfg.seed
	untrained, err := eval.NewEngine(ctx, sd.d.Products, hmpps.WithSummarizer(nil))
	if err != nil {
		return err
	}
	defer untrained.Close()

	random := sd.split.TrainingExamples(catalog, catalogNegatives, seed)
	// The engine's own candidates for each training purchase's query, the
	// history left out, as the whole-catalog search retrieves them.
	trainTasks := make([]eval.Task, len(random))
	for i, ex := range random {
		trainTasks[i] = eval.Task{User: ex.User, Query: ex.Query, History: ex.HistoryIDs, Target: ex.Positive}
	}
	retrievedHits, err := searchAll(ctx, untrained, trainTasks, true, eval.DefaultDepth, nil)
	if err != nil {
		return err
	}
	st.logf("study: retrieved the candidates of %d training purchases in %s", len(random), time.Since(start).Round(time.Second))
	retrieved := make([]hmpps.TrainingExample, len(random))
	mixed := make([]hmpps.TrainingExample, len(random))
	var found int
	for i, ex := range random {
		var negs []string
		for _, h := range retrievedHits[i] {
			if h.id != ex.Positive {
				negs = append(negs, h.id)
			} else {
				found++
			}
		}
		negs = negs[:min(catalogNegatives, len(negs))]
		retrieved[i], mixed[i] = ex, ex
		retrieved[i].Negatives = negs
		// Half and half: the 50 best retrieved, then random ones.
		m := slices.Clone(negs[:min(50, len(negs))])
		for _, id := range ex.Negatives {
			if len(m) == catalogNegatives {
				break
			}
			if !slices.Contains(m, id) {
				m = append(m, id)
			}
		}
		mixed[i].Negatives = m
	}

	// Validation: half A early-stops (its lists random, or retrieved),
	// half B measures.
	var valA, valB []eval.Task
	for _, t := range sd.val {
		if halfOf(t.User) == 0 {
			valA = append(valA, t)
		} else {
			valB = append(valB, t)
		}
	}
	randomVal := map[string]hmpps.TrainingExample{}
	for _, ex := range sd.split.ValidationExamples(catalog, catalogNegatives, seed) {
		randomVal[ex.User] = ex
	}
	hitsA, err := searchAll(ctx, untrained, valA, true, eval.DefaultDepth, nil)
	if err != nil {
		return err
	}
	var valRandom, valRetrieved []hmpps.TrainingExample
	for i, t := range valA {
		if ex, ok := randomVal[t.User]; ok {
			valRandom = append(valRandom, ex)
		}
		ex := hmpps.TrainingExample{User: t.User, Query: t.Query, HistoryIDs: t.History, Positive: t.Target}
		for _, h := range hitsA[i] {
			if h.id != t.Target {
				ex.Negatives = append(ex.Negatives, h.id)
			}
		}
		valRetrieved = append(valRetrieved, ex)
	}

	type variant struct {
		name       string
		train, val []hmpps.TrainingExample
	}
	variants := []variant{
		{"random negatives (today), early-stopped on random lists", random, valRandom},
		{"random negatives, early-stopped on retrieved lists", random, valRetrieved},
		{"retrieved negatives, early-stopped on retrieved lists", retrieved, valRetrieved},
		{"half retrieved, half random, early-stopped on retrieved lists", mixed, valRetrieved},
	}
	bm25B, err := eval.EvaluateCatalog(ctx, catalog, valB, []eval.Method{sd.bm25, &eval.EngineMethod{Label: nameHMPPS, Engine: untrained, Depth: eval.DefaultDepth}},
		eval.Options{BootstrapSamples: 1})
	if err != nil {
		return err
	}
	rows := []row{{"bm25", bm25B.Methods[0].Ranks}, {"hmpps, untrained", bm25B.Methods[1].Ranks}}
	var models []*hmpps.Model
	type trainedRow struct {
		name     string
		took     time.Duration
		epochs   int
		best     int
		peakHeap float64
	}
	var trained []trainedRow
	for _, v := range variants {
		t0 := time.Now()
		base := liveHeap()
		peak := watchHeap()
		m, err := hmpps.Train(ctx, untrained, v.train, hmpps.TrainOptions{Validation: v.val, Seed: seed,
			Progress: prefixWriter{w: st.log, prefix: "study: train " + v.name + " "}})
		top := peak()
		if err != nil {
			return err
		}
		trained = append(trained, trainedRow{v.name, time.Since(t0), len(m.Curve()), m.BestEpoch(), float64(top-min(top, base)) / (1 << 20)})
		models = append(models, m)
		e, err := eval.NewEngine(ctx, sd.d.Products, hmpps.WithSummarizer(nil), hmpps.WithModel(m))
		if err != nil {
			return err
		}
		rep, err := eval.EvaluateCatalog(ctx, catalog, valB, []eval.Method{&eval.EngineMethod{Label: v.name, Engine: e, Depth: eval.DefaultDepth}},
			eval.Options{BootstrapSamples: 1})
		e.Close()
		if err != nil {
			return err
		}
		rows = append(rows, row{"trained on " + v.name, rep.Methods[0].Ranks})
	}
	fmt.Fprintf(w, "\n## b. Which negatives the trained engine should learn from (%s)\n\n", sd.d.Name)
	fmt.Fprintf(w, "%d training purchases (every purchase before the validation target with a query and a purchase before it), each a list: "+
		"the purchase among 99 random products the user had not bought (as today), among the first 99 of the engine's own retrieved candidates "+
		"for its query (hybrid retrieval, the history left out, as the whole-catalog search retrieves them; the purchase was among them for %.1f%%), "+
		"or the first 50 retrieved then random ones. The validation users are split in two fixed halves by a hash of their ID: "+
		"early stopping reads half A (%d users; its lists random as today, or the retrieved candidates with the target added), "+
		"the table measures half B (%d users), whole catalog, so no number below was tuned on the users it reports.\n\n",
		len(random), 100*float64(found)/float64(len(random)), len(valA), len(valB))
	st.writeRows(w, "method (validation half B, whole catalog)", rows, rows[0])
	fmt.Fprintf(w, "\n## d. Training at this size\n\nThe trainings of part b: %d examples of 100 candidates each, validated on %d; wall time on this shared machine "+
		"(2 cores; its load from other work varies it), and the peak heap while training above what was in use before (sampled every 20 ms; it counts "+
		"garbage not yet collected, so it bounds what training needs from above).\n\n", len(random), len(valA))
	w.WriteString("| training | Train time (wall) | epochs (best) | peak heap |\n| --- | ---: | ---: | ---: |\n")
	for _, t := range trained {
		fmt.Fprintf(w, "| %s | %s | %d (%d) | %.0f MB |\n", t.name, t.took.Round(100*time.Millisecond), t.epochs, t.best, t.peakHeap)
	}
	best := 2
	for i := range models {
		if eval.NDCG10.Mean(rows[2+i].ranks) > eval.NDCG10.Mean(rows[2+best].ranks) {
			best = i
		}
	}
	st.logf("study: negatives in %s", time.Since(start).Round(time.Second))
	return st.phaseTwo(ctx, w, sd, untrained, models[best], variants[best].name, valA, valB, rows[0])
}

// phaseTwo is part e: what the co-purchase signal adds to the trained
// engine, blended into its learned score after the fact (a lower bound of
// what a learned weight would do), on the engine's own candidates and with
// the co-purchase neighbours as a third candidate source.
func (st *study) phaseTwo(ctx context.Context, w *strings.Builder, sd *studyData, untrained *hmpps.Engine, m *hmpps.Model, name string,
	valA, valB []eval.Task, bm25 row) error {
	if st.bestCo == nil {
		return nil
	}
	e, err := eval.NewEngine(ctx, sd.d.Products, hmpps.WithSummarizer(nil), hmpps.WithModel(m))
	if err != nil {
		return err
	}
	defer e.Close()
	v := *st.bestCo
	table := cooccur.Learn(sd.train, cooccur.Options{Window: v.window, Decay: v.decay})
	const extra = 50
	prepare := func(tasks []eval.Task, withNeighbours bool) ([][]hit, []map[string]float64, error) {
		co := make([]map[string]float64, len(tasks))
		var cands [][]string
		if withNeighbours {
			retrieved, err := searchAll(ctx, untrained, tasks, true, eval.DefaultDepth, nil)
			if err != nil {
				return nil, nil, err
			}
			cands = make([][]string, len(tasks))
			for i, hs := range retrieved {
				for _, h := range hs {
					cands[i] = append(cands[i], h.id)
				}
			}
		}
		for i, t := range tasks {
			s, err := coBoost(table, t.History, v.recent, v.norm)
			if err != nil {
				return nil, nil, err
			}
			co[i] = s
			if withNeighbours {
				ids := make([]string, 0, len(s))
				vals := make([]float64, 0, len(s))
				for id, x := range s {
					if !contains(t.History, id) && !contains(cands[i], id) {
						ids, vals = append(ids, id), append(vals, x)
					}
				}
				order := make([]int, len(ids))
				for k := range order {
					order[k] = k
				}
				sortByScore(order, ids, vals)
				for _, k := range order[:min(extra, len(order))] {
					cands[i] = append(cands[i], ids[k])
				}
			}
		}
		hits, err := searchAll(ctx, e, tasks, true, eval.DefaultDepth, cands)
		return hits, co, err
	}
	weights := append([]float64{0, 0.01, 0.02, 0.03}, studyWeights...)
	blendRanks := func(tasks []eval.Task, hits [][]hit, co []map[string]float64, weight float64) []int {
		ranks := make([]int, len(tasks))
		for i, t := range tasks {
			hs := hits[i]
			lo, hi, maxCo := math.Inf(1), math.Inf(-1), 0.0
			for _, h := range hs {
				lo, hi, maxCo = min(lo, h.learned), max(hi, h.learned), max(maxCo, co[i][h.id])
			}
			score := func(h *hit) float64 {
				s := 0.0
				if hi > lo {
					s = (h.learned - lo) / (hi - lo)
				}
				if maxCo > 0 {
					s += weight * co[i][h.id] / maxCo
				}
				return s
			}
			ranks[i] = rankAmong(hs, t.Target, score, eval.DefaultDepth)
		}
		return ranks
	}
	var rows []row
	for _, withNeighbours := range []bool{false, true} {
		hitsA, coA, err := prepare(valA, withNeighbours)
		if err != nil {
			return err
		}
		hitsB, coB, err := prepare(valB, withNeighbours)
		if err != nil {
			return err
		}
		bestW, bestN := 0.0, -1.0
		for _, wt := range weights {
			if n := eval.NDCG10.Mean(blendRanks(valA, hitsA, coA, wt)); n > bestN {
				bestW, bestN = wt, n
			}
		}
		label := "trained, its 100 candidates"
		if withNeighbours {
			label = fmt.Sprintf("trained, its 100 candidates and the %d strongest co-purchase neighbours", extra)
		}
		stacked, err := stack(ctx, table, valA, hitsA, valB, hitsB)
		if err != nil {
			return err
		}
		rows = append(rows, row{label, blendRanks(valB, hitsB, coB, 0)},
			row{fmt.Sprintf("%s, + co-purchase at weight %g (chosen on half A)", label, bestW), blendRanks(valB, hitsB, coB, bestW)},
			row{label + ", + co-purchase features, weights learned on half A", stacked})
	}
	fmt.Fprintf(w, "\n## e. What the co-purchase signal adds to the trained engine (%s)\n\n", sd.d.Name)
	fmt.Fprintf(w, "The best model of part b (%s) ranks the candidates; its learned score, scaled to [0, 1] per list, is blended with the co-purchase "+
		"strength of the best re-scorer of part a (%s), divided by its maximum over the candidates, at a weight chosen on half A and measured on half B; "+
		"or the learned score and four co-purchase features (the summed strength with the history under idf, raw (as log(1 + count)), conditional and cosine "+
		"normalization) are weighed by a listwise ranker (internal/ltr, linear, standardized features) learned on half A's lists, measured on half B. "+
		"A model that learns co-purchase features beside its own, from its training purchases, should do at least as well; this is what phase two can expect. "+
		"With the neighbours, the engine ranks its own 100 candidates and up to %d products bought with the user's last purchases that its retrieval missed "+
		"(Search with those CandidateIDs), the third candidate source.\n\n", name, v, extra)
	st.writeRows(w, "method (validation half B, whole catalog)", rows, bm25)
	return nil
}

// stack learns, on half A's lists (the candidates of hitsA, when they hold
// the target), a linear listwise ranker over the trained engine's learned
// score and four co-purchase features, and returns the ranks it gives half
// B's targets.
func stack(ctx context.Context, table *cooccur.Table, valA []eval.Task, hitsA [][]hit, valB []eval.Task, hitsB [][]hit) ([]int, error) {
	norms := []cooccur.Normalization{cooccur.NormIDF, cooccur.NormRaw, cooccur.NormConditional, cooccur.NormCosine}
	dims := ltr.Dims{Cand: 1 + len(norms)}
	lists := func(tasks []eval.Task, hits [][]hit, training bool) ([]ltr.List, []int, error) {
		var out []ltr.List
		var index []int
		for i, t := range tasks {
			hs := hits[i]
			pos := slices.IndexFunc(hs, func(h hit) bool { return h.id == t.Target })
			if len(hs) == 0 || training && pos < 0 {
				continue
			}
			co := make([]map[string]float64, len(norms))
			for k, n := range norms {
				var err error
				if co[k], err = coBoost(table, t.History, 0, n); err != nil {
					return nil, nil, err
				}
			}
			l := ltr.List{C: len(hs), Positive: pos, Cand: make([]float64, 0, len(hs)*dims.Cand)}
			for _, h := range hs {
				l.Cand = append(l.Cand, h.learned)
				for k := range norms {
					x := co[k][h.id]
					if norms[k] == cooccur.NormRaw {
						x = math.Log1p(x)
					}
					l.Cand = append(l.Cand, x)
				}
			}
			out, index = append(out, l), append(index, i)
		}
		return out, index, nil
	}
	train, _, err := lists(valA, hitsA, true)
	if err != nil {
		return nil, err
	}
	test, index, err := lists(valB, hitsB, false)
	if err != nil {
		return nil, err
	}
	scaler := ltr.FitScaler(dims, train)
	for i := range train {
		scaler.Apply(&train[i])
	}
	for i := range test {
		scaler.Apply(&test[i])
	}
	ndcg := func(w ltr.Weights) float64 {
		var sum float64
		var s []float64
		for i := range train {
			s = w.Score(&train[i], nil, s)
			sum += rankmetric.NDCG(rankmetric.Rank(s, train[i].Positive), 10)
		}
		return sum / float64(len(train))
	}
	res, err := ltr.Train(ctx, dims, train, ltr.Options{L2: 1e-3, Seed: 1, Validate: ndcg})
	if err != nil {
		return nil, err
	}
	ranks := make([]int, len(valB))
	var s []float64
	for k, i := range index {
		l := &test[k]
		if l.Positive < 0 {
			continue
		}
		s = res.Weights.Score(l, nil, s)
		if r := rankmetric.Rank(s, l.Positive); r <= eval.DefaultDepth {
			ranks[i] = r
		}
	}
	return ranks, nil
}
