package main

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/internal/atomicfile"
	"hmpps/retrieval"
)

// The validation study (-study) measures, on the validation targets only,
// what the next version of the engine should be built from: which
// collaborative signal ranks best and finds the most targets, which negatives
// the trained engine should learn from, and which untrained score never
// loses to BM25. It never reads a test target. Its code is the study's, not
// the library's: the one-off comparisons live here, and what stays lives in
// hmpps/eval and internal/cooccur.

// studyData is one data set of the study: its catalog, its leave-one-out
// split and its validation tasks.
type studyData struct {
	d       *eval.Dataset
	split   *eval.LeaveOneOut
	catalog []string
	val     []eval.Task
	train   [][]string
	bm25    *eval.BM25
	// bm25Ranks are BM25's whole-catalog ranks of the validation targets,
	// the baseline every table compares with.
	bm25Ranks []int
}

func loadStudyData(ctx context.Context, d *eval.Dataset, query func(hmpps.Product) string, cfg config) (*studyData, error) {
	s, err := eval.BuildLeaveOneOut(d, eval.LeaveOneOutConfig{MaxHistory: cfg.maxHistory, Query: query})
	if err != nil {
		return nil, err
	}
	sd := &studyData{d: d, split: s, catalog: eval.Catalog(d), val: firstTasks(s.Tasks(eval.Validation), cfg.maxTasks),
		train: s.TrainingSequences(), bm25: eval.NewBM25(d.Products)}
	rep, err := eval.EvaluateCatalog(ctx, sd.catalog, sd.val, []eval.Method{sd.bm25}, eval.Options{BootstrapSamples: 1})
	if err != nil {
		return nil, err
	}
	sd.bm25Ranks = rep.Methods[0].Ranks
	return sd, nil
}

// runStudy runs the validation study and writes study.md.
func runStudy(ctx context.Context, cfg config, stdout io.Writer, bar *progressBar) error {
	start := time.Now()
	st := &study{cfg: cfg, log: bar.w}
	var md strings.Builder
	fmt.Fprintf(&md, "# Validation study of the whole-catalog protocol\n\n"+
		"Every number below is measured on validation targets only (the second-to-last purchase of each user), "+
		"ranked against the whole catalog as in the whole-catalog tables; no test target is read. "+
		"The %s. Intervals are 95%% bootstrap over users (%d resamples); paired differences are A − B with a paired bootstrap interval.\n\n",
		catalogDescription, cfg.bootstrap)
	var sci, mag *studyData
	if cfg.catalogDir != "" {
		d, err := eval.LoadRecBole(ctx, cfg.catalogDir)
		if err != nil {
			return err
		}
		if sci, err = loadStudyData(ctx, d, categoryWords, cfg); err != nil {
			return err
		}
	}
	if cfg.dataDir != "" {
		d, err := eval.LoadAmazon(ctx, cfg.dataDir)
		if err != nil {
			return err
		}
		if mag, err = loadStudyData(ctx, d, nil, cfg); err != nil {
			return err
		}
	}
	if sci != nil {
		st.logf("study: %s, %d validation tasks, %d products", sci.d.Name, len(sci.val), len(sci.catalog))
		if err := st.collaborative(ctx, &md, sci); err != nil {
			return err
		}
		if cfg.train {
			if err := st.negatives(ctx, &md, sci); err != nil {
				return err
			}
		}
	}
	var sets []*studyData
	for _, sd := range []*studyData{sci, mag} {
		if sd != nil {
			sets = append(sets, sd)
		}
	}
	if err := st.untrainedScore(ctx, &md, sets); err != nil {
		return err
	}
	fmt.Fprintf(&md, "\n`go run ./examples/eval -study` (seed %d) took %s on %s.\n", cfg.seed, time.Since(start).Round(time.Second),
		time.Now().UTC().Format(time.DateOnly))
	if _, err := io.WriteString(stdout, md.String()); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(cfg.outDir, "study.md"), func(w io.Writer) error {
		_, err := io.WriteString(w, md.String())
		return err
	})
}

// study holds the settings every section shares.
type study struct {
	cfg config
	log io.Writer
	// bestCo is part a's best co-occurrence re-scorer, which part e
	// blends into the trained engine.
	bestCo *coVariant
}

func (st *study) logf(format string, args ...any) {
	fmt.Fprintf(st.log, format+"\n", args...)
}

// row is one line of a study table: a method's validation ranks, compared
// with a baseline's.
type row struct {
	name  string
	ranks []int
}

