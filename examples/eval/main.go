// Command eval measures hmpps against baselines on real shopping data, in
// two protocols.
//
// Sampled negatives, on the Amazon Review Data (2018) files of one category
// (-data): per user, in time order, the last purchase is the test target
// and the one before it the validation target; each is ranked among 99
// products the user never bought (random negatives, and in a second pass
// hard negatives from the same category), for a query built from the
// target's category path. It scores random, popularity, BM25, query-only
// embedding cosine, the hmpps offline pipeline and its ablations (no history
// filter, no personalization, no summaries), the pipeline tuned on the
// validation split, the engine trained by hmpps.Train on each user's
// purchases before the validation target (early-stopped on validation) with
// each learned stage switched off in turn, and, with -ollama-model, the
// pipeline with an Ollama vision model as reranker and summarizer on top of
// the offline and of the trained engine, all on the same candidate lists,
// which it writes to the output folder first.
//
// The whole catalog, on a data set in RecBole's atomic files (-recbole): the
// split its .inter files define (last purchase test, the one before it
// validation, the earlier ones training), the query the target's category
// words, every method ranking the whole catalog with the history left out
// (the engine retrieving its own candidates), HR@10, NDCG@10, MRR and
// Recall@100 to depth 100; then the same methods among 99 random negatives.
// It adds BM25 + co-purchase (tuned on validation), the engine trained on
// the training purchases and its ablations (history off, learned stage one
// off, learned stage two off), and the training's time and peak heap.
//
// It prints a Markdown report (metrics with 95% bootstrap intervals, paired
// comparisons, prompt sizes, the validation grids, the training) and writes
// it with a JSON file and a chart of the sampled tables (SVG and PNG) to the
// output folder; progress goes to stderr. With -study it runs instead the
// validation study of the whole-catalog protocol (collaborative signals,
// training negatives, the untrained score), on validation targets only, and
// writes study.md. With -embed-model it evaluates instead a real embedding
// model served by Ollama as the engine's text embedder, untrained and
// trained, beside the hashing embedder, on both data sets (the -recbole
// catalog ranked whole, -data among random negatives), with the retrieval
// recall@100 of each mode by embedder and the query embedding's share of a
// search; it embeds each catalog once, keeps it as an engine file in
// -out/cache, and writes embed.md and embed.json.
//
// By default the data are the Magazine Subscriptions 5-core in
// ../shared/data/amazon-magazine and the Industrial & Scientific 5-core in
// ../shared/data/amazon-scientific, relative to the repository root, from
// which it must then be run (HMPPS_DATA_DIR and HMPPS_RECBOLE_DIR, or -data
// and -recbole, point elsewhere; an empty one is skipped). Without
// -ollama-model it needs no network and no server.
//
//	make eval
//	go run ./examples/eval -out .eval -seed 1
//	go run ./examples/eval -recbole "" -tune=false -bootstrap 200
//	go run ./examples/eval -data "" -catalog-validation
//	go run ./examples/eval -study
//	go run ./examples/eval -embed-model all-minilm -ollama-host 127.0.0.1:11434
//	go run ./examples/eval -recbole "" -tune=false -tasks 50 -ollama-model qwen2.5vl:7b
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/internal/atomicfile"
)

// defaultDataDir and defaultRecBoleDir are where the shared data sits
// relative to the repository root; HMPPS_DATA_DIR and HMPPS_RECBOLE_DIR
// override them.
const (
	defaultDataDir    = "../shared/data/amazon-magazine"
	defaultRecBoleDir = "../shared/data/amazon-scientific"
)

