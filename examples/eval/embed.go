package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/internal/atomicfile"
)

// recallDepth is the depth of the retrieval recall table.
const recallDepth = 100

// embedResult is embed.json: the evaluation of a real embedding model as
// the engine's text embedder, beside the hashing embedder.
type embedResult struct {
	Embedder *realEmbedder `json:"embedder"`
	Date     string        `json:"date"`
	// Files are the embedded catalogs, made or opened from the cache.
	Files []engineFile `json:"catalog_files"`
	// Catalog and Magazine are the two data sets' evaluations (nil when
	// skipped).
	Catalog  *embedSection `json:"whole_catalog,omitempty"`
	Magazine *embedSection `json:"sampled_negatives,omitempty"`
	// Recall is retrieval recall@100 over the whole catalog of -recbole,
	// by embedder and retrieval mode, on the validation targets.
	Recall []retrievalRecall `json:"retrieval_recall,omitempty"`
	// QueryShare is the query embedding's share of a search.
	QueryShare *queryShare `json:"query_share,omitempty"`
	Seconds    float64     `json:"seconds"`
}

// embedSection is one data set's rows: the report, the paired
// comparisons and the two trainings.
type embedSection struct {
	Dataset     string                 `json:"dataset"`
	Products    int                    `json:"products"`
	Report      *eval.Report           `json:"report"`
	Comparisons []eval.NamedComparison `json:"comparisons"`
	Training    []embedTraining        `json:"training"`
}

// embedTraining is one model's training.
type embedTraining struct {
	Label      string                `json:"label"`
	Summary    hmpps.TrainingSummary `json:"summary"`
	Epochs     int                   `json:"epochs"`
	BestEpoch  int                   `json:"best_epoch"`
	Validation float64               `json:"best_validation_ndcg10"`
}

// retrievalRecall is one cell of the recall table.
type retrievalRecall struct {
	Embedder string  `json:"embedder"`
	Mode     string  `json:"mode"`
	Recall   float64 `json:"recall"`
	Targets  int     `json:"targets"`
}

// queryShare is the median time of the query embedding and of the whole
// search, and the median of their ratio, over Searches searches.
type queryShare struct {
	Searches int           `json:"searches"`
	Embed    time.Duration `json:"embed_p50"`
	Search   time.Duration `json:"search_p50"`
	Share    float64       `json:"share_p50"`
}

// realName is the label of an hmpps row whose text embedder is the real
// model.
func realName(base string, re *realEmbedder) string { return base + ", " + re.Model + " vectors" }

// runEmbedEval evaluates the real embedding model -embed-model as the
// engine's text embedder, untrained and trained, beside the hashing
// embedder, on the -recbole data ranked whole and on the -data set among
// sampled negatives; it writes embed.md and embed.json.
func runEmbedEval(ctx context.Context, cfg config, stdout io.Writer, bar *progressBar) error {
	start := time.Now()
	re, err := newRealEmbedder(ctx, cfg.ollamaHost, cfg.embedModel)
	if err != nil {
		return err
	}
	res := &embedResult{Embedder: re, Date: time.Now().UTC().Format(time.DateOnly)}
	if cfg.catalogDir != "" {
		if err := embedCatalog(ctx, cfg, re, res, bar); err != nil {
			return err
		}
	}
	if cfg.dataDir != "" {
		if err := embedMagazine(ctx, cfg, re, res, bar); err != nil {
			return err
		}
	}
	res.Seconds = time.Since(start).Seconds()
	var md strings.Builder
	writeEmbedReport(&md, res, cfg)
	if _, err := io.WriteString(stdout, md.String()); err != nil {
		return err
	}
	err = atomicfile.Write(filepath.Join(cfg.outDir, "embed.md"), func(w io.Writer) error {
		_, err := io.WriteString(w, md.String())
		return err
	})
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(cfg.outDir, "embed.json"), func(w io.Writer) error { return eval.WriteJSON(w, res) })
}