// writeRows writes rows as a table of HR@10, NDCG@10 and Recall@100 with
// intervals, and the paired difference of NDCG@10 with base.
func (st *study) writeRows(w *strings.Builder, first string, rows []row, base row) {
	fmt.Fprintf(w, "| %s | HR@10 | NDCG@10 [95%% CI] | Recall@100 | NDCG@10 − %s [95%% CI] |\n| --- | ---: | ---: | ---: | ---: |\n", first, base.name)
	for _, r := range rows {
		s := eval.Bootstrap(r.ranks, st.cfg.bootstrap, st.cfg.seed)
		c, _ := eval.Compare(r.ranks, base.ranks, eval.NDCG10, st.cfg.bootstrap, st.cfg.seed)
		fmt.Fprintf(w, "| %s | %.3f | %.3f [%.3f, %.3f] | %.3f | %+.3f [%+.3f, %+.3f] |\n", r.name, s[eval.HR10].Mean,
			s[eval.NDCG10].Mean, s[eval.NDCG10].Low, s[eval.NDCG10].High, s[eval.Recall100].Mean, c.Diff.Mean, c.Diff.Low, c.Diff.High)
	}
}

// hit is what the study keeps of one search result.
type hit struct {
	id                                          string
	lexical, cosine, preference, learned, score float64
}

// searchAll runs one whole-catalog search per task (ExcludeHistory, topN
// results, the task's history when history is set, or the IDs of
// candidates[i] when candidates is not nil) and keeps the results.
func searchAll(ctx context.Context, e *hmpps.Engine, tasks []eval.Task, history bool, topN int, candidates [][]string) ([][]hit, error) {
	out := make([][]hit, len(tasks))
	err := parallel(ctx, len(tasks), func(i int) error {
		t := tasks[i]
		req := hmpps.Request{Query: t.Query, ExcludeHistory: true, TopN: topN}
		if history {
			req.HistoryIDs = t.History
		}
		if candidates != nil {
			req.CandidateIDs, req.TopN = candidates[i], len(candidates[i])
		}
		resp, err := e.Search(ctx, req)
		if err != nil {
			return fmt.Errorf("user %q: %w", t.User, err)
		}
		hs := make([]hit, 0, len(resp.Results))
		for _, r := range resp.Results {
			if !history && contains(t.History, r.ID) {
				continue
			}
			hs = append(hs, hit{id: r.ID, lexical: r.LexicalScore, cosine: r.RetrievalScore, preference: r.PreferenceScore,
				learned: r.LearnedScore, score: r.Score})
		}
		out[i] = hs
		return nil
	})
	return out, err
}

// parallel calls fn for 0..n-1 on every CPU, stopping at the first error.
func parallel(ctx context.Context, n int, fn func(i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range n {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			return fn(i)
		})
	}
	return g.Wait()
}

// rankAmong returns the target's pessimistic rank among hits scored by
// score, or 0 when it is not among them or ranks below depth.
func rankAmong(hs []hit, target string, score func(h *hit) float64, depth int) int {
	at := slices.IndexFunc(hs, func(h hit) bool { return h.id == target })
	if at < 0 {
		return 0
	}
	t := score(&hs[at])
	rank := 1
	for i := range hs {
		if i != at && score(&hs[i]) >= t {
			rank++
		}
	}
	if rank > depth {
		return 0
	}
	return rank
}

// rankScores returns the target's pessimistic rank among hits with these
// scores, or 0 when it is not among them or ranks below depth.
func rankScores(hs []hit, scores []float64, target string, depth int) int {
	at := slices.IndexFunc(hs, func(h hit) bool { return h.id == target })
	if at < 0 {
		return 0
	}
	r, err := eval.Rank(scores, at)
	if err != nil || r > depth {
		return 0
	}
	return r
}

// rankInList returns the target's place in a ranked list, from 1, or 0
// when it is not within the first depth.
func rankInList(ids []string, target string, depth int) int {
	for i, id := range ids[:min(depth, len(ids))] {
		if id == target {
			return i + 1
		}
	}
	return 0
}

// sortByScore sorts indexes by scores descending, ties by ID.
func sortByScore(order []int, ids []string, scores []float64) {
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(scores[b], scores[a]); c != 0 {
			return c
		}
		return cmp.Compare(ids[a], ids[b])
	})
}

// rrf fuses ranked lists by weighted reciprocal rank (retrieval.RankFusion,
// the engine's own) and returns the first n IDs, ties by ID.
func rrf(lists [][]string, weights []float64, n int) []string {
	ranked := make([]retrieval.RankedList, len(lists))
	for li, l := range lists {
		hits := make([]retrieval.Hit, len(l))
		for r, id := range l {
			hits[r] = retrieval.Hit{ID: id}
		}
		ranked[li] = retrieval.RankedList{Hits: hits, Weight: weights[li]}
	}
	fused, err := retrieval.RankFusion{}.Fuse(n, ranked...)
	if err != nil {
		panic(err) // the study's weights are positive constants
	}
	out := make([]string, len(fused))
	for i, h := range fused {
		out[i] = h.ID
	}
	return out
}

// halfOf puts a user in one of two fixed halves of the validation users.
func halfOf(user string) int {
	h := fnv.New32a()
	h.Write([]byte(user))
	return int(h.Sum32() % 2)
}