// config is the command line.
type config struct {
	dataDir string
	// catalogDir holds a data set in RecBole's atomic layout, ranked over
	// the whole catalog; empty skips it.
	catalogDir string
	// catalogValidation adds the whole-catalog table of the validation
	// split.
	catalogValidation bool
	// study runs the validation study of the whole-catalog protocol
	// instead of the evaluation.
	study      bool
	outDir     string
	negatives  int
	maxHistory int
	seed       uint64
	bootstrap  int
	maxTasks   int
	tune       bool
	// train learns the two-stage model on each split's training purchases
	// and scores the trained engine and its ablations.
	train       bool
	ollamaModel string
	ollamaHost  string
	// ollamaMode is the reranker's mode: chat or completion.
	ollamaMode string
	// ollamaCandidates is how many candidates per task the model judges.
	ollamaCandidates int
	// ollamaSummaries makes the model write the summaries too.
	ollamaSummaries bool
	// modelEval is the model-reranker evaluation (-model-eval).
	modelEval modelEvalConfig
	// embedModel is the Ollama embedding model of the real-embedding
	// evaluation (-embed-model); empty skips it.
	embedModel string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "eval:", err)
		}
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	dataDir := os.Getenv("HMPPS_DATA_DIR")
	if dataDir == "" {
		dataDir = defaultDataDir
	}
	recboleDir := os.Getenv("HMPPS_RECBOLE_DIR")
	if recboleDir == "" {
		recboleDir = defaultRecBoleDir
	}
	var c config
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.dataDir, "data", dataDir, "folder with the reviews and meta_ files, ranked among sampled negatives (default: $HMPPS_DATA_DIR, else "+defaultDataDir+"; empty: skip)")
	fs.StringVar(&c.catalogDir, "recbole", recboleDir, "folder with a data set in RecBole's atomic files, ranked over the whole catalog (default: $HMPPS_RECBOLE_DIR, else "+defaultRecBoleDir+"; empty: skip)")
	fs.BoolVar(&c.catalogValidation, "catalog-validation", false, "also rank the -recbole data's validation targets over the whole catalog, with every method")
	fs.BoolVar(&c.study, "study", false, "run the validation study of the -recbole and -data sets (collaborative signals, training negatives, the untrained score) instead of the evaluation; writes study.md")
	fs.StringVar(&c.outDir, "out", ".eval", "folder for the split files, results.md, results.json and the chart")
	fs.IntVar(&c.negatives, "negatives", eval.DefaultNegatives, "negatives per target (M)")
	fs.IntVar(&c.maxHistory, "history", eval.DefaultMaxHistory, "most recent purchases kept as history (N)")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the negatives, the random baseline and the bootstrap")
	fs.IntVar(&c.bootstrap, "bootstrap", eval.DefaultBootstrapSamples, "bootstrap resamples per confidence interval")
	fs.IntVar(&c.maxTasks, "tasks", 0, "score only the first N test tasks of each split, e.g. for a model pipeline that makes a call per candidate (0: all)")
	fs.BoolVar(&c.train, "train", true, "train the two-stage model on each split's training purchases (validation for early stopping) and score it with its ablations")
	fs.BoolVar(&c.tune, "tune", true, "search stage one and reranker settings on the validation split, and score the best on test")
	fs.StringVar(&c.ollamaModel, "ollama-model", "", "also score the pipeline with this Ollama vision model as reranker and summarizer (one call per candidate: see -tasks)")
	fs.StringVar(&c.ollamaHost, "ollama-host", os.Getenv("OLLAMA_HOST"), "Ollama server for -ollama-model and -embed-model")
	fs.StringVar(&c.ollamaMode, "ollama-mode", "chat", "how -ollama-model is asked: chat (instruction-tuned models) or completion (a raw few-shot prompt, for small or base models)")
	fs.IntVar(&c.ollamaCandidates, "ollama-candidates", 0, "candidates per task the model judges, the best by the offline score; the rest keep their offline order (0: all)")
	fs.BoolVar(&c.ollamaSummaries, "ollama-summaries", true, "let -ollama-model write the summaries too (false: the offline extractive ones)")
	fs.StringVar(&c.embedModel, "embed-model", "", "instead of the evaluation, rank both data sets with this Ollama embedding model as the engine's text embedder, untrained and trained, beside the hashing embedder (server: -ollama-host); catalog vectors are cached in -out/cache; writes embed.md")
	registerModelEvalFlags(fs, &c.modelEval)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.dataDir == "" && c.catalogDir == "":
		return c, fmt.Errorf("-data and -recbole are both empty: nothing to evaluate")
	case c.negatives <= 0 || c.maxHistory <= 0 || c.bootstrap <= 0:
		return c, fmt.Errorf("-negatives, -history and -bootstrap must be positive")
	case c.maxTasks < 0:
		return c, fmt.Errorf("-tasks must not be negative")
	case c.ollamaCandidates < 0:
		return c, fmt.Errorf("-ollama-candidates must not be negative")
	case c.ollamaMode != "chat" && c.ollamaMode != "completion":
		return c, fmt.Errorf("-ollama-mode must be chat or completion, not %q", c.ollamaMode)
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	bar := &progressBar{w: stderr}
	if f, ok := stderr.(*os.File); ok {
		bar = newProgressBar(f)
	}
	if err := os.MkdirAll(cfg.outDir, 0o755); err != nil {
		return err
	}
	if cfg.study {
		return runStudy(ctx, cfg, stdout, bar)
	}
	if cfg.modelEval.on {
		return runModelEval(ctx, cfg, stdout, bar)
	}
	if cfg.embedModel != "" {
		return runEmbedEval(ctx, cfg, stdout, bar)
	}

	var md strings.Builder
	doc := resultsDoc{Date: time.Now().UTC().Format(time.DateOnly)}
	var reports []*eval.Report
	if cfg.dataDir != "" {
		if reports, err = runMagazine(ctx, cfg, bar, &md, &doc); err != nil {
			return err
		}
	}
	if cfg.catalogDir != "" {
		res, err := runCatalog(ctx, cfg, bar)
		if err != nil {
			return err
		}
		if md.Len() > 0 {
			md.WriteString("\n")
		}
		writeCatalogReport(&md, res, cfg.maxHistory)
		doc.Catalog = append(doc.Catalog, res)
	}
	fmt.Fprintf(&md, "\n`go run ./examples/eval` (seed %d, %d bootstrap resamples) took %s on %s.\n", cfg.seed, cfg.bootstrap,
		time.Since(start).Round(time.Second), time.Now().UTC().Format(time.DateOnly))
	if _, err := io.WriteString(stdout, md.String()); err != nil {
		return err
	}
	err = atomicfile.Write(filepath.Join(cfg.outDir, "results.md"), func(w io.Writer) error {
		_, err := io.WriteString(w, md.String())
		return err
	})
	if err != nil {
		return err
	}
	err = atomicfile.Write(filepath.Join(cfg.outDir, "results.json"), func(w io.Writer) error { return eval.WriteJSON(w, doc) })
	if err != nil {
		return err
	}
	if len(reports) == 0 {
		return nil
	}
	return writeCharts(reports, filepath.Join(cfg.outDir, "chart"))
}

