package hmpps

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamatest"
	"hmpps/rerank"
	"hmpps/summarize"
)

// calibrationExamples are held-out purchases over testCatalog in which the
// boot bought within the user's kind follows a rule the learned model was
// not trained on: leather fans who bought boot dressing buy the classic
// leather boots, the others the work boots; trail fans who bought the tent
// buy the lightweight trail boots, the others the ultralight ones. Each is
// ranked among the four boots.
func calibrationExamples(n int) []TrainingExample {
	var out []TrainingExample
	for u := range n {
		var ex TrainingExample
		switch u % 4 {
		case 0:
			ex = TrainingExample{HistoryIDs: []string{"hist-wallet", "hist-dressing"}, Positive: "boot-leather-1"}
		case 1:
			ex = TrainingExample{HistoryIDs: []string{"hist-wallet", "hist-belt"}, Positive: "boot-leather-2"}
		case 2:
			ex = TrainingExample{HistoryIDs: []string{"hist-gaiters", "hist-tent"}, Positive: "boot-trail-1"}
		case 3:
			ex = TrainingExample{HistoryIDs: []string{"hist-gaiters"}, Positive: "boot-trail-2"}
		}
		ex.User, ex.Query = fmt.Sprint("calibration-", u), "waterproof boots"
		ex.HistoryIDs = append(ex.HistoryIDs, "hist-novel")
		for _, b := range []string{"boot-leather-1", "boot-leather-2", "boot-trail-1", "boot-trail-2"} {
			if b != ex.Positive {
				ex.Negatives = append(ex.Negatives, b)
			}
		}
		out = append(out, ex)
	}
	return out
}

// oracleJudge answers yes (0.95) exactly for the boot calibrationExamples'
// rule says the user buys, reading the prompt as a model would: the kept
// history and the candidate's text.
func oracleJudge(req *api.ChatRequest) float64 {
	history := req.Messages[len(req.Messages)-2].Content
	cand := req.Messages[len(req.Messages)-1].Content
	want := "Ultralight Hiking Boots"
	switch {
	case strings.Contains(history, "Boot Dressing"):
		want = "Classic Leather Waterproof Boots"
	case strings.Contains(history, "Belt"):
		want = "Waxed Leather Work Boots"
	case strings.Contains(history, "Tent"):
		want = "Lightweight Trail Waterproof Boots"
	}
	if strings.Contains(cand, want) {
		return 0.95
	}
	return 0.05
}

// randomJudge answers at random, a probability from a seeded generator,
// whatever the prompt: its answers say nothing about the purchase. With one
// call at a time (calibrationEngine), the same seed gives the same answers.
func randomJudge(seed uint64) ollamatest.Judge {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, 0))
	return func(*api.ChatRequest) float64 {
		mu.Lock()
		defer mu.Unlock()
		return rng.Float64()
	}
}

// calibrationEngine is an engine over testCatalog with the model m and a
// reranker on srv judging every candidate, one call at a time.
func calibrationEngine(t *testing.T, srv *ollamatest.Server, m *Model) *Engine {
	t.Helper()
	e := ollamaEngine(t, srv, OllamaConfig{Concurrency: 1}, WithModel(m), WithSummarizer(summarize.Extractive{}))
	require.NoError(t, e.Upsert(context.Background(), testCatalog()...))
	return e
}

