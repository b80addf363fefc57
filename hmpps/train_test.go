package hmpps

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/rerank"
	"hmpps/retrieval"
)

// segmentExamples are purchases of two kinds of users over testCatalog:
// leather fans, whose history is leather goods, buy leather boots; trail
// fans buy trail boots. Every query is "waterproof boots", which fits all
// four boots, so only the history tells the kinds apart.
func segmentExamples(users int) []TrainingExample {
	leather := []string{"hist-wallet", "hist-belt", "hist-dressing"}
	trail := []string{"hist-gaiters", "hist-tent"}
	var out []TrainingExample
	for u := range users {
		hist, buy := leather, []string{"boot-leather-1", "boot-leather-2"}
		if u%2 == 1 {
			hist, buy = trail, []string{"boot-trail-1", "boot-trail-2"}
		}
		h := slices.Clone(hist[:1+u%len(hist)])
		h = append(h, "hist-novel")
		out = append(out, TrainingExample{User: fmt.Sprint("user-", u), Query: "waterproof boots", HistoryIDs: h, Positive: buy[u%4/2]})
	}
	return out
}

// heldOut are validation purchases of users the training examples do not
// hold, each ranked among the boots of the other kind: the two of the
// user's kind are bought alike, so ranking one above the other is a coin
// toss.
func heldOut(n int) []TrainingExample {
	val := segmentExamples(n)
	for i := range val {
		val[i].User = "held-out " + val[i].User
		val[i].Negatives = []string{"boot-trail-1", "boot-trail-2"}
		if i%2 == 1 {
			val[i].Negatives = []string{"boot-leather-1", "boot-leather-2"}
		}
	}
	return val
}

func trainTestModel(t testing.TB, e *Engine, opts TrainOptions) *Model {
	t.Helper()
	if opts.Negatives == 0 {
		opts.Negatives = 6
	}
	opts.Seed = 3
	m, err := Train(context.Background(), e, segmentExamples(40), opts)
	require.NoError(t, err)
	return m
}

func TestTrainLearnsThePreference(t *testing.T) {
	e := newTestEngine(t)
	m := trainTestModel(t, e, TrainOptions{Validation: heldOut(8), Patience: 20})
	curve := m.Curve()
	require.NotEmpty(t, curve)
	assert.Less(t, curve[len(curve)-1].Loss, curve[0].Loss)
	assert.Equal(t, 1.0, curve[m.BestEpoch()-1].ValidationNDCG10)
	assert.Equal(t, TrainingSummary{Examples: 40, ValidationExamples: 8, Negatives: 6, Took: m.Summary().Took}, m.Summary())
	assert.Len(t, m.FeatureWeights(), len(candidateFeatures)+len(pairFeatures)+len(historyFeatures))

	trained := newTestEngine(t, WithModel(m))
	ctx := context.Background()
	for _, tc := range []struct {
		history []string
		want    string
	}{{leatherFan, "boot-leather"}, {trailFan, "boot-trail"}} {
		resp, err := trained.Search(ctx, Request{Query: "waterproof boots", HistoryIDs: tc.history,
			CandidateIDs: []string{"boot-leather-1", "boot-trail-1", "boot-leather-2", "boot-trail-2"}})
		require.NoError(t, err)
		assert.Contains(t, resp.Results[0].ID, tc.want)
		assert.Contains(t, resp.Results[1].ID, tc.want)
		for _, r := range resp.Results {
			assert.Equal(t, r.LearnedScore, r.Score, "with the offline reranker the learned score ranks")
		}
		assert.LessOrEqual(t, len(resp.History), retrieval.DefaultHistoryK)
	}
}

