package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/hmpps/eval"
	"hmpps/internal/ollamatest"
	"hmpps/retrieval"
)

// lengthJudge answers by the length of the prompt: arbitrary, but the same
// for the same prompt, in chat and in completion mode.
func lengthJudge(n int) float64 { return float64(n%10)/10 + 0.05 }

func fakeJudgeServer(t *testing.T) *ollamatest.Server {
	return ollamatest.New(t, ollamatest.Config{
		Models: []string{"fake-judge"},
		Chat:   ollamatest.YesNo(func(req *api.ChatRequest) float64 { return lengthJudge(len(ollamatest.Prompt(req))) }),
		Generate: func(ctx context.Context, req *api.GenerateRequest) (api.GenerateResponse, error) {
			p := lengthJudge(len(req.Prompt))
			return api.GenerateResponse{Response: " yes", Done: true, Logprobs: []api.Logprob{ollamatest.YesNoLogprob(p, " yes", req.TopLogprobs)},
				Metrics: api.Metrics{PromptEvalCount: len(req.Prompt) / 4, EvalCount: 1}}, nil
		},
	})
}

// TestModelEval runs -model-eval on a tiny catalog against a stand-in
// server: the report has every judge's rows, its calibration and its cost,
// and the summarizer ablation, a choice, ran on validation searches.
func TestModelEval(t *testing.T) {
	srv := fakeJudgeServer(t)
	data, out := writeTinyRecBole(t), t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-data", "", "-recbole", data, "-out", out, "-bootstrap", "10", "-model-eval",
		"-judges", "fake-judge:chat,fake-judge:completion", "-judge-candidates", "3", "-validation-tasks", "20", "-test-tasks", "12",
		"-perspective-tasks", "1", "-ollama-host", srv.URL}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	report := stdout.String()
	for _, want := range []string{"| fake-judge (chat) |", "| fake-judge (completion) |", "fake-judge, " + rowReplace + " vs " + nameTrained,
		"fake-judge, " + rowCombine + " vs " + nameTrained, "Calibration (fake-judge, chat, prompt "} {
		assert.Contains(t, report, want)
	}
	b, err := os.ReadFile(filepath.Join(out, "model-eval.json"))
	require.NoError(t, err)
	var doc modelEvalDoc
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Len(t, doc.Judges, 2)
	for _, j := range doc.Judges {
		assert.Equal(t, 20, j.Fit.Examples)
		assert.Len(t, j.Report.Methods, 3)
		require.NotNil(t, j.Perspective, "the summarizer ablation ran")
		assert.Equal(t, 1, j.Perspective.Report.Tasks)
		assert.Contains(t, j.Perspective.Report.Label, "1 validation searches")
	}
	assert.NotEmpty(t, srv.Chats())
	assert.NotEmpty(t, srv.Generates())
	kept, err := filepath.Glob(filepath.Join(out, "model-*.hmppsmodel"))
	require.NoError(t, err)
	assert.Len(t, kept, 1, "the trained model is kept for -trained")
}

// TestJudgedOnlyIsExact checks the shortcut of judgedOnly: asking the model
// only where the trained engine ranks the target among the judged gives
// every task the rank that asking it on every task gives.
func TestJudgedOnlyIsExact(t *testing.T) {
	ctx := context.Background()
	srv := fakeJudgeServer(t)
	// A model without what shoppers buy together: with it, the tiny
	// catalog's sequences put every target in the trained top 3, and the
	// shortcut would have nothing to skip.
	tiny := trainTiny(t, srv.URL, hmpps.TrainOptions{DisableCollaborative: true, Neighbors: -1, HiddenUnits: -1})
	d, s, catalog, cfg, m, learned := tiny.d, tiny.s, tiny.catalog, tiny.cfg, tiny.m, tiny.learned
	for _, mode := range []string{"chat", "completion"} {
		judge, err := eval.NewEngine(ctx, d.Products, judgeOptions(cfg, judgeSpec{Model: "fake-judge", Mode: mode}, m, false)...)
		require.NoError(t, err)
		full := &eval.EngineMethod{Label: "full", Engine: judge, Depth: eval.DefaultDepth}
		short := &judgedOnly{label: "short", model: full, learned: learned, n: 3, seen: &sync.Map{}}
		rep, err := eval.EvaluateCatalog(ctx, catalog, s.Tasks(eval.Test), []eval.Method{learned, full, short}, eval.Options{BootstrapSamples: 10})
		require.NoError(t, err)
		judge.Close()
		f, _ := rep.Method("full")
		sh, _ := rep.Method("short")
		tr, _ := rep.Method(nameTrained)
		assert.Equal(t, f.Ranks, sh.Ranks, mode)
		assert.NotEqual(t, tr.Ranks, f.Ranks, "%s: the judge moved some target", mode)
		assert.Less(t, short.cost().Searches, len(s.Tasks(eval.Test)), "%s: the model was asked on fewer searches", mode)
		assert.Positive(t, short.cost().Searches)
	}
}

// tinySetup is the tiny RecBole data set with its split and catalog, a config
// whose model server is a fake one, and a model trained on the split with
// the engine that ranks with it, as the learned method.
type tinySetup struct {
	d       *eval.Dataset
	s       *eval.LeaveOneOut
	catalog []string
	cfg     config
	m       *hmpps.Model
	learned *eval.EngineMethod
}

