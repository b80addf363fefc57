package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/internal/atomicfile"
	"hmpps/rerank"
	"hmpps/summarize"
)

// modelEvalConfig is the command line of -model-eval: the model reranker
// judged on the whole-catalog protocol of the -recbole data.
type modelEvalConfig struct {
	on bool
	// judges are "model:mode" pairs, mode chat or completion.
	judges string
	// candidates is how many candidates per search a judge judges.
	candidates int
	// validationTasks and testTasks bound the validation searches
	// (calibration) and the test searches: the first N of each.
	validationTasks, testTasks int
	// perspectiveTasks is how many validation searches the summarizer
	// ablation runs per judge (0: none). It decides whether the judge's
	// own summaries pay, so it reads no test target.
	perspectiveTasks int
	// trained is a model file to reuse instead of training; the trained
	// model is written to the output folder either way.
	trained string
	// slots is the server's parallel slots the judge's calls are spread
	// over (OllamaConfig.Concurrency).
	slots int
	// summaryWords is the summaries' word budget (WithSummaryWords).
	summaryWords int
}

// registerModelEvalFlags adds the flags of -model-eval to fs.
func registerModelEvalFlags(fs *flag.FlagSet, c *modelEvalConfig) {
	fs.BoolVar(&c.on, "model-eval", false, "run the model-reranker evaluation instead: each -judges model judging the trained engine's top -judge-candidates on the -recbole data's whole catalog, as the trained engine, replacing its order, and as a calibrated learned combination; writes model-eval.md")
	fs.StringVar(&c.judges, "judges", "", "comma-separated model:mode pairs for -model-eval, mode chat or completion (default: $HMPPS_OLLAMA_MODEL in completion mode)")
	fs.IntVar(&c.candidates, "judge-candidates", 10, "candidates per search each judge judges (-model-eval)")
	fs.IntVar(&c.validationTasks, "validation-tasks", 300, "first N validation targets calibrated on (-model-eval)")
	fs.IntVar(&c.testTasks, "test-tasks", 300, "first N test targets scored (-model-eval)")
	fs.IntVar(&c.perspectiveTasks, "perspective-tasks", 0, "validation searches per judge that also run with the judge writing perspective-guided summaries, the summarizer ablation (-model-eval; 0: none)")
	fs.StringVar(&c.trained, "trained", "", "model file to use instead of training one (-model-eval)")
	fs.IntVar(&c.summaryWords, "judge-summary-words", 20, "word budget of the summaries the judges read (-model-eval): 20 keeps Gemma 3's prompts inside its 512-token window, where the server reuses the shared prefix")
	fs.IntVar(&c.slots, "slots", 1, "judge calls at once per search, as many as the server's OLLAMA_NUM_PARALLEL slots (-model-eval)")
}

// judgeSpec is one judge: a model and how it is asked.
type judgeSpec struct {
	Model string `json:"model"`
	Mode  string `json:"mode"`
}

func (j judgeSpec) String() string { return j.Model + " (" + j.Mode + ")" }

func parseJudges(s string) ([]judgeSpec, error) {
	var out []judgeSpec
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		i := strings.LastIndex(part, ":")
		if i <= 0 {
			return nil, fmt.Errorf("-judges: %q is not model:mode", part)
		}
		j := judgeSpec{Model: part[:i], Mode: part[i+1:]}
		if j.Mode != "chat" && j.Mode != "completion" {
			return nil, fmt.Errorf("-judges: mode of %q must be chat or completion", part)
		}
		out = append(out, j)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-judges names no model")
	}
	return out, nil
}

// Row names of the model evaluation.
const (
	rowReplace = "replaces the learned order"
	rowCombine = "learned combination"
	rowPersp   = "replaces, perspective summaries"
)

// judgeResult is one judge's part of the model evaluation.
type judgeResult struct {
	Judge judgeSpec        `json:"judge"`
	Fit   hmpps.VerdictFit `json:"fit"`
	// Report holds the trained engine, the judge replacing its order and
	// the learned combination on the test tasks.
	Report      *eval.Report           `json:"report"`
	Comparisons []eval.NamedComparison `json:"comparisons"`
	// Cost is the judge's cost per model search, by row.
	Cost []searchCost `json:"cost"`
	// Perspective is the summarizer ablation, when run.
	Perspective *perspectiveResult `json:"perspective,omitempty"`
	Seconds     float64            `json:"seconds"`
}