func TestCalibrateRandomJudgeFallsBackToTheLearnedScore(t *testing.T) {
	ctx := context.Background()
	m := trainTestModel(t, newTestEngine(t), TrainOptions{Epochs: 10})
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"vision"}, Chat: ollamatest.YesNo(randomJudge(1))})
	validation := calibrationExamples(80)
	calibrated, err := Calibrate(ctx, calibrationEngine(t, srv, m), validation, CalibrateOptions{})
	require.NoError(t, err)
	calls := len(srv.Chats())
	require.Positive(t, calls, "the model was asked")

	fit, ok := calibrated.Verdict()
	require.True(t, ok)
	t.Logf("fit: %+v", fit)
	assert.False(t, fit.Trusted, "noise earns no trust")
	assert.Equal(t, 80, fit.Examples)
	assert.Positive(t, fit.Lists)
	assert.Zero(t, fit.Unanswered)
	require.Len(t, fit.Weights, 1+len(verdictSignals))
	assert.Equal(t, learnedSignal, fit.Weights[0].Name)
	assert.Positive(t, fit.Weights[0].Weight)
	logOdds := fit.Weights[1].Weight
	// On the standardized log-odds: over seeds 1 to 9 it stays within
	// ±0.27, against about 2 for the informative judge below.
	assert.Less(t, math.Abs(logOdds), 0.5, "the random verdict's weight goes to about zero")
	assert.InDelta(t, 0.0, fit.Weights[2].Weight, 1e-9, "the fake's yes+no mass is constant: nothing to weigh")

	// The calibrated engine ranks as the learned score does, and asks no
	// model.
	learnedEngine := newTestEngine(t, WithModel(m))
	e := calibrationEngine(t, srv, calibrated)
	for _, ex := range validation[:8] {
		req := Request{Query: ex.Query, HistoryIDs: ex.HistoryIDs, CandidateIDs: append([]string{ex.Positive}, ex.Negatives...)}
		want, err := learnedEngine.Search(ctx, req)
		require.NoError(t, err)
		got, err := e.Search(ctx, req)
		require.NoError(t, err)
		assert.Equal(t, ids(want.Results), ids(got.Results))
		for i, r := range got.Results {
			assert.Equal(t, want.Results[i].Score, r.Score)
			assert.Nil(t, r.Verdict)
		}
		assert.Contains(t, strings.Join(got.Notes, "\n"), "was not asked")
	}
	assert.Equal(t, calls, len(srv.Chats()), "an untrusted judge is not asked")
}

func TestCalibrateInformativeJudgeIsTrusted(t *testing.T) {
	ctx := context.Background()
	m := trainTestModel(t, newTestEngine(t), TrainOptions{Epochs: 10})
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"vision"}, Chat: ollamatest.YesNo(oracleJudge)})
	validation := calibrationExamples(40)
	calibrated, err := Calibrate(ctx, calibrationEngine(t, srv, m), validation, CalibrateOptions{})
	require.NoError(t, err)
	fit, ok := calibrated.Verdict()
	require.True(t, ok)
	t.Logf("fit: %+v", fit)
	assert.True(t, fit.Trusted)
	assert.Positive(t, fit.Wins)
	assert.Zero(t, fit.Losses)
	assert.Less(t, fit.SignP, DefaultCalibrateMaxP)
	assert.Greater(t, fit.CombinedNDCG10, fit.LearnedNDCG10)
	assert.InDelta(t, 1.0, fit.CombinedNDCG10, 1e-9, "the oracle puts every purchase first")
	assert.Positive(t, fit.Weights[1].Weight, "yes means bought")
	assert.Positive(t, fit.Usage.ModelCalls)
	assert.Equal(t, "vision, chat, prompt", fit.Judge[:len("vision, chat, prompt")])

	// The calibrated engine puts the purchase first on held-out users of
	// the same rule; judged results carry the verdict.
	e := calibrationEngine(t, srv, calibrated)
	for _, ex := range calibrationExamples(8) {
		resp, err := e.Search(ctx, Request{Query: ex.Query, HistoryIDs: ex.HistoryIDs, CandidateIDs: append([]string{ex.Positive}, ex.Negatives...)})
		require.NoError(t, err)
		assert.Equal(t, ex.Positive, resp.Results[0].ID, "history %v", ex.HistoryIDs)
		for _, r := range resp.Results {
			require.NotNil(t, r.Verdict)
			assert.InDelta(t, oracleP(r.Verdict), r.Verdict.P(), 1e-9)
		}
	}
}

// oracleP is the probability the oracle gave: 0.95 or 0.05.
func oracleP(v *rerank.Verdict) float64 {
	if v.LogOdds > 0 {
		return 0.95
	}
	return 0.05
}