func TestTrainRejectsBadInput(t *testing.T) {
	e := newTestEngine(t)
	ok := TrainingExample{User: "u", Query: "waterproof boots", HistoryIDs: []string{"hist-belt"}, Positive: "boot-leather-1"}
	with := func(f func(*TrainingExample)) []TrainingExample {
		ex := ok
		f(&ex)
		return []TrainingExample{ex}
	}
	tests := []struct {
		name     string
		examples []TrainingExample
		opts     TrainOptions
		want     error
	}{
		{"no examples", nil, TrainOptions{}, ErrInvalidTraining},
		{"empty query", with(func(ex *TrainingExample) { ex.Query = " ?! " }), TrainOptions{}, ErrEmptyQuery},
		{"no positive", with(func(ex *TrainingExample) { ex.Positive = "" }), TrainOptions{}, ErrInvalidTraining},
		{"unknown positive", with(func(ex *TrainingExample) { ex.Positive = "nope" }), TrainOptions{}, ErrNotFound},
		{"unknown history", with(func(ex *TrainingExample) { ex.HistoryIDs = []string{"nope"} }), TrainOptions{}, ErrNotFound},
		{"unknown negative", with(func(ex *TrainingExample) { ex.Negatives = []string{"nope"} }), TrainOptions{}, ErrNotFound},
		{"positive among negatives", with(func(ex *TrainingExample) { ex.Negatives = []string{"boot-trail-1", ok.Positive} }), TrainOptions{}, ErrInvalidTraining},
		{"random validation without negatives", []TrainingExample{ok}, TrainOptions{Validation: []TrainingExample{ok}, Candidates: TrainRandom}, ErrInvalidTraining},
		{"unknown candidates", []TrainingExample{ok}, TrainOptions{Candidates: TrainRandom + 1}, ErrInvalidTraining},
		{"negative epochs", []TrainingExample{ok}, TrainOptions{Epochs: -1}, ErrInvalidTraining},
		{"NaN L2", []TrainingExample{ok}, TrainOptions{L2: math.NaN()}, ErrInvalidTraining},
		{"refit without validation", []TrainingExample{ok}, TrainOptions{Refit: true}, ErrInvalidTraining},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Train(context.Background(), e, tt.examples, tt.opts)
			assert.ErrorIs(t, err, tt.want)
		})
	}
	e.Close()
	_, err := Train(context.Background(), e, []TrainingExample{ok}, TrainOptions{})
	assert.ErrorIs(t, err, ErrClosed)
}

func TestTrainIsDeterministic(t *testing.T) {
	e := newTestEngine(t)
	a, b := trainTestModel(t, e, TrainOptions{Epochs: 5}), trainTestModel(t, e, TrainOptions{Epochs: 5})
	assert.Equal(t, a.FeatureWeights(), b.FeatureWeights())
}

func TestPopularityCountsUsersOnce(t *testing.T) {
	got := popularity([]TrainingExample{
		{User: "a", HistoryIDs: []string{"x"}, Positive: "y"},
		{User: "a", HistoryIDs: []string{"x", "y"}, Positive: "z"},
		{User: "b", HistoryIDs: []string{"y"}, Positive: "x"},
		{HistoryIDs: []string{"x"}, Positive: "w"},
		{HistoryIDs: []string{"x"}, Positive: "w"},
	})
	assert.Equal(t, map[string]float64{"x": 4, "y": 2, "z": 1, "w": 2}, got, "an example without a user is its own user")
}

func TestFeatureHelpers(t *testing.T) {
	tests := []struct {
		name        string
		path, other []string
		want        float64
	}{
		{"same path", []string{"A", "B"}, []string{"A", "B"}, 1},
		{"shared top", []string{"A", "B"}, []string{"A", "C"}, 0.5},
		{"other is longer", []string{"A"}, []string{"A", "B"}, 1},
		{"nothing shared", []string{"A", "B", "C"}, []string{"B"}, 0},
		{"empty path", nil, []string{"A"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, categoryShare(tt.path, tt.other))
		})
	}
	cat := wordsOf([]string{"Magazine Subscriptions", "Cooking, Food & Wine"}).words
	assert.Equal(t, 0.5, wordShare([]string{"cooking", "sports"}, cat))
	assert.Equal(t, 1.0, wordShare(uniqueWords("Wine wine FOOD"), cat))
	assert.Zero(t, wordShare(nil, cat))
}