// embedCatalog ranks the -recbole catalog whole on the test targets with
// the untrained and trained engine, each with the hashing and the real
// embedder, then measures retrieval recall@100 by mode and embedder on the
// validation targets and the query embedding's share of a search.
func embedCatalog(ctx context.Context, cfg config, re *realEmbedder, res *embedResult, bar *progressBar) error {
	d, err := eval.LoadRecBole(ctx, cfg.catalogDir)
	if err != nil {
		return err
	}
	s, err := eval.BuildLeaveOneOut(d, eval.LeaveOneOutConfig{MaxHistory: cfg.maxHistory, Query: categoryWords})
	if err != nil {
		return err
	}
	catalog := eval.Catalog(d)
	file, err := embedFile(ctx, cfg, d.Name, d.Products, re, bar)
	if err != nil {
		return err
	}
	res.Files = append(res.Files, file)
	su := &suite{}
	defer su.Close()
	hashing := func(opts ...hmpps.Option) (*hmpps.Engine, error) {
		return su.engine(ctx, d, append([]hmpps.Option{hmpps.WithSummarizer(nil)}, opts...)...)
	}
	neural := func(opts ...hmpps.Option) (*hmpps.Engine, error) {
		e, err := openCatalog(ctx, file, re, opts...)
		if err == nil {
			su.engines = append(su.engines, e)
		}
		return e, err
	}
	// Trained on the training purchases, each among the engine's own
	// candidates, early-stopped on the validation targets ranked the same
	// way: the test targets are never read.
	examples := s.TrainingExamples(catalog, 0, cfg.seed)
	validation := s.ValidationExamples(catalog, 0, cfg.seed)
	sec := &embedSection{Dataset: d.Name, Products: len(d.Products)}
	methods := []eval.Method{eval.NewBM25(d.Products)}
	rows, err := embedderRows(ctx, [2]engineOpener{hashing, neural}, re, examples, validation, cfg.seed, d.Name, eval.DefaultDepth, sec, bar)
	if err != nil {
		return err
	}
	methods = append(methods, rows...)
	test := firstTasks(s.Tasks(eval.Test), cfg.maxTasks)
	label := fmt.Sprintf("%s, test split, whole catalog", d.Name)
	sec.Report, err = eval.EvaluateCatalog(ctx, catalog, test, methods, eval.Options{Label: label, BootstrapSamples: cfg.bootstrap,
		Seed: cfg.seed, Progress: func(p eval.Progress) { bar.update("embed/catalog", p) }})
	if err != nil {
		return err
	}
	if sec.Comparisons, err = compareEmbed(sec.Report, re); err != nil {
		return err
	}
	res.Catalog = sec

	// Retrieval alone, every mode with each embedder, on the validation
	// targets.
	val := s.Tasks(eval.Validation)
	for _, v := range []struct {
		label string
		open  func(...hmpps.Option) (*hmpps.Engine, error)
	}{{"hashing", hashing}, {re.Model, neural}} {
		for _, mode := range []hmpps.Retrieval{hmpps.RetrieveVector, hmpps.RetrieveLexical, hmpps.RetrieveHybrid} {
			e, err := v.open(hmpps.WithRetrieval(mode), hmpps.WithRetrieveK(recallDepth))
			if err != nil {
				return err
			}
			r, err := recallAt(ctx, e, val, recallDepth)
			if err != nil {
				return err
			}
			res.Recall = append(res.Recall, retrievalRecall{Embedder: v.label, Mode: mode.String(), Recall: r, Targets: len(val)})
			fmt.Fprintf(bar.w, "%-12s %-32s %.3f\n", "recall@100", v.label+" "+mode.String(), r)
		}
	}

	// The query embedding's share of a search, the real model not
	// memoized: the first 100 test searches with distinct queries.
	e, err := hmpps.Open(ctx, file.Path, hmpps.WithTextEmbedder(re.raw), hmpps.WithSummarizer(nil))
	if err != nil {
		return err
	}
	su.engines = append(su.engines, e)
	res.QueryShare, err = measureQueryShare(ctx, e, s.Tasks(eval.Test), 100)
	return err
}