// runMagazine evaluates the data set in the Amazon layout at cfg.dataDir
// among sampled negatives, writes its section of the report to md and its
// results to doc, and returns its test reports for the chart.
func runMagazine(ctx context.Context, cfg config, bar *progressBar, md *strings.Builder, doc *resultsDoc) ([]*eval.Report, error) {
	d, err := eval.LoadAmazon(ctx, cfg.dataDir)
	if err != nil {
		return nil, err
	}
	var splits []*eval.Split
	for _, mode := range []eval.CandidateMode{eval.RandomNegatives, eval.HardNegatives} {
		s, err := writeAndReadSplit(d, mode, cfg)
		if err != nil {
			return nil, err
		}
		splits = append(splits, s)
	}

	var tuning []tuneResult
	var def tuneResult
	var tuned *tuneConfig
	var sweep []summaryWordsResult
	if cfg.tune {
		tuning, def, err = tune(ctx, d, splits, func(p eval.Progress) { bar.update("validation", p) })
		if err != nil {
			return nil, err
		}
		tuned = &tuning[0].Config
		if sweep, err = summaryWordsSweep(ctx, d, splits[0]); err != nil {
			return nil, err
		}
	}

	var models []*trainedModels
	if cfg.train {
		for _, s := range splits {
			tm, err := train(ctx, d, s, cfg.seed, bar)
			if err != nil {
				return nil, err
			}
			models = append(models, tm)
		}
	}

	var reports []*eval.Report
	var timings []string // the model pipelines' seconds per candidate
	var comparisons []eval.NamedComparison
	var checks []protocolCheck
	for si, s := range splits {
		c, err := checkProtocol(ctx, d, s)
		if err != nil {
			return nil, err
		}
		checks = append(checks, c)
		su, err := newSuite(ctx, d, s, cfg, tuned)
		if err != nil {
			return nil, err
		}
		if len(models) > 0 {
			ms, err := trainedMethods(ctx, su, d, models[si])
			if err != nil {
				su.Close()
				return nil, err
			}
			su.methods = append(su.methods, ms...)
			// The model on top of the trained engine: the learned score
			// picks what the model judges and orders the rest.
			m, err := modelMethod(ctx, su, d, cfg, nameTrained, hmpps.WithModel(models[si].Full))
			if err != nil {
				su.Close()
				return nil, err
			}
			if m != nil {
				su.methods = append(su.methods, m)
			}
		}
		// Each model pipeline against the offline engine it is built on.
		var modelPairs [][2]string
		for _, m := range su.methods {
			if _, ok := m.(*timedMethod); ok {
				base, _, _ := strings.Cut(m.Name(), " + ")
				modelPairs = append(modelPairs, [2]string{m.Name(), base})
			}
		}
		phase := "test/" + string(s.Mode)
		tasks := s.Tasks(eval.Test)
		if cfg.maxTasks > 0 && cfg.maxTasks < len(tasks) {
			tasks = tasks[:cfg.maxTasks]
		}
		rep, err := eval.Evaluate(ctx, tasks, su.methods, eval.Options{
			Label:            fmt.Sprintf("Test split, %s negatives", s.Mode),
			BootstrapSamples: cfg.bootstrap,
			Seed:             cfg.seed,
			Progress:         func(p eval.Progress) { bar.update(phase, p) },
		})
		su.Close()
		if err != nil {
			return nil, err
		}
		for _, m := range su.methods {
			if tm, ok := m.(*timedMethod); ok {
				if secs, n := tm.secondsPerCandidate(); n > 0 {
					timings = append(timings, fmt.Sprintf("- %s, %s: %.2f s per judged candidate (%d candidates over %d tasks, wall time of the searches)",
						tm.Name(), rep.Label, secs, n, len(tasks)))
				}
			}
		}
		reports = append(reports, rep)
		cs, err := compare(rep, tuned != nil, len(models) > 0, modelPairs)
		if err != nil {
			return nil, err
		}
		comparisons = append(comparisons, cs...)
	}

	writeReport(md, d, splits, checks, reports, comparisons, tuning, def, sweep, models)
	if len(timings) > 0 {
		md.WriteString("\n### Model cost\n\n" + strings.Join(timings, "\n") + "\n")
	}
	doc.Dataset, doc.Stats, doc.Reports, doc.Checks, doc.Comparisons = d.Name, d.Stats, reports, checks, comparisons
	doc.Tuning, doc.Default, doc.SummaryWords = tuning, def, sweep
	for _, s := range splits {
		doc.Skipped = append(doc.Skipped, s.Skipped)
	}
	for _, tm := range models {
		doc.Training = append(doc.Training, newTrainingDoc(tm))
	}
	return reports, nil
}