// searchCost is what the searches that asked the model cost.
type searchCost struct {
	Row      string  `json:"row"`
	Searches int     `json:"searches"`
	Seconds  float64 `json:"seconds_per_search"`
	Calls    float64 `json:"calls_per_search"`
	Prompt   float64 `json:"prompt_tokens_per_call"`
}

// modelEvalDoc is model-eval.json.
type modelEvalDoc struct {
	Dataset         string        `json:"dataset"`
	Date            string        `json:"date"`
	Candidates      int           `json:"judged_per_search"`
	ValidationTasks int           `json:"validation_tasks"`
	TestTasks       int           `json:"test_tasks"`
	Slots           int           `json:"slots"`
	Judges          []judgeResult `json:"judges"`
}

// runModelEval is -model-eval: per judge, calibration on the first
// validation targets, then the trained engine, the judge replacing its
// order and the learned combination on the first test targets, the whole
// catalog ranked (depth 100).
func runModelEval(ctx context.Context, cfg config, stdout io.Writer, bar *progressBar) error {
	mc := cfg.modelEval
	if cfg.catalogDir == "" {
		return errors.New("-model-eval needs the -recbole data")
	}
	if mc.judges == "" {
		if m := os.Getenv("HMPPS_OLLAMA_MODEL"); m != "" {
			mc.judges = m + ":completion"
		}
	}
	judges, err := parseJudges(mc.judges)
	if err != nil {
		return err
	}
	if mc.candidates <= 0 || mc.validationTasks <= 0 || mc.testTasks <= 0 || mc.perspectiveTasks < 0 || mc.slots <= 0 || mc.summaryWords <= 0 {
		return errors.New("-judge-candidates, -validation-tasks, -test-tasks, -judge-summary-words and -slots must be positive, -perspective-tasks not negative")
	}
	start := time.Now()
	d, err := eval.LoadRecBole(ctx, cfg.catalogDir)
	if err != nil {
		return err
	}
	s, err := eval.BuildLeaveOneOut(d, eval.LeaveOneOutConfig{MaxHistory: cfg.maxHistory, Query: categoryWords})
	if err != nil {
		return err
	}
	catalog := eval.Catalog(d)
	trained, err := trainedForModelEval(ctx, d, s, catalog, cfg, bar)
	if err != nil {
		return err
	}
	test, valTasks := firstTasks(s.Tasks(eval.Test), mc.testTasks), s.Tasks(eval.Validation)
	var validation []hmpps.TrainingExample
	for _, t := range firstTasks(valTasks, mc.validationTasks) {
		validation = append(validation, hmpps.TrainingExample{User: t.User, Query: t.Query, HistoryIDs: t.History, Positive: t.Target})
	}

	offline, err := eval.NewEngine(ctx, d.Products, hmpps.WithSummarizer(summarize.Extractive{}), hmpps.WithModel(trained))
	if err != nil {
		return err
	}
	defer offline.Close()
	learned := &eval.EngineMethod{Label: nameTrained, Engine: offline, Depth: eval.DefaultDepth}

	doc := modelEvalDoc{Dataset: d.Name, Date: time.Now().UTC().Format(time.DateOnly), Candidates: mc.candidates,
		ValidationTasks: len(validation), TestTasks: len(test), Slots: mc.slots}
	for _, j := range judges {
		res, err := evaluateJudge(ctx, d, catalog, trained, learned, validation, test, valTasks, j, cfg, bar)
		if err != nil {
			return fmt.Errorf("%s: %w", j, err)
		}
		doc.Judges = append(doc.Judges, *res)
		// Written after each judge, so that a long run shows its progress.
		if err := writeModelEval(cfg.outDir, &doc, time.Since(start), nil); err != nil {
			return err
		}
	}
	return writeModelEval(cfg.outDir, &doc, time.Since(start), stdout)
}