// embedMagazine ranks the -data set's test targets among sampled random
// negatives with the untrained and trained engine, each with the hashing
// and the real embedder; both engines hold the data set's products (those
// its purchases name), as make eval's do. (Every product of its metadata
// file embeds too: the live test TestRealEmbedderCatalogLive of package
// hmpps indexes them all.)
func embedMagazine(ctx context.Context, cfg config, re *realEmbedder, res *embedResult, bar *progressBar) error {
	d, err := eval.LoadAmazon(ctx, cfg.dataDir)
	if err != nil {
		return err
	}
	products := d.Products
	s, err := eval.BuildSplit(d, eval.SplitConfig{Mode: eval.RandomNegatives, Negatives: cfg.negatives, MaxHistory: cfg.maxHistory, Seed: cfg.seed})
	if err != nil {
		return err
	}
	file, err := embedFile(ctx, cfg, d.Name, products, re, bar)
	if err != nil {
		return err
	}
	res.Files = append(res.Files, file)
	examples, err := eval.TrainingExamples(s, d)
	if err != nil {
		return err
	}
	validation := eval.ValidationExamples(s)
	var engines []*hmpps.Engine
	defer func() {
		for _, e := range engines {
			e.Close()
		}
	}()
	hashing := func(opts ...hmpps.Option) (*hmpps.Engine, error) {
		e, err := eval.NewEngine(ctx, products, append([]hmpps.Option{hmpps.WithSummarizer(nil)}, opts...)...)
		if err == nil {
			engines = append(engines, e)
		}
		return e, err
	}
	neural := func(opts ...hmpps.Option) (*hmpps.Engine, error) {
		e, err := openCatalog(ctx, file, re, opts...)
		if err == nil {
			engines = append(engines, e)
		}
		return e, err
	}
	sec := &embedSection{Dataset: d.Name, Products: len(products)}
	methods := []eval.Method{eval.NewBM25(d.Products)}
	rows, err := embedderRows(ctx, [2]engineOpener{hashing, neural}, re, examples, validation, cfg.seed, d.Name, 0, sec, bar)
	if err != nil {
		return err
	}
	methods = append(methods, rows...)
	test := firstTasks(s.Tasks(eval.Test), cfg.maxTasks)
	sec.Report, err = eval.Evaluate(ctx, test, methods, eval.Options{Label: fmt.Sprintf("%s, test split, %d random negatives", d.Name, cfg.negatives),
		BootstrapSamples: cfg.bootstrap, Seed: cfg.seed, Progress: func(p eval.Progress) { bar.update("embed/sampled", p) }})
	if err != nil {
		return err
	}
	if sec.Comparisons, err = compareEmbed(sec.Report, re); err != nil {
		return err
	}
	res.Magazine = sec
	return nil
}

// embedFile returns the cached engine file of products, saying on the
// progress stream whether it embedded them or opened them.
func embedFile(ctx context.Context, cfg config, dataset string, products []hmpps.Product, re *realEmbedder, bar *progressBar) (engineFile, error) {
	fmt.Fprintf(bar.w, "%-12s %s: %d products with %s\n", "embed", dataset, len(products), re.Model)
	f, err := cachedCatalog(ctx, cfg.outDir, dataset, products, re)
	if err != nil {
		return f, err
	}
	if f.Cached {
		fmt.Fprintf(bar.w, "%-12s %s: opened %s (embedded %s)\n", "embed", dataset, f.Path, f.Made)
	} else {
		fmt.Fprintf(bar.w, "%-12s %s: embedded in %.1fs, %.1f texts/s, saved to %s\n", "embed", dataset, f.EmbedSeconds, f.TextsPerSecond, f.Path)
	}
	return f, nil
}

// engineOpener opens an engine over a data set's products with the given
// options on top of its embedder's.
type engineOpener func(...hmpps.Option) (*hmpps.Engine, error)

// embedderRows opens the untrained engine of each embedder (open[0] the
// hashing one, open[1] the real one), trains a model on it and opens the
// trained engine; it returns the untrained rows, then the trained ones,
// each read to depth (0: the whole list), and adds the trainings to sec.
func embedderRows(ctx context.Context, open [2]engineOpener, re *realEmbedder, examples, validation []hmpps.TrainingExample,
	seed uint64, dataset string, depth int, sec *embedSection, bar *progressBar) ([]eval.Method, error) {
	var untrainedRows, trainedRows []eval.Method
	for i, label := range []string{"hashing", re.Model} {
		name := nameHMPPS
		if i == 1 {
			name = realName(nameHMPPS, re)
		}
		untrained, err := open[i]()
		if err != nil {
			return nil, err
		}
		m, t, err := trainEmbed(ctx, untrained, examples, validation, seed, dataset+"/"+label, bar)
		if err != nil {
			return nil, err
		}
		sec.Training = append(sec.Training, t)
		trained, err := open[i](hmpps.WithModel(m))
		if err != nil {
			return nil, err
		}
		untrainedRows = append(untrainedRows, &eval.EngineMethod{Label: name, Engine: untrained, Depth: depth})
		trainedRows = append(trainedRows, &eval.EngineMethod{Label: strings.Replace(name, nameHMPPS, nameTrained, 1), Engine: trained, Depth: depth})
	}
	return append(untrainedRows, trainedRows...), nil
}