// trainTiny builds a tinySetup for the fake server at host, trained with opts
// (their Validation and Seed set here); the engine closes with the test.
func trainTiny(t *testing.T, host string, opts hmpps.TrainOptions) tinySetup {
	t.Helper()
	ctx := context.Background()
	d, err := eval.LoadRecBole(ctx, writeTinyRecBole(t))
	require.NoError(t, err)
	s, err := eval.BuildLeaveOneOut(d, eval.LeaveOneOutConfig{Query: categoryWords})
	require.NoError(t, err)
	catalog := eval.Catalog(d)
	var cfg config
	cfg.seed, cfg.bootstrap, cfg.outDir, cfg.ollamaHost = 1, 10, t.TempDir(), host
	cfg.modelEval = modelEvalConfig{candidates: 3, slots: 1, summaryWords: 20}
	e, err := eval.NewEngine(ctx, d.Products, hmpps.WithSummarizer(nil))
	require.NoError(t, err)
	opts.Validation, opts.Seed = s.ValidationExamples(catalog, catalogNegatives, cfg.seed), cfg.seed
	m, err := hmpps.Train(ctx, e, s.TrainingExamples(catalog, catalogNegatives, cfg.seed), opts)
	e.Close()
	require.NoError(t, err)
	offline, err := eval.NewEngine(ctx, d.Products, hmpps.WithModel(m))
	require.NoError(t, err)
	t.Cleanup(func() { offline.Close() })
	return tinySetup{d: d, s: s, catalog: catalog, cfg: cfg, m: m,
		learned: &eval.EngineMethod{Label: nameTrained, Engine: offline, Depth: eval.DefaultDepth}}
}

func TestParseJudges(t *testing.T) {
	j, err := parseJudges("a:b:chat, c:completion,")
	require.NoError(t, err)
	assert.Equal(t, []judgeSpec{{"a:b", "chat"}, {"c", "completion"}}, j)
	for _, bad := range []string{"", "a", "a:other", ":chat"} {
		_, err := parseJudges(bad)
		assert.Error(t, err, bad)
	}
}

// TestPerspectiveSamplesUseTheJudgesWordBudget checks that the samples the
// report quotes are summaries as the judge read them: written under
// -judge-summary-words, not the engine's default budget.
func TestPerspectiveSamplesUseTheJudgesWordBudget(t *testing.T) {
	ctx := context.Background()
	srv := ollamatest.New(t, ollamatest.Config{Chat: ollamatest.Text(func(req *api.ChatRequest) string {
		if strings.Contains(ollamatest.Prompt(req), "core perspectives") {
			return `{"perspectives": ["lab thermometer", "accuracy"]}`
		}
		return "A lab thermometer accurate to a tenth of a degree."
	})})
	d, err := eval.LoadRecBole(ctx, writeTinyRecBole(t))
	require.NoError(t, err)
	s, err := eval.BuildLeaveOneOut(d, eval.LeaveOneOutConfig{Query: categoryWords})
	require.NoError(t, err)
	var cfg config
	cfg.ollamaHost = srv.URL
	cfg.modelEval = modelEvalConfig{candidates: 3, slots: 1, summaryWords: 17}
	samples := perspectiveSamples(ctx, d, s.Tasks(eval.Test)[:2], judgeSpec{Model: "judge", Mode: "chat"}, cfg)
	require.Len(t, samples, 2)
	for _, sm := range samples {
		assert.Empty(t, sm.Error)
		assert.Equal(t, []string{"lab thermometer", "accuracy"}, sm.Perspectives)
		assert.NotEmpty(t, sm.Summary)
	}
	var summaries int
	for _, c := range srv.Chats() {
		p := ollamatest.Prompt(&c.Request)
		if strings.Contains(p, "Summarize this product") {
			summaries++
			assert.Contains(t, p, "at most 17 words")
		}
	}
	assert.Equal(t, 2, summaries)
}

// TestPerspectiveAblationSummarizesOnlyWhatItReads checks that the summaries
// ablation asks the model summarizer for no more than a search of
// ablationDepth results reads: the history kept and the results returned,
// not the whole list eval.DefaultDepth would return.
func TestPerspectiveAblationSummarizesOnlyWhatItReads(t *testing.T) {
	ctx := context.Background()
	srv := ollamatest.New(t, ollamatest.Config{
		Chat: ollamatest.Text(func(req *api.ChatRequest) string {
			if strings.Contains(ollamatest.Prompt(req), "core perspectives") {
				return `{"perspectives": ["product type", "material"]}`
			}
			return "A product for the lab."
		}),
		Generate: ollamatest.YesNoCompletion(func(prompt string) float64 { return lengthJudge(len(prompt)) }),
	})
	tiny := trainTiny(t, srv.URL, hmpps.TrainOptions{})
	d, s, catalog, cfg, m, learned := tiny.d, tiny.s, tiny.catalog, tiny.cfg, tiny.m, tiny.learned
	require.Greater(t, len(catalog), 2*ablationDepth, "the catalog must be deeper than the ablation searches")

	const k = 2
	res, err := perspectiveAblation(ctx, d, catalog, m, learned, s.Tasks(eval.Validation), judgeSpec{Model: "fake-judge", Mode: "completion"},
		cfg, k, &progressBar{w: io.Discard})
	require.NoError(t, err)
	require.NotNil(t, res, "some validation target is among the trained top 3")
	searches := len(res.Report.Methods[0].Ranks)
	require.Positive(t, searches)
	var summaries int
	for _, c := range srv.Chats() {
		if strings.Contains(ollamatest.Prompt(&c.Request), "Summarize this product") {
			summaries++
		}
	}
	// Each search reads at most its kept history and ablationDepth results;
	// the samples add one summary per sampled task.
	limit := searches*(retrieval.DefaultHistoryK+ablationDepth) + min(3, searches)
	assert.LessOrEqual(t, summaries, limit)
	assert.Positive(t, summaries)
}
