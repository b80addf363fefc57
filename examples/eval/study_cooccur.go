package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/internal/cooccur"
	"hmpps/retrieval"
)

// coVariant is one way of counting and reading co-purchases.
type coVariant struct {
	window int
	decay  float64
	norm   cooccur.Normalization
	recent int
}

func (v coVariant) String() string {
	return fmt.Sprintf("window %s, decay %g, %s, last %s purchases", windowName(v.window), v.decay, v.norm, recentName(v.recent))
}

// studyWeights are the blend weights every signal is tried at.
var studyWeights = []float64{0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2, 3}

// collaborative is part a of the study: co-occurrence and item2vec as a
// re-scorer blended with BM25, and as a candidate source.
func (st *study) collaborative(ctx context.Context, w *strings.Builder, sd *studyData) error {
	start := time.Now()
	fmt.Fprintf(w, "## a. The collaborative signal (%s, %d validation targets)\n\n", sd.d.Name, len(sd.val))
	fmt.Fprintf(w, "Learned from the training purchases only (every user's purchases before the validation target). "+
		"Co-occurrence (internal/cooccur): two purchases of one user at most *window* places apart count, weighed 1/d^*decay* at distance d, "+
		"and a pair's count becomes a strength by a normalization (raw; conditional P(candidate | purchase); cosine; positive PMI; "+
		"idf-damped: the count times log(1 + users / buyers of the candidate)); a candidate's score is the sum of its strengths with the "+
		"user's *last* purchases. item2vec: skip-gram with negative sampling over the same sequences (64 dimensions, 5 negatives, 10 epochs), "+
		"a candidate's score the sum of its positive cosines with the last purchases, for its 200 most similar products.\n\n")

	// The variants: every window and decay with every normalization and
	// number of recent purchases.
	var variants []coVariant
	tables := map[[2]float64]*cooccur.Table{}
	for _, win := range []int{1, 2, 3, 5, 10, -1} {
		for _, decay := range []float64{0, 1} {
			if win == 1 && decay > 0 {
				continue // one place apart, the decay changes nothing
			}
			tables[[2]float64{float64(win), decay}] = cooccur.Learn(sd.train, cooccur.Options{Window: win, Decay: decay})
			for _, n := range cooccur.Normalizations() {
				for _, recent := range []int{1, 3, 5, 0} {
					variants = append(variants, coVariant{win, decay, n, recent})
				}
			}
		}
	}
	var boosts []eval.Boost
	for _, v := range variants {
		table := tables[[2]float64{float64(v.window), v.decay}]
		boosts = append(boosts, eval.Boost{Name: v.String(), Scores: func(_ context.Context, t eval.Task) (map[string]float64, error) {
			return coBoost(table, t.History, v.recent, v.norm)
		}})
	}
	var i2v []*item2vec
	for _, win := range []int{2, 5} {
		t0 := time.Now()
		m := trainItem2Vec(sd.train, item2vecOptions{Dim: 64, Window: win, Negatives: 5, Epochs: 10, Seed: st.cfg.seed})
		st.logf("study: item2vec window %d trained in %s", win, time.Since(t0).Round(time.Millisecond))
		i2v = append(i2v, m)
		for _, recent := range []int{1, 3, 0} {
			boosts = append(boosts, eval.Boost{Name: fmt.Sprintf("item2vec window %d, last %s purchases", win, recentName(recent)),
				Scores: func(_ context.Context, t eval.Task) (map[string]float64, error) {
					return m.similar(lastN(t.History, recent), 200), nil
				}})
		}
	}
	res, err := eval.SweepBlend(ctx, sd.catalog, sd.val, sd.bm25, boosts, studyWeights, eval.Options{})
	if err != nil {
		return err
	}
	st.logf("study: %d blends of %d signals swept in %s", len(res), len(boosts), time.Since(start).Round(time.Second))
	// The best weight of every signal.
	best := make([]eval.BlendResult, len(boosts))
	for bi := range boosts {
		for _, r := range res[bi*len(studyWeights) : (bi+1)*len(studyWeights)] {
			if best[bi].Ranks == nil || eval.NDCG10.Mean(r.Ranks) > eval.NDCG10.Mean(best[bi].Ranks) {
				best[bi] = r
			}
		}
	}
	base := row{"bm25", sd.bm25Ranks}
	named := func(r eval.BlendResult) row { return row{fmt.Sprintf("%s, weight %g", r.Boost, r.Weight), r.Ranks} }
	bestOf := func(keep func(i int) bool) eval.BlendResult {
		var b eval.BlendResult
		for i, r := range best {
			if keep(i) && (b.Ranks == nil || eval.NDCG10.Mean(r.Ranks) > eval.NDCG10.Mean(b.Ranks)) {
				b = r
			}
		}
		return b
	}
	nCo := len(variants)

	fmt.Fprintf(w, "### As a re-scorer blended with BM25 over the whole catalog\n\n")
	fmt.Fprintf(w, "score = bm25 / max bm25 + weight · signal / max signal (maxima over the candidates, eval.SweepBlend); "+
		"%d co-occurrence variants and 6 item2vec variants, each at the weights %v, the best weight of each shown. "+
		"The best of many settings on the same targets flatters the winner a little; the differences between families are what counts.\n\n",
		nCo, studyWeights)
	w.WriteString("Best of each normalization (over windows, decays, last purchases and weights), and item2vec:\n\n")
	var rows []row
	for _, n := range cooccur.Normalizations() {
		rows = append(rows, named(bestOf(func(i int) bool { return i < nCo && variants[i].norm == n })))
	}
	rows = append(rows, named(bestOf(func(i int) bool { return i >= nCo })))
	ref := bestOf(func(i int) bool {
		v := variants[min(i, nCo-1)]
		return i < nCo && v.window == 3 && v.decay == 0 && v.norm == cooccur.NormRaw && v.recent == 5
	})
	rows = append(rows, row{"the issue's reference: " + named(ref).name, ref.Ranks})
	st.writeRows(w, "signal blended with bm25 (validation)", rows, base)

	w.WriteString("\nBest of each window (normalization, decay, last purchases and weight free):\n\n")
	rows = rows[:0]
	for _, win := range []int{1, 2, 3, 5, 10, -1} {
		rows = append(rows, named(bestOf(func(i int) bool { return i < nCo && variants[i].window == win })))
	}
	st.writeRows(w, "window", rows, base)

	w.WriteString("\nBest of each number of last purchases read:\n\n")
	rows = rows[:0]
	for _, recent := range []int{1, 3, 5, 0} {
		rows = append(rows, named(bestOf(func(i int) bool { return i < nCo && variants[i].recent == recent })))
	}
	st.writeRows(w, "last purchases", rows, base)

	overall := bestOf(func(i int) bool { return i < nCo })
	w.WriteString("\nThe best co-occurrence blend against the best item2vec blend, paired:\n\n")
	bestI2V := bestOf(func(i int) bool { return i >= nCo })
	st.writeRows(w, "signal (validation)", []row{named(overall)}, row{"item2vec", bestI2V.Ranks})
	fmt.Fprintf(w, "\nThe weight curve of the best co-occurrence signal (%s):\n\n| weight | NDCG@10 | HR@10 |\n| ---: | ---: | ---: |\n", overall.Boost)
	for _, r := range res {
		if r.Boost == overall.Boost {
			fmt.Fprintf(w, "| %g | %.3f | %.3f |\n", r.Weight, eval.NDCG10.Mean(r.Ranks), eval.HR10.Mean(r.Ranks))
		}
	}

	bestVariant := variants[slices.IndexFunc(variants, func(v coVariant) bool { return v.String() == overall.Boost })]
	st.bestCo = &bestVariant
	return st.candidateSources(ctx, w, sd, tables, bestVariant, i2v)
}