// trainedForModelEval reads the -trained model file, or trains the model on
// the training purchases (early-stopped on the validation targets among 99
// negatives) and writes it to the output folder.
func trainedForModelEval(ctx context.Context, d *eval.Dataset, s *eval.LeaveOneOut, catalog []string, cfg config, bar *progressBar) (*hmpps.Model, error) {
	if path := cfg.modelEval.trained; path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return hmpps.ReadModel(f)
	}
	e, err := eval.NewEngine(ctx, d.Products, hmpps.WithSummarizer(nil))
	if err != nil {
		return nil, err
	}
	defer e.Close()
	// As make eval trains the whole-catalog model: each purchase among the
	// engine's own candidates.
	m, err := hmpps.Train(ctx, e, s.TrainingExamples(catalog, 0, cfg.seed), hmpps.TrainOptions{
		Validation: s.ValidationExamples(catalog, 0, cfg.seed), Seed: cfg.seed,
		Progress: prefixWriter{w: bar.w, prefix: "train/" + d.Name + " ", terminal: bar.terminal},
	})
	if err != nil {
		return nil, err
	}
	path := filepath.Join(cfg.outDir, "model-"+strings.ToLower(d.Name)+".hmppsmodel")
	err = atomicfile.Write(path, func(w io.Writer) error {
		_, err := m.WriteTo(w)
		return err
	})
	return m, err
}

// judgeOptions are the engine options of a judge over the trained model m.
func judgeOptions(cfg config, j judgeSpec, m *hmpps.Model, perspectives bool) []hmpps.Option {
	oc := hmpps.OllamaConfig{Host: cfg.ollamaHost, VisionModel: j.Model, RerankCandidates: cfg.modelEval.candidates,
		Concurrency: cfg.modelEval.slots, Timeout: 10 * time.Minute}
	if j.Mode == "completion" {
		oc.RerankMode = rerank.ModeCompletion
	}
	opts := []hmpps.Option{hmpps.WithModel(m), hmpps.WithOllama(oc), hmpps.WithSummaryWords(cfg.modelEval.summaryWords)}
	if !perspectives {
		opts = append(opts, hmpps.WithSummarizer(summarize.Extractive{}))
	}
	return opts
}