// trainEmbed trains the full model on e (no ablations), early-stopped on
// validation.
func trainEmbed(ctx context.Context, e *hmpps.Engine, examples, validation []hmpps.TrainingExample, seed uint64, label string, bar *progressBar) (*hmpps.Model, embedTraining, error) {
	m, err := hmpps.Train(ctx, e, examples, hmpps.TrainOptions{Validation: validation, Seed: seed,
		Progress: prefixWriter{w: bar.w, prefix: "train/" + label + " ", terminal: bar.terminal}})
	if err != nil {
		return nil, embedTraining{}, fmt.Errorf("training %s: %w", label, err)
	}
	curve := m.Curve()
	t := embedTraining{Label: label, Summary: m.Summary(), Epochs: len(curve), BestEpoch: m.BestEpoch()}
	if b := m.BestEpoch(); b >= 1 && b <= len(curve) {
		t.Validation = curve[b-1].ValidationNDCG10
	}
	return m, t, nil
}

// compareEmbed pairs each real-vector row with its hashing twin and with
// BM25, on NDCG@10.
func compareEmbed(rep *eval.Report, re *realEmbedder) ([]eval.NamedComparison, error) {
	var out []eval.NamedComparison
	for _, base := range []string{nameHMPPS, nameTrained} {
		for _, b := range []string{base, "bm25"} {
			a := realName(base, re)
			c, err := rep.Compare(a, b, eval.NDCG10)
			if err != nil {
				return nil, err
			}
			out = append(out, eval.NamedComparison{A: a, B: b, Comparison: c})
		}
	}
	return out, nil
}

// recallAt is the share of tasks whose target is among the k results of
// e's search for the task's query alone (no history). A query's results do
// not depend on the task, so each distinct query is searched once.
func recallAt(ctx context.Context, e *hmpps.Engine, tasks []eval.Task, k int) (float64, error) {
	if len(tasks) == 0 {
		return 0, nil
	}
	found := make(map[string]map[string]bool)
	hits := 0
	for _, t := range tasks {
		ids, ok := found[t.Query]
		if !ok {
			resp, err := e.Search(ctx, hmpps.Request{Query: t.Query, TopN: k})
			if err != nil {
				return 0, err
			}
			ids = make(map[string]bool, len(resp.Results))
			for _, r := range resp.Results {
				ids[r.ID] = true
			}
			found[t.Query] = ids
		}
		if ids[t.Target] {
			hits++
		}
	}
	return float64(hits) / float64(len(tasks)), nil
}

// measureQueryShare searches e for the first n tasks with distinct queries
// (history, ExcludeHistory, TopN 100, as the whole-catalog rows do) and
// returns the medians of Timings.Embed, Timings.Total and their ratio.
func measureQueryShare(ctx context.Context, e *hmpps.Engine, tasks []eval.Task, n int) (*queryShare, error) {
	seen := make(map[string]bool)
	var embeds, totals []time.Duration
	var shares []float64
	for _, t := range tasks {
		if seen[t.Query] || len(seen) == n {
			continue
		}
		seen[t.Query] = true
		resp, err := e.Search(ctx, hmpps.Request{Query: t.Query, HistoryIDs: t.History, ExcludeHistory: true, TopN: eval.DefaultDepth})
		if err != nil {
			return nil, err
		}
		embeds = append(embeds, resp.Timings.Embed)
		totals = append(totals, resp.Timings.Total)
		if resp.Timings.Total > 0 {
			shares = append(shares, resp.Timings.Embed.Seconds()/resp.Timings.Total.Seconds())
		}
	}
	if len(shares) == 0 {
		return nil, fmt.Errorf("no search to time")
	}
	slices.Sort(embeds)
	slices.Sort(totals)
	slices.Sort(shares)
	return &queryShare{Searches: len(shares), Embed: embeds[len(embeds)/2], Search: totals[len(totals)/2], Share: shares[len(shares)/2]}, nil
}