func TestCalibratedCombinationKeepsTheUnjudgedInLearnedOrder(t *testing.T) {
	ctx := context.Background()
	m := trainTestModel(t, newTestEngine(t), TrainOptions{Epochs: 10})
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"vision"}, Chat: ollamatest.YesNo(oracleJudge)})
	calibrated, err := Calibrate(ctx, calibrationEngine(t, srv, m), calibrationExamples(40), CalibrateOptions{})
	require.NoError(t, err)
	e := ollamaEngine(t, srv, OllamaConfig{RerankCandidates: 2}, WithModel(calibrated), WithSummarizer(summarize.Extractive{}))
	require.NoError(t, e.Upsert(ctx, testCatalog()...))
	req := Request{Query: "waterproof boots", HistoryIDs: []string{"hist-wallet", "hist-belt", "hist-novel"}, TopN: 8}
	learned, err := newTestEngine(t, WithModel(m)).Search(ctx, req)
	require.NoError(t, err)
	resp, err := e.Search(ctx, req)
	require.NoError(t, err)
	assert.ElementsMatch(t, ids(learned.Results[:2]), ids(resp.Results[:2]), "the learned top two are judged")
	assert.Equal(t, ids(learned.Results[2:]), ids(resp.Results[2:]), "the others keep the learned order below")
	for i, r := range resp.Results {
		assert.Equal(t, i < 2, r.Verdict != nil, "%s", r.ID)
	}
}

func TestCalibratedModelFile(t *testing.T) {
	ctx := context.Background()
	m := trainTestModel(t, newTestEngine(t), TrainOptions{Epochs: 5})
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"vision", "other"}, Chat: ollamatest.YesNo(oracleJudge)})
	calibrated, err := Calibrate(ctx, calibrationEngine(t, srv, m), calibrationExamples(20), CalibrateOptions{})
	require.NoError(t, err)

	var buf bytes.Buffer
	_, err = calibrated.WriteTo(&buf)
	require.NoError(t, err)
	read, err := ReadModel(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	want, _ := calibrated.Verdict()
	got, ok := read.Verdict()
	require.True(t, ok)
	assert.Equal(t, want, got)

	// An uncalibrated model's file has no verdict part: the bytes of the
	// files written before calibration existed.
	buf.Reset()
	_, err = m.WriteTo(&buf)
	require.NoError(t, err)
	assert.NotContains(t, buf.String(), `"verdict"`)
	plain, err := ReadModel(&buf)
	require.NoError(t, err)
	_, ok = plain.Verdict()
	assert.False(t, ok)

	// The engine file keeps it too.
	path := t.TempDir() + "/calibrated.hmpps"
	require.NoError(t, newTestEngine(t, WithModel(calibrated)).Save(ctx, path))
	opened, err := Open(ctx, path, WithOllama(OllamaConfig{Host: srv.URL, VisionModel: "vision"}), WithSummarizer(summarize.Extractive{}))
	require.NoError(t, err)
	defer opened.Close()
	got, ok = opened.cfg.model.Verdict()
	require.True(t, ok)
	assert.Equal(t, want, got)

	t.Run("another judge is refused", func(t *testing.T) {
		for _, cfg := range []OllamaConfig{
			{VisionModel: "other"},
			{VisionModel: "vision", RerankMode: rerank.ModeCompletion},
			{VisionModel: "vision", PromptTemplate: &rerank.PromptTemplate{System: "Say yes or no.", Candidate: "{{.Candidate.Text}}"}},
		} {
			cfg.Host = srv.URL
			_, err := New(WithOllama(cfg), WithModel(calibrated))
			assert.ErrorIs(t, err, ErrInvalidModel, "%+v", cfg)
		}
		e, err := New(WithModel(calibrated))
		require.NoError(t, err, "the offline reranker leaves the calibration unused")
		e.Close()
		e, err = New(WithOllama(OllamaConfig{Host: srv.URL, VisionModel: "other"}), WithModel(calibrated.WithoutVerdict()))
		require.NoError(t, err)
		e.Close()
	})

	t.Run("a verdict part of another version is refused", func(t *testing.T) {
		doc := calibrated.doc()
		doc.Verdict.Version = 2
		b, err := encodeModel(doc)
		require.NoError(t, err)
		_, err = ReadModel(bytes.NewReader(b))
		assert.ErrorIs(t, err, ErrInvalidModel)
	})
	t.Run("a malformed verdict part is refused", func(t *testing.T) {
		for name, change := range map[string]func(d *verdictDoc){
			"no judge":        func(d *verdictDoc) { d.Fit.Judge = "" },
			"zero deviation":  func(d *verdictDoc) { d.Std = []float64{0, 1} },
			"missing weight":  func(d *verdictDoc) { d.Fit.Weights = d.Fit.Weights[:1] },
			"renamed signal":  func(d *verdictDoc) { d.Fit.Weights[1].Name = "something else" },
			"too few moments": func(d *verdictDoc) { d.Mean = d.Mean[:1] },
		} {
			doc := calibrated.doc()
			v := *doc.Verdict
			v.Std, v.Mean = append([]float64(nil), v.Std...), append([]float64(nil), v.Mean...)
			v.Fit.Weights = append([]FeatureWeight(nil), v.Fit.Weights...)
			change(&v)
			doc.Verdict = &v
			b, err := encodeModel(doc)
			require.NoError(t, err)
			_, err = ReadModel(bytes.NewReader(b))
			assert.ErrorIs(t, err, ErrInvalidModel, name)
		}
	})
}

func TestCalibrateRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	m := trainTestModel(t, newTestEngine(t), TrainOptions{Epochs: 3})
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"vision"}, Chat: ollamatest.YesNo(oracleJudge)})
	examples := calibrationExamples(4)
	noTwo := m.clone()
	noTwo.DisableStageTwo = true
	tests := []struct {
		name     string
		engine   func() *Engine
		examples []TrainingExample
		opts     CalibrateOptions
		want     error
	}{
		{"no examples", func() *Engine { return calibrationEngine(t, srv, m) }, nil, CalibrateOptions{}, ErrInvalidTraining},
		{"no model", func() *Engine { return ollamaEngine(t, srv, OllamaConfig{}) }, examples, CalibrateOptions{}, ErrInvalidTraining},
		{"no judge", func() *Engine { return newTestEngine(t, WithModel(m)) }, examples, CalibrateOptions{}, ErrInvalidTraining},
		{"stage two off", func() *Engine { return calibrationEngine(t, srv, noTwo) }, examples, CalibrateOptions{}, ErrInvalidTraining},
		{"one fold", func() *Engine { return calibrationEngine(t, srv, m) }, examples, CalibrateOptions{Folds: 1}, ErrInvalidTraining},
		{"p above 1", func() *Engine { return calibrationEngine(t, srv, m) }, examples, CalibrateOptions{MaxP: 2}, ErrInvalidTraining},
		{"NaN L2", func() *Engine { return calibrationEngine(t, srv, m) }, examples, CalibrateOptions{L2: math.NaN()}, ErrInvalidTraining},
		{"unknown product", func() *Engine { return calibrationEngine(t, srv, m) },
			[]TrainingExample{{Query: "boots", HistoryIDs: []string{"nope"}, Positive: "boot-trail-1"}}, CalibrateOptions{}, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Calibrate(ctx, tt.engine(), tt.examples, tt.opts)
			assert.ErrorIs(t, err, tt.want)
		})
	}
	t.Run("calibrated already", func(t *testing.T) {
		c, err := Calibrate(ctx, calibrationEngine(t, srv, m), examples, CalibrateOptions{})
		require.NoError(t, err)
		_, err = Calibrate(ctx, calibrationEngine(t, srv, c), examples, CalibrateOptions{})
		assert.ErrorIs(t, err, ErrInvalidTraining)
	})
	t.Run("a server that answers nothing", func(t *testing.T) {
		broken := ollamatest.New(t, ollamatest.Config{Models: []string{"vision"}, Chat: func(context.Context, *api.ChatRequest) (api.ChatResponse, error) {
			return api.ChatResponse{}, &ollamatest.Error{Status: 500, Message: "out of memory"}
		}})
		_, err := Calibrate(ctx, calibrationEngine(t, broken, m), examples, CalibrateOptions{})
		assert.ErrorIs(t, err, rerank.ErrModelUnavailable)
	})
}
