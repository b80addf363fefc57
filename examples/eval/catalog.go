package main

import (
	"context"
	"fmt"
	"time"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/retrieval"
)

// Names of the whole-catalog methods as the report prints them; the trained
// ones are those of the Magazine tables.
const (
	nameCoPurchase     = "bm25 + co-purchase"
	nameNoHistory      = "hmpps − history"
	nameTrainedNoHist  = "hmpps, trained − history"
	nameTrainedNoCoF   = "hmpps, trained − co-purchase features"
	nameTrainedNoCoR   = "hmpps, trained − co-purchase retrieval"
	catalogNegatives   = eval.DefaultNegatives
	catalogDescription = "query = the target's category words (Ai et al., SIGIR 2017; no real queries are public)"
)

// coPurchaseGrid is what make eval tunes BM25 + co-purchase over, on the
// validation targets: the neighbourhood of the best settings of the
// validation study (-study, which tried 220 ways of counting and reading
// co-purchases): windows of 3 and 10 places, no decay, raw, idf-damped and
// conditional strengths, the last 5 or all purchases, and weights around
// the best one, 0.5.
func coPurchaseGrid() eval.CoPurchaseGrid {
	return eval.CoPurchaseGrid{
		Windows:        []int{3, 10},
		Decays:         []float64{0},
		Normalizations: []string{"raw", "idf", "conditional"},
		Recents:        []int{5, 0},
		Weights:        []float64{0.2, 0.35, 0.5, 0.75, 1},
	}
}

// catalogResult is the whole-catalog evaluation of one data set in
// RecBole's layout.
type catalogResult struct {
	Dataset string       `json:"dataset"`
	Stats   eval.Stats   `json:"stats"`
	Skipped eval.Skipped `json:"skipped"`
	// Catalog is the number of products ranked.
	Catalog int                     `json:"catalog"`
	Tasks   int                     `json:"test_tasks"`
	Repeats int                     `json:"test_targets_in_history"`
	Tuned   []eval.CoPurchaseResult `json:"copurchase_tuning"`
	// Reports are the whole-catalog test table, then the validation one
	// (with -catalog-validation), then the 99-negatives test table.
	Reports     []*eval.Report         `json:"reports"`
	Comparisons []eval.NamedComparison `json:"comparisons"`
	Training    []catalogTraining      `json:"training"`
	Seconds     float64                `json:"seconds"`

	models *trainedModels
}

// catalogTraining is one model's training at this size.
type catalogTraining struct {
	Label   string                `json:"label"`
	Summary hmpps.TrainingSummary `json:"summary"`
	// PeakHeapMB is the highest heap in use while training, above what
	// was in use before.
	PeakHeapMB float64 `json:"peak_heap_mb"`
	Epochs     int     `json:"epochs"`
	BestEpoch  int     `json:"best_epoch"`
}