// TestFeaturesTable checks each feature of a small list against its
// definition.
func TestFeaturesTable(t *testing.T) {
	e := newTestEngine(t)
	cands, err := e.lookup("candidates", []string{"boot-leather-1", "boot-trail-1"})
	require.NoError(t, err)
	hist, err := e.lookup("history", []string{"hist-wallet", "hist-dressing"})
	require.NoError(t, err)
	qvec, err := e.queryVector(context.Background(), "waterproof boots shoes", nil)
	require.NoError(t, err)
	in := featureInput{query: "waterproof boots shoes", qvec: qvec, history: hist, candidates: cands,
		lexCand: []float64{2, 4}, lexHist: []float64{1, 0},
		shopper: &shopper{popularity: map[string]float64{"boot-leather-1": 3, "boot-trail-1": 1}, own: map[string]float64{"boot-leather-1": 1}}}
	textDim := e.cfg.textEmbedder.Dimension()
	l := features(&in, textDim)
	require.NoError(t, l.Check(featureDims))
	nc, np, nh := featureDims.Cand, featureDims.Pair, featureDims.Hist
	cand := func(c int, name string) float64 { return l.Cand[c*nc+slices.Index(candidateFeatures, name)] }
	pair := func(c, h int, name string) float64 { return l.Pair[(c*l.H+h)*np+slices.Index(pairFeatures, name)] }
	histF := func(h int, name string) float64 { return l.Hist[h*nh+slices.Index(historyFeatures, name)] }

	assert.Equal(t, 2.0, cand(0, "lexical"))
	assert.Equal(t, 0.5, cand(0, "lexical share"))
	assert.Equal(t, 1.0, cand(1, "lexical share"))
	assert.InDelta(t, retrieval.Dot64(qvec, cands[1].vector), cand(1, "query cosine"), 1e-12)
	assert.InDelta(t, 2.0/3, cand(0, "query category"), 1e-12, "shoes and boots of waterproof boots shoes")
	assert.InDelta(t, math.Log1p(2), cand(0, "popularity"), 1e-12, "the shopper's own purchase left out")
	assert.InDelta(t, math.Log1p(1), cand(1, "popularity"), 1e-12)
	assert.Equal(t, 0.5, cand(0, "history category"), "Shoes > Care shares Shoes with Shoes > Boots")
	assert.Equal(t, 1.0, pair(0, 0, "attended brand match"), "Heritage Co both")
	assert.Zero(t, pair(1, 0, "attended brand match"))
	assert.Equal(t, 0.5, pair(0, 1, "attended category share"))
	assert.Zero(t, pair(0, 1, "attended same category"))
	assert.InDelta(t, retrieval.Dot64(cands[0].vector[:textDim], hist[1].vector[:textDim]), pair(0, 1, "attended text cosine"), 1e-12)
	assert.InDelta(t, retrieval.Dot64(cands[0].vector[textDim:], hist[1].vector[textDim:]), pair(0, 1, "attended image cosine"), 1e-12)
	assert.Greater(t, pair(0, 1, "attended image cosine"), 0.0, "both brown")
	assert.Equal(t, 1.0, histF(0, "item lexical share"))
	assert.Zero(t, histF(1, "item lexical share"))
	assert.Equal(t, 1.0, histF(1, "item recency"), "the last purchase")
	assert.InDelta(t, math.Exp(-1.0/3), histF(0, "item recency"), 1e-12)
	assert.InDelta(t, 1.0/3, histF(1, "item query category"), 1e-12, "Shoes > Care holds shoes")
}

func TestWithModelChecksDimensions(t *testing.T) {
	m := trainTestModel(t, newTestEngine(t), TrainOptions{Epochs: 2})
	_, err := New(WithModel(m), WithImageEmbedder(nil))
	assert.ErrorIs(t, err, ErrInvalidModel)
}

// recordingReranker keeps the history of the last request, and scores by
// the candidates' order.
type recordingReranker struct{ history []string }

func (r *recordingReranker) Rerank(_ context.Context, req rerank.Request) (rerank.Result, error) {
	r.history = r.history[:0]
	for _, h := range req.History {
		r.history = append(r.history, h.ID)
	}
	res := rerank.Result{Scores: make([]rerank.Score, len(req.Candidates))}
	for i, c := range req.Candidates {
		res.Scores[i] = rerank.Score{ID: c.ID, Score: float64(len(req.Candidates) - i)}
	}
	return res, nil
}

// TestModelRerankerReadsLearnedHistory checks the MLLM path: with a model
// and a model reranker, the reranker judges, and the history it reads is
// the learned stage one's.
func TestModelRerankerReadsLearnedHistory(t *testing.T) {
	m := trainTestModel(t, newTestEngine(t), TrainOptions{Epochs: 10})
	m.HistoryK = 2
	rr := &recordingReranker{}
	e := newTestEngine(t, WithModel(m), WithReranker(rr))
	req := Request{Query: "waterproof boots", HistoryIDs: leatherFan, CandidateIDs: []string{"boot-trail-1", "boot-leather-1"}}
	resp, err := e.Search(context.Background(), req)
	require.NoError(t, err)

	// The learned stage one: the two history items of highest attention.
	hist, err := e.lookup("history", leatherFan)
	require.NoError(t, err)
	cands, err := e.lookup("candidates", req.CandidateIDs)
	require.NoError(t, err)
	qvec, err := e.queryVector(context.Background(), req.Query, nil)
	require.NoError(t, err)
	l := e.learn(m, req.Query, qvec, hist, cands, nil)
	order := []int{0, 1, 2, 3, 4}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case l.attention[a] > l.attention[b]:
			return -1
		case l.attention[a] < l.attention[b]:
			return 1
		}
		return 0
	})
	want := []string{leatherFan[order[0]], leatherFan[order[1]]}
	assert.Equal(t, want, rr.history)
	assert.Equal(t, want, []string{resp.History[0].ID, resp.History[1].ID})
	assert.InDelta(t, l.attention[order[0]], resp.History[0].Score, 1e-6)
	assert.Equal(t, "boot-trail-1", resp.Results[0].ID, "the reranker's order, not the model's")
	for _, r := range resp.Results {
		assert.NotZero(t, r.LearnedScore)
	}

	// Without the learned stage one, the configured filter keeps history.
	off := *m
	off.DisableStageOne = true
	plain := newTestEngine(t, WithReranker(rr))
	want2, err := plain.Search(context.Background(), req)
	require.NoError(t, err)
	e2 := newTestEngine(t, WithModel(&off), WithReranker(rr))
	got2, err := e2.Search(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, want2.History, got2.History)
}