// evaluateJudge calibrates judge j on the validation searches and scores
// the three rows on the test tasks; the summarizer ablation, a choice,
// runs on ablation, validation tasks.
func evaluateJudge(ctx context.Context, d *eval.Dataset, catalog []string, trained *hmpps.Model, learned *eval.EngineMethod,
	validation []hmpps.TrainingExample, test, ablation []eval.Task, j judgeSpec, cfg config, bar *progressBar) (*judgeResult, error) {
	start := time.Now()
	replace, err := eval.NewEngine(ctx, d.Products, judgeOptions(cfg, j, trained, false)...)
	if err != nil {
		return nil, err
	}
	defer replace.Close()
	fmt.Fprintf(bar.w, "calibrating %s on %d validation searches\n", j, len(validation))
	calibrated, err := hmpps.Calibrate(ctx, replace, validation, hmpps.CalibrateOptions{
		Progress: prefixWriter{w: bar.w, prefix: j.String() + " ", terminal: bar.terminal}})
	if err != nil {
		return nil, err
	}
	fit, _ := calibrated.Verdict()
	combine, err := eval.NewEngine(ctx, d.Products, judgeOptions(cfg, j, calibrated, false)...)
	if err != nil {
		return nil, err
	}
	defer combine.Close()

	n := cfg.modelEval.candidates
	seen := &sync.Map{}
	row := func(label string, e *hmpps.Engine) *judgedOnly {
		return &judgedOnly{label: label, model: &eval.EngineMethod{Label: label, Engine: e, Depth: eval.DefaultDepth}, learned: learned, n: n, seen: seen}
	}
	rows := []*judgedOnly{row(j.Model+", "+rowReplace, replace), row(j.Model+", "+rowCombine, combine)}
	methods := []eval.Method{learned, rows[0], rows[1]}
	label := fmt.Sprintf("%s, test split, whole catalog, %s judging the trained engine's top %d", d.Name, j, n)
	rep, err := eval.EvaluateCatalog(ctx, catalog, test, methods, eval.Options{Label: label, BootstrapSamples: cfg.bootstrap,
		Seed: cfg.seed, Concurrency: 1, Progress: func(p eval.Progress) { bar.update("test/"+j.Model, p) }})
	if err != nil {
		return nil, err
	}
	res := &judgeResult{Judge: j, Fit: fit, Report: rep}
	for _, r := range rows {
		c, err := rep.Compare(r.Name(), nameTrained, eval.NDCG10)
		if err != nil {
			return nil, err
		}
		res.Comparisons = append(res.Comparisons, eval.NamedComparison{A: r.Name(), B: nameTrained, Comparison: c})
		res.Cost = append(res.Cost, r.cost())
	}
	if k := cfg.modelEval.perspectiveTasks; k > 0 {
		if res.Perspective, err = perspectiveAblation(ctx, d, catalog, trained, learned, ablation, j, cfg, k, bar); err != nil {
			return nil, err
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// judgedOnly is a model method that asks the model only on the tasks whose
// target the trained engine ranks among the n candidates the model judges.
// On every other task its ranking of the target is the trained engine's,
// whatever the model answers: the judged n stay above the target in any
// order (a learned combination keeps them above the unjudged, and so does
// a judge replacing their order), and the candidates below keep the learned
// order. So the trained engine's scores stand in for those tasks, exactly;
// TestJudgedOnlyIsExact runs both ways on a fake server to check it. It
// reads the target for that choice only, and its cost counts only the
// searches it ran.
type judgedOnly struct {
	label   string
	model   *eval.EngineMethod
	learned *eval.EngineMethod
	n       int
	// seen caches the trained engine's answer per task (user and query),
	// shared by the rows of one judge: it does not change between them.
	seen *sync.Map

	mu       sync.Mutex
	searches int
	took     time.Duration
	calls    int
	prompt   int
}

// Name returns the row's label.
func (m *judgedOnly) Name() string { return m.label }

// Score implements eval.Method.
func (m *judgedOnly) Score(ctx context.Context, t eval.Task) (eval.Scored, error) {
	key := t.User + "\x00" + t.Query
	var ls eval.Scored
	if v, ok := m.seen.Load(key); ok {
		ls = v.(eval.Scored)
	} else {
		var err error
		if ls, err = m.learned.Score(ctx, t); err != nil {
			return eval.Scored{}, err
		}
		m.seen.Store(key, ls)
	}
	i := slices.Index(t.Candidates, t.Target)
	if i < 0 || ls.Scores[i] <= float64(m.learned.Depth-m.n) {
		return ls, nil
	}
	before := m.model.Engine.Usage().Search
	start := time.Now()
	sc, err := m.model.Score(ctx, t)
	took := time.Since(start)
	used := m.model.Engine.Usage().Search
	m.mu.Lock()
	m.searches++
	m.took += took
	m.calls += used.ModelCalls - before.ModelCalls
	m.prompt += used.PromptTokens - before.PromptTokens
	m.mu.Unlock()
	return sc, err
}

// cost returns what its searches cost.
func (m *judgedOnly) cost() searchCost {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := searchCost{Row: m.label, Searches: m.searches}
	if m.searches > 0 {
		c.Seconds = m.took.Seconds() / float64(m.searches)
		c.Calls = float64(m.calls) / float64(m.searches)
	}
	if m.calls > 0 {
		c.Prompt = float64(m.prompt) / float64(m.calls)
	}
	return c
}

// writeModelEval writes model-eval.md and model-eval.json, and the report
// to stdout when it is not nil.
func writeModelEval(dir string, doc *modelEvalDoc, took time.Duration, stdout io.Writer) error {
	var md strings.Builder
	writeModelEvalReport(&md, doc)
	fmt.Fprintf(&md, "\n`go run ./examples/eval -model-eval` took %s.\n", took.Round(time.Second))
	if stdout != nil {
		if _, err := io.WriteString(stdout, md.String()); err != nil {
			return err
		}
	}
	err := atomicfile.Write(filepath.Join(dir, "model-eval.md"), func(w io.Writer) error {
		_, err := io.WriteString(w, md.String())
		return err
	})
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "model-eval.json"), func(w io.Writer) error { return eval.WriteJSON(w, doc) })
}