// runCatalog evaluates the data set in RecBole's layout at cfg.catalogDir
// on the whole catalog: the leave-one-out split its files define, the
// co-purchase baseline tuned on the validation targets, the model trained
// on the training purchases, every method ranked on the test targets
// (whole catalog, then 99 random negatives).
func runCatalog(ctx context.Context, cfg config, bar *progressBar) (*catalogResult, error) {
	start := time.Now()
	d, err := eval.LoadRecBole(ctx, cfg.catalogDir)
	if err != nil {
		return nil, err
	}
	s, err := eval.BuildLeaveOneOut(d, eval.LeaveOneOutConfig{MaxHistory: cfg.maxHistory, Query: categoryWords})
	if err != nil {
		return nil, err
	}
	catalog := eval.Catalog(d)
	test, val := firstTasks(s.Tasks(eval.Test), cfg.maxTasks), firstTasks(s.Tasks(eval.Validation), cfg.maxTasks)
	res := &catalogResult{Dataset: d.Name, Stats: d.Stats, Skipped: s.Skipped, Catalog: len(catalog), Tasks: len(test)}
	for _, t := range test {
		if contains(t.History, t.Target) {
			res.Repeats++
		}
	}
	opts := func(label, phase string) eval.Options {
		return eval.Options{Label: label, BootstrapSamples: cfg.bootstrap, Seed: cfg.seed,
			Progress: func(p eval.Progress) { bar.update(phase, p) }}
	}

	bm25 := eval.NewBM25(d.Products)
	train := s.TrainingSequences()
	res.Tuned, err = eval.TuneCoPurchase(ctx, bm25, catalog, val, train, coPurchaseGrid(), eval.Options{Seed: cfg.seed})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(bar.w, "%-12s %-32s %4d tasks  %6.1fs\n", "validation", "co-purchase grid", len(val), time.Since(start).Seconds())
	co, err := eval.NewCoPurchase(bm25, train, res.Tuned[0].Params)
	if err != nil {
		return nil, err
	}
	if cfg.train {
		if res.models, res.Training, err = trainCatalog(ctx, d, s, catalog, cfg.seed, bar); err != nil {
			return nil, err
		}
	}

	su := &suite{}
	defer su.Close()
	text, err := retrieval.NewHashingEmbedder(retrieval.DefaultTextDimension)
	if err != nil {
		return nil, err
	}
	cosine, err := eval.NewQueryCosine(ctx, text, d.Products)
	if err != nil {
		return nil, err
	}
	// Summaries cannot change an offline ranking (see "− summaries" on
	// Magazine); without them a search over the whole catalog is cheaper.
	noSums := hmpps.WithSummarizer(nil)
	untrained, err := su.engine(ctx, d, noSums)
	if err != nil {
		return nil, err
	}
	methods := []eval.Method{
		eval.Random{Seed: cfg.seed}, eval.Popularity{Counts: s.TrainPurchases}, bm25, cosine, co,
		&eval.EngineMethod{Label: nameHMPPS, Engine: untrained},
		&eval.EngineMethod{Label: nameNoHistory, Engine: untrained, History: eval.NoHistory},
	}
	untrainedMethods := len(methods)
	if res.models != nil {
		noTwo := *res.models.Full
		noTwo.DisableStageTwo = true
		noNeighbors := *res.models.Full
		noNeighbors.Neighbors = -1
		for _, x := range []struct {
			label   string
			m       *hmpps.Model
			history eval.HistoryUse
		}{
			{nameTrained, res.models.Full, eval.FilteredHistory}, {nameTrainedNoHist, res.models.Full, eval.NoHistory},
			{nameTrainedNoOne, res.models.NoOne, eval.FilteredHistory}, {nameTrainedNoTwo, &noTwo, eval.FilteredHistory},
			{nameTrainedNoCoF, res.models.NoCollab, eval.FilteredHistory}, {nameTrainedNoCoR, &noNeighbors, eval.FilteredHistory},
		} {
			e, err := su.engine(ctx, d, noSums, hmpps.WithModel(x.m), hmpps.WithRetrieveK(trainedRetrieveK))
			if err != nil {
				return nil, err
			}
			methods = append(methods, &eval.EngineMethod{Label: x.label, Engine: e, History: x.history})
		}
	}
	whole := func(ms []eval.Method) []eval.Method {
		out := make([]eval.Method, len(ms))
		for i, m := range ms {
			out[i] = m
			if em, ok := m.(*eval.EngineMethod); ok {
				c := *em
				c.Depth = eval.DefaultDepth
				out[i] = &c
			}
		}
		return out
	}

	label := fmt.Sprintf("%s, test split, whole catalog", d.Name)
	rep, err := eval.EvaluateCatalog(ctx, catalog, test, whole(methods), opts(label, "test/catalog"))
	if err != nil {
		return nil, err
	}
	res.Reports = append(res.Reports, rep)
	if cfg.catalogValidation {
		// The trained models were refit on the validation purchases:
		// only the methods that never learned from them rank these.
		untaught := methods[:untrainedMethods]
		label := fmt.Sprintf("%s, validation split, whole catalog, methods not trained on it", d.Name)
		rep, err := eval.EvaluateCatalog(ctx, catalog, val, whole(untaught), opts(label, "val/catalog"))
		if err != nil {
			return nil, err
		}
		res.Reports = append(res.Reports, rep)
	}
	label = fmt.Sprintf("%s, test split, %d random negatives", d.Name, catalogNegatives)
	sampled := firstTasks(s.SampledTasks(eval.Test, catalog, catalogNegatives, cfg.seed), cfg.maxTasks)
	// Among random negatives, for comparison with the literature, the
	// baselines and the engines without their ablations, which the whole
	// catalog measures.
	rep, err = eval.Evaluate(ctx, sampled, methods[:min(len(methods), untrainedMethods+2)], opts(label, "test/99"))
	if err != nil {
		return nil, err
	}
	res.Reports = append(res.Reports, rep)
	if res.Comparisons, err = compareCatalog(res.Reports, res.models != nil); err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// categoryWords is the query of the RecBole data: its category text holds
// the whole path as one level.
func categoryWords(p hmpps.Product) string { return eval.CategoryWords(p.Category, nil) }

func firstTasks(tasks []eval.Task, n int) []eval.Task {
	if n > 0 && n < len(tasks) {
		return tasks[:n]
	}
	return tasks
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// compareCatalog runs the paired comparisons on NDCG@10 of every report.
func compareCatalog(reports []*eval.Report, trained bool) ([]eval.NamedComparison, error) {
	pairs := [][2]string{{nameHMPPS, "bm25"}, {nameCoPurchase, "bm25"}, {nameHMPPS, nameNoHistory}}
	if trained {
		pairs = append(pairs, [2]string{nameTrained, "bm25"}, [2]string{nameTrained, nameCoPurchase}, [2]string{nameTrained, nameHMPPS},
			[2]string{nameTrained, nameTrainedNoHist}, [2]string{nameTrained, nameTrainedNoOne}, [2]string{nameTrained, nameTrainedNoTwo},
			[2]string{nameTrained, nameTrainedNoCoF}, [2]string{nameTrained, nameTrainedNoCoR})
	}
	var out []eval.NamedComparison
	for _, rep := range reports {
		for _, p := range pairs {
			_, okA := rep.Method(p[0])
			_, okB := rep.Method(p[1])
			if !okA || !okB {
				continue // a method a report leaves out (see runCatalog)
			}
			c, err := rep.Compare(p[0], p[1], eval.NDCG10)
			if err != nil {
				return nil, err
			}
			out = append(out, eval.NamedComparison{A: p[0], B: p[1] + " (" + rep.Label + ")", Comparison: c})
		}
	}
	return out, nil
}