// coBoost is a co-occurrence signal as a blend boost: the summed strengths
// of the products bought with the last recent purchases.
func coBoost(table *cooccur.Table, history []string, recent int, n cooccur.Normalization) (map[string]float64, error) {
	related, err := table.Related(lastN(history, recent), nil, n)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(related))
	for _, r := range related {
		out[r.ID] = r.Strength
	}
	return out, nil
}

// lastN returns the last n items (all for n = 0).
func lastN(ids []string, n int) []string {
	if n > 0 && n < len(ids) {
		return ids[len(ids)-n:]
	}
	return ids
}

func recentName(n int) string {
	if n == 0 {
		return "all"
	}
	return fmt.Sprint(n)
}

// candidateSources is part a (ii): how many validation targets each
// candidate source finds in its first 100, alone and fused.
func (st *study) candidateSources(ctx context.Context, w *strings.Builder, sd *studyData, tables map[[2]float64]*cooccur.Table,
	best coVariant, i2v []*item2vec) error {
	start := time.Now()
	const depth = eval.DefaultDepth
	// The engine's lexical and vector lists, deep enough to hold 100
	// products after the history is left out, in each index's order.
	lists := map[string][][]string{}
	for _, x := range []struct {
		name string
		r    hmpps.Retrieval
		by   func(h hit) float64
	}{{"lexical (BM25F)", hmpps.RetrieveLexical, func(h hit) float64 { return h.lexical }}, {"vector", hmpps.RetrieveVector, func(h hit) float64 { return h.cosine }}} {
		e, err := eval.NewEngine(ctx, sd.d.Products, hmpps.WithSummarizer(nil), hmpps.WithRetrieval(x.r), hmpps.WithRetrieveK(depth+st.cfg.maxHistory))
		if err != nil {
			return err
		}
		hits, err := searchAll(ctx, e, sd.val, false, depth+st.cfg.maxHistory, nil)
		e.Close()
		if err != nil {
			return err
		}
		for _, hs := range hits {
			slices.SortStableFunc(hs, func(a, b hit) int {
				if c := compareDesc(x.by(a), x.by(b)); c != 0 {
					return c
				}
				return strings.Compare(a.id, b.id)
			})
			ids := make([]string, 0, depth)
			for _, h := range hs[:min(depth, len(hs))] {
				ids = append(ids, h.id)
			}
			lists[x.name] = append(lists[x.name], ids)
		}
	}
	e, err := eval.NewEngine(ctx, sd.d.Products, hmpps.WithSummarizer(nil))
	if err != nil {
		return err
	}
	hybrid, err := searchAll(ctx, e, sd.val, true, depth, nil)
	e.Close()
	if err != nil {
		return err
	}
	for _, hs := range hybrid {
		ids := make([]string, len(hs))
		for i, h := range hs {
			ids[i] = h.id
		}
		lists["hybrid (the engine today)"] = append(lists["hybrid (the engine today)"], ids)
	}
	// The co-purchase neighbours of the best re-scorer's counting, read
	// with each normalization; item2vec's nearest products.
	neighbours := func(name string, fn func(t eval.Task) (map[string]float64, error)) error {
		out := make([][]string, len(sd.val))
		err := parallel(ctx, len(sd.val), func(i int) error {
			scores, err := fn(sd.val[i])
			if err != nil {
				return err
			}
			ids, vals := make([]string, 0, len(scores)), make([]float64, 0, len(scores))
			for id, s := range scores {
				if !contains(sd.val[i].History, id) {
					ids, vals = append(ids, id), append(vals, s)
				}
			}
			order := make([]int, len(ids))
			for k := range order {
				order[k] = k
			}
			sortByScore(order, ids, vals)
			for _, k := range order[:min(depth, len(order))] {
				out[i] = append(out[i], ids[k])
			}
			return nil
		})
		lists[name] = out
		return err
	}
	table := tables[[2]float64{float64(best.window), best.decay}]
	var coNames []string
	for _, n := range cooccur.Normalizations() {
		v := best
		v.norm = n
		name := "co-purchase: " + v.String()
		coNames = append(coNames, name)
		if err := neighbours(name, func(t eval.Task) (map[string]float64, error) { return coBoost(table, t.History, v.recent, v.norm) }); err != nil {
			return err
		}
	}
	bestCo := "co-purchase: " + best.String()
	m := i2v[len(i2v)-1]
	if err := neighbours("item2vec window 5", func(t eval.Task) (map[string]float64, error) {
		return m.similar(lastN(t.History, best.recent), 500), nil
	}); err != nil {
		return err
	}
	fuse := func(name string, weights []float64, parts ...string) {
		out := make([][]string, len(sd.val))
		for i := range sd.val {
			var ls [][]string
			for _, p := range parts {
				ls = append(ls, lists[p][i])
			}
			out[i] = rrf(ls, weights, depth)
		}
		lists[name] = out
	}
	fuse("RRF(lexical, vector)", []float64{1, 1}, "lexical (BM25F)", "vector")
	fuse("RRF(lexical, vector, co-purchase)", []float64{1, 1, 1}, "lexical (BM25F)", "vector", bestCo)
	fuse("RRF(lexical, co-purchase)", []float64{1, 1}, "lexical (BM25F)", bestCo)
	fuse("RRF(lexical, vector, 2 × co-purchase)", []float64{1, 1, 2}, "lexical (BM25F)", "vector", bestCo)
	fuse("RRF(lexical, vector, item2vec)", []float64{1, 1, 1}, "lexical (BM25F)", "vector", "item2vec window 5")
	for _, k := range []int{20, 50} {
		name := fmt.Sprintf("hybrid's first %d, then co-purchase's first %d", depth-k, k)
		out := make([][]string, len(sd.val))
		for i := range sd.val {
			h := lists["hybrid (the engine today)"][i]
			seen := map[string]bool{}
			for _, id := range h[:min(depth-k, len(h))] {
				seen[id] = true
				out[i] = append(out[i], id)
			}
			for _, id := range slices.Concat(lists[bestCo][i], h) {
				if len(out[i]) == depth {
					break
				}
				if !seen[id] {
					seen[id] = true
					out[i] = append(out[i], id)
				}
			}
		}
		lists[name] = out
	}
	for _, base := range []string{"hybrid (the engine today)", "lexical (BM25F)"} {
		name := base + " and co-purchase's first 50 it lacks"
		out := make([][]string, len(sd.val))
		for i := range sd.val {
			out[i] = slices.Clone(lists[base][i])
			added := 0
			for _, id := range lists[bestCo][i] {
				if added == 50 {
					break
				}
				if !slices.Contains(out[i], id) {
					out[i] = append(out[i], id)
					added++
				}
			}
		}
		lists[name] = out
	}
	order := []string{"lexical (BM25F)", "vector", "hybrid (the engine today)", "RRF(lexical, vector)"}
	order = append(order, coNames...)
	order = append(order, "item2vec window 5", "RRF(lexical, vector, co-purchase)", "RRF(lexical, co-purchase)",
		"RRF(lexical, vector, 2 × co-purchase)", "RRF(lexical, vector, item2vec)",
		fmt.Sprintf("hybrid's first %d, then co-purchase's first %d", depth-20, 20), fmt.Sprintf("hybrid's first %d, then co-purchase's first %d", depth-50, 50),
		"hybrid (the engine today) and co-purchase's first 50 it lacks", "lexical (BM25F) and co-purchase's first 50 it lacks")
	fmt.Fprintf(w, "\n### As a candidate source\n\n")
	fmt.Fprintf(w, "The share of validation targets among a source's first 100 products (the user's history left out), and among its first 10 and 50. "+
		"Lexical and vector are the engine's own indexes (BM25F, the hashing embedder), hybrid the engine's retrieval as it is; "+
		"co-purchase lists the products bought with the user's last purchases (counted as the best re-scorer above: window %s, decay %g, last %s), strongest first, "+
		"under each normalization; fusions are reciprocal-rank (k = %d) of the first 100 of each list. "+
		"The last two rows add to a list of 100 up to 50 co-purchase neighbours it lacks: the whole list's recall is the last column but one.\n\n",
		windowName(best.window), best.decay, recentName(best.recent), retrieval.DefaultRRFK)
	w.WriteString("| candidate source (validation) | recall@10 | recall@50 | recall@100 | recall of the whole list | mean length | lists with a product |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, name := range order {
		var r10, r50, r100, all, length, nonEmpty float64
		for i, t := range sd.val {
			l := lists[name][i]
			length += float64(len(l))
			if rankInList(l, t.Target, len(l)) > 0 {
				all++
			}
			r := rankInList(l, t.Target, depth)
			if r > 0 && r <= 10 {
				r10++
			}
			if r > 0 && r <= 50 {
				r50++
			}
			if r > 0 {
				r100++
			}
			if len(l) > 0 {
				nonEmpty++
			}
		}
		n := float64(len(sd.val))
		fmt.Fprintf(w, "| %s | %.3f | %.3f | %.3f | %.3f | %.1f | %.3f |\n", name, r10/n, r50/n, r100/n, all/n, length/n, nonEmpty/n)
	}
	st.logf("study: candidate sources in %s", time.Since(start).Round(time.Second))
	return nil
}

func windowName(w int) string {
	if w < 0 {
		return "all"
	}
	return fmt.Sprint(w)
}

// compareDesc orders higher values first.
func compareDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}