func TestModelStageTwoOffUsesTheReranker(t *testing.T) {
	m := trainTestModel(t, newTestEngine(t), TrainOptions{Epochs: 5})
	off := *m
	off.DisableStageTwo = true
	e := newTestEngine(t, WithModel(&off))
	resp, err := e.Search(context.Background(), Request{Query: "waterproof boots", HistoryIDs: trailFan})
	require.NoError(t, err)
	for _, r := range resp.Results {
		assert.NotEqual(t, r.LearnedScore, r.Score, "the preference reranker's score")
	}
}

func TestModelFileRoundTrip(t *testing.T) {
	e := newTestEngine(t)
	m := trainTestModel(t, e, TrainOptions{Epochs: 6})
	m.HistoryK = 3
	var buf bytes.Buffer
	n, err := m.WriteTo(&buf)
	require.NoError(t, err)
	assert.Equal(t, int64(buf.Len()), n)
	got, err := ReadModel(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, m.FeatureWeights(), got.FeatureWeights())
	assert.Equal(t, m.BestEpoch(), got.BestEpoch())
	assert.Equal(t, m.Summary(), got.Summary())
	assert.Equal(t, 3, got.HistoryK)
	require.Len(t, got.Curve(), len(m.Curve()))
	for i, ep := range m.Curve() {
		assert.Equal(t, ep.Loss, got.Curve()[i].Loss)
		assert.True(t, math.IsNaN(got.Curve()[i].ValidationNDCG10), "no validation: NaN survives as null")
	}

	req := Request{Query: "waterproof boots", HistoryIDs: leatherFan}
	a, err := newTestEngine(t, WithModel(m)).Search(context.Background(), req)
	require.NoError(t, err)
	b, err := newTestEngine(t, WithModel(got)).Search(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, ids(a.Results), ids(b.Results))
	assert.Equal(t, a.History, b.History)

	data := buf.Bytes()
	corrupt := map[string][]byte{
		"empty":     nil,
		"truncated": data[:len(data)-1],
		"flipped":   flip(data, len(data)/2),
		"magic":     append([]byte("HMPPSENG"), data[8:]...),
	}
	for name, c := range corrupt {
		_, err := ReadModel(bytes.NewReader(c))
		assert.ErrorIs(t, err, ErrInvalidModel, name)
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x20
	return c
}

func TestReadModelRejectsUnfitModels(t *testing.T) {
	m := trainTestModel(t, newTestEngine(t), TrainOptions{Epochs: 2})
	tests := []struct {
		name   string
		change func(d *modelDoc)
	}{
		{"other features", func(d *modelDoc) { d.CandidateFeatures = d.CandidateFeatures[1:] }},
		{"short weights", func(d *modelDoc) { d.Weights.Cand = d.Weights.Cand[1:] }},
		{"zero std", func(d *modelDoc) { d.Scaler.PairStd[0] = 0 }},
		{"negative popularity", func(d *modelDoc) { d.Popularity = map[string]float64{"x": -1} }},
		{"negative K", func(d *modelDoc) { d.HistoryK = -1 }},
		{"no text", func(d *modelDoc) { d.TextDim = 0 }},
		{"best epoch beyond the curve", func(d *modelDoc) { d.BestEpoch = len(d.Curve) + 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := m.doc()
			doc.Weights = doc.Weights.Clone()
			doc.Scaler.PairStd = slices.Clone(doc.Scaler.PairStd)
			tt.change(&doc)
			data, err := encodeModel(doc)
			require.NoError(t, err)
			_, err = ReadModel(bytes.NewReader(data))
			assert.ErrorIs(t, err, ErrInvalidModel)
		})
	}
}

// TestSaveOpenWithModel checks that the engine file carries the model: an
// engine opened from it searches exactly as the one that saved it, and an
// engine opened with WithModel(nil) runs untrained.
func TestSaveOpenWithModel(t *testing.T) {
	ctx := context.Background()
	m := trainTestModel(t, newTestEngine(t), TrainOptions{Epochs: 8})
	m.HistoryK = 2
	e := newTestEngine(t, WithModel(m))
	path := t.TempDir() + "/trained.hmpps"
	require.NoError(t, e.Save(ctx, path))

	loaded, err := Open(ctx, path)
	require.NoError(t, err)
	defer loaded.Close()
	for _, req := range []Request{
		{Query: "waterproof boots", HistoryIDs: leatherFan},
		{Query: "waterproof boots", HistoryIDs: trailFan, TopN: 4},
		{Query: "leather", CandidateIDs: []string{"boot-leather-1", "hist-wallet", "hist-belt"}, HistoryIDs: trailFan},
	} {
		want, err := e.Search(ctx, req)
		require.NoError(t, err)
		got, err := loaded.Search(ctx, req)
		require.NoError(t, err)
		require.Equal(t, ids(want.Results), ids(got.Results))
		require.Equal(t, want.History, got.History)
		for i := range want.Results {
			require.Equal(t, want.Results[i].Score, got.Results[i].Score)
			require.NotZero(t, got.Results[i].LearnedScore)
		}
	}

	untrained, err := Open(ctx, path, WithModel(nil))
	require.NoError(t, err)
	defer untrained.Close()
	plain := newTestEngine(t)
	req := Request{Query: "waterproof boots", HistoryIDs: leatherFan}
	want, err := plain.Search(ctx, req)
	require.NoError(t, err)
	got, err := untrained.Search(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, ids(want.Results), ids(got.Results))
	assert.Zero(t, got.Results[0].LearnedScore)
}

// TestOpenRefusesABadModelSection checks that a model the file cannot give
// back fails the open instead of leaving the engine silently untrained.
func TestOpenRefusesABadModelSection(t *testing.T) {
	m := trainTestModel(t, newTestEngine(t), TrainOptions{Epochs: 2})
	e := newTestEngine(t, WithModel(m))
	tests := []struct {
		name string
		edit func(*fileSection)
		want error
	}{
		{"another version", func(s *fileSection) { s.Version++ }, ErrInvalidModel},
		{"altered bytes", func(s *fileSection) { s.Data = flip(s.Data, len(s.Data)/2) }, ErrCorruptFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := rewriteSections(t, e, func(secs []fileSection) []fileSection {
				found := false
				for i := range secs {
					if secs[i].Kind == sectionModel {
						tt.edit(&secs[i])
						found = true
					}
				}
				require.True(t, found, "the file has a model section")
				return secs
			})
			_, err := Open(context.Background(), path)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

// TestExportTrainingWithModel checks that the export's prompts hold the
// history the learned stage one keeps, as a search's would.
func TestExportTrainingWithModel(t *testing.T) {
	ctx := context.Background()
	m := trainTestModel(t, newTestEngine(t), TrainOptions{Epochs: 10})
	m.HistoryK = 1
	e := newTestEngine(t, WithModel(m))
	ex := TrainingExample{User: "alex", Query: "waterproof boots", HistoryIDs: leatherFan, Positive: "boot-leather-1"}
	resp, err := e.Search(ctx, Request{Query: ex.Query, HistoryIDs: ex.HistoryIDs, CandidateIDs: []string{ex.Positive}})
	require.NoError(t, err)
	require.Len(t, resp.History, 1)
	var buf bytes.Buffer
	_, err = e.ExportTraining(ctx, &buf, []TrainingExample{ex}, ExportOptions{HardNegatives: -1, RandomNegatives: 1, Seed: 1})
	require.NoError(t, err)
	recs := readRecords(t, buf.Bytes())
	require.NotEmpty(t, recs)
	for _, id := range leatherFan {
		p, err := e.Get(ctx, id)
		require.NoError(t, err)
		if id == resp.History[0].ID {
			assert.Contains(t, recs[0].Prompt, p.Title, "the kept item")
		} else {
			assert.NotContains(t, recs[0].Prompt, p.Title, "an item the learned stage one dropped")
		}
	}
}