// resultsDoc is results.json.
type resultsDoc struct {
	Dataset      string                 `json:"dataset"`
	Date         string                 `json:"date"`
	Stats        eval.Stats             `json:"stats"`
	Skipped      []eval.Skipped         `json:"skipped"`
	Checks       []protocolCheck        `json:"protocol_checks"`
	Reports      []*eval.Report         `json:"reports"`
	Comparisons  []eval.NamedComparison `json:"comparisons"`
	Tuning       []tuneResult           `json:"tuning,omitempty"`
	Default      tuneResult             `json:"default_on_validation"`
	SummaryWords []summaryWordsResult   `json:"summary_words,omitempty"`
	Training     []trainingDoc          `json:"training,omitempty"`
	// Catalog holds the whole-catalog evaluations of the -recbole data.
	Catalog []*catalogResult `json:"whole_catalog,omitempty"`
}

// writeAndReadSplit builds the split, writes it to the output folder and
// reads it back, so that the lists every method ranks are the ones in the
// file.
func writeAndReadSplit(d *eval.Dataset, mode eval.CandidateMode, cfg config) (*eval.Split, error) {
	s, err := eval.BuildSplit(d, eval.SplitConfig{Mode: mode, Negatives: cfg.negatives, MaxHistory: cfg.maxHistory, Seed: cfg.seed})
	if err != nil {
		return nil, err
	}
	path := filepath.Join(cfg.outDir, fmt.Sprintf("split-%s.json", mode))
	if err := atomicfile.Write(path, func(w io.Writer) error { return eval.WriteSplit(w, s) }); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return eval.ReadSplit(f)
}

// compare runs the paired comparisons the report discusses, on NDCG@10,
// then the extra pairs.
func compare(rep *eval.Report, tuned, trained bool, extra [][2]string) ([]eval.NamedComparison, error) {
	pairs := [][2]string{
		{nameHMPPS, "bm25"}, {nameHMPPS, "popularity"}, {nameHMPPS, "query cosine"},
		{nameHMPPS, nameNoFilter}, {nameHMPPS, nameNoPersonal}, {nameHMPPS, nameNoSummaries},
	}
	if tuned {
		pairs = append(pairs, [2]string{nameTuned, nameHMPPS}, [2]string{nameTuned, "bm25"})
	}
	if trained {
		pairs = append(pairs, [2]string{nameTrained, "bm25"}, [2]string{nameTrained, nameHMPPS},
			[2]string{nameTrained, nameTrainedNoOne}, [2]string{nameTrained, nameTrainedNoTwo})
	}
	pairs = append(pairs, extra...)
	var out []eval.NamedComparison
	for _, p := range pairs {
		c, err := rep.Compare(p[0], p[1], eval.NDCG10)
		if err != nil {
			return nil, err
		}
		out = append(out, eval.NamedComparison{A: p[0], B: p[1] + " (" + strings.ToLower(strings.TrimPrefix(rep.Label, "Test split, ")) + ")", Comparison: c})
	}
	return out, nil
}
