package rerank

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/retrieval"
)

func TestPreferenceScore(t *testing.T) {
	c := []float32{1, 0, 0}
	tests := []struct {
		name    string
		history []Item
		want    float64
	}{
		{"empty history", nil, 0},
		{"single item", []Item{{Vector: []float32{0.5, 1, 0}, Relevance: 0.3}}, 0.5},
		{"relevance weighted", []Item{
			{Vector: []float32{1, 0, 0}, Relevance: 3},
			{Vector: []float32{0, 1, 0}, Relevance: 1},
		}, 0.75},
		{"negative and NaN relevance weigh zero", []Item{
			{Vector: []float32{1, 0, 0}, Relevance: 2},
			{Vector: []float32{0, 1, 0}, Relevance: -1},
			{Vector: []float32{0, 1, 0}, Relevance: float32(math.NaN())},
		}, 1},
		{"all zero weights give a plain mean", []Item{
			{Vector: []float32{1, 0, 0}},
			{Vector: []float32{0, 1, 0}, Relevance: -2},
		}, 0.5},
		{"mismatched vectors skipped", []Item{
			{Vector: []float32{1, 0}, Relevance: 5},
			{Vector: nil, Relevance: 5},
			{Vector: []float32{0.25, 0, 0}, Relevance: 1},
		}, 0.25},
		{"only mismatched vectors", []Item{{Vector: []float32{1}}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// float32 inputs: the hand-worked means hold to float32 rounding.
			assert.InDelta(t, tt.want, PreferenceScore(c, tt.history), 1e-6)
		})
	}
	assert.Zero(t, PreferenceScore(nil, []Item{{Vector: []float32{1}}}), "empty candidate")
}

func TestPreferenceRerank(t *testing.T) {
	q := []float32{1, 0, 0}
	// a and b are equally similar to the query (0.6); a leans towards the
	// second axis, b towards the third.
	a := Item{ID: "a", Vector: []float32{0.6, 0.8, 0}}
	b := Item{ID: "b", Vector: []float32{0.6, 0, 0.8}}
	far := Item{ID: "far", Vector: []float32{0.2, 0.98, 0}}
	likesA := []Item{{ID: "h1", Vector: []float32{0, 1, 0}, Relevance: 0.9}}
	likesB := []Item{{ID: "h1", Vector: []float32{0, 0, 1}, Relevance: 0.9}}
	// aLex matches the query's words best, bLex half as well.
	aLex, bLex := a, b
	aLex.Lexical, bLex.Lexical = 1, 0.5

	tests := []struct {
		name       string
		p          Preference
		history    []Item
		candidates []Item
		want       []float64
	}{
		{"history near a lifts a", Preference{QueryWeight: 1, HistoryWeight: 1}, likesA, []Item{a, b}, []float64{0.7, 0.3}},
		{"history near b lifts b", Preference{QueryWeight: 1, HistoryWeight: 1}, likesB, []Item{a, b}, []float64{0.3, 0.7}},
		{"empty history is query similarity", Preference{QueryWeight: 1}, nil, []Item{a, far, b}, []float64{0.6, 0.2, 0.6}},
		// (1·lexical + 0.5·0.6 + 1·preference) / 2.5, preference 0.8 for a.
		{"defaults: lexical, query and history", Preference{}, likesA, []Item{aLex, bLex}, []float64{(1 + 0.3 + 0.8) / 2.5, (0.5 + 0.3) / 2.5}},
		{"defaults without history: lexical and query", Preference{}, nil, []Item{aLex, far, bLex}, []float64{1.3 / 1.5, 0.1 / 1.5, 0.8 / 1.5}},
		{"lexical weight only", Preference{LexicalWeight: 1}, likesA, []Item{aLex, bLex, far}, []float64{1, 0.5, 0}},
		{"empty history ignores weights", Preference{QueryWeight: 0, HistoryWeight: 1}, nil, []Item{far}, []float64{0.2}},
		{"query weight only", Preference{QueryWeight: 1}, likesA, []Item{a, far}, []float64{0.6, 0.2}},
		{"history weight only", Preference{HistoryWeight: 2}, likesA, []Item{a, far}, []float64{0.8, 0.98}},
		{"only the ratio matters", Preference{QueryWeight: 3, HistoryWeight: 1}, likesA, []Item{a}, []float64{0.65}},
		{"huge weights do not overflow", Preference{QueryWeight: math.MaxFloat64, HistoryWeight: math.MaxFloat64}, likesA, []Item{a}, []float64{0.7}},
		{"no candidates", Preference{}, likesA, nil, []float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.p.Rerank(context.Background(), Request{QueryVector: q, History: tt.history, Candidates: tt.candidates})
			require.NoError(t, err)
			require.Len(t, res.Scores, len(tt.want))
			for i, s := range res.Scores {
				assert.Equal(t, tt.candidates[i].ID, s.ID, "request order")
				// The inputs are float32s (0.6 and 0.8 are not exact), so the
				// hand-worked scores hold to about 1e-7.
				assert.InDelta(t, tt.want[i], s.Score, 1e-6, s.ID)
				assert.False(t, s.Degraded)
				assert.Empty(t, s.Reason)
			}
			assert.Equal(t, retrieval.Usage{}, res.Usage)
		})
	}
}

func TestPreferenceRerankErrors(t *testing.T) {
	q := []float32{1, 0, 0}
	ok := Item{ID: "ok", Vector: []float32{0, 1, 0}}
	nan := float32(math.NaN())
	tests := []struct {
		name    string
		p       Preference
		req     Request
		wantErr error
		wantMsg string
	}{
		{"missing query vector", Preference{}, Request{Candidates: []Item{ok}}, retrieval.ErrInvalidVector, "query vector"},
		{"NaN query vector", Preference{}, Request{QueryVector: []float32{nan, 0, 0}}, retrieval.ErrInvalidVector, "query vector"},
		{"short candidate", Preference{}, Request{QueryVector: q, Candidates: []Item{ok, {ID: "c2", Vector: []float32{1, 0}}}}, retrieval.ErrDimensionMismatch, `candidate "c2"`},
		{"candidate without vector", Preference{}, Request{QueryVector: q, Candidates: []Item{{ID: "c3"}}}, retrieval.ErrInvalidVector, `candidate "c3"`},
		{"NaN candidate", Preference{}, Request{QueryVector: q, Candidates: []Item{{ID: "c4", Vector: []float32{0, nan, 0}}}}, retrieval.ErrInvalidVector, `candidate "c4"`},
		{"Inf history", Preference{}, Request{QueryVector: q, History: []Item{{ID: "h1", Vector: []float32{float32(math.Inf(1)), 0, 0}}}, Candidates: []Item{ok}}, retrieval.ErrInvalidVector, `history item "h1"`},
		{"long history", Preference{}, Request{QueryVector: q, History: []Item{{ID: "h2", Vector: []float32{1, 0, 0, 0}}}, Candidates: []Item{ok}}, retrieval.ErrDimensionMismatch, `history item "h2"`},
		{"NaN relevance", Preference{}, Request{QueryVector: q, History: []Item{{ID: "h3", Vector: q, Relevance: nan}}, Candidates: []Item{ok}}, nil, `history item "h3": relevance`},
		{"negative weight", Preference{QueryWeight: -1, HistoryWeight: 1}, Request{QueryVector: q}, ErrInvalidWeight, "query -1"},
		{"NaN weight", Preference{HistoryWeight: math.NaN()}, Request{QueryVector: q}, ErrInvalidWeight, "history NaN"},
		{"Inf weight", Preference{QueryWeight: math.Inf(1)}, Request{QueryVector: q}, ErrInvalidWeight, "query +Inf"},
		{"negative lexical weight", Preference{LexicalWeight: -2}, Request{QueryVector: q}, ErrInvalidWeight, "lexical -2"},
		{"NaN lexical match", Preference{}, Request{QueryVector: q, Candidates: []Item{{ID: "c5", Vector: q, Lexical: math.NaN()}}}, nil, `candidate "c5": lexical match`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.Rerank(context.Background(), tt.req)
			require.Error(t, err)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			assert.Contains(t, err.Error(), tt.wantMsg)
		})
	}
}

func TestPreferenceRerankCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Preference{}.Rerank(ctx, Request{QueryVector: []float32{1}, Candidates: []Item{{ID: "c", Vector: []float32{1}}}})
	require.ErrorIs(t, err, context.Canceled)
}

func TestPreferenceRerankDeterministic(t *testing.T) {
	req := benchRequest(20, 5, 64)
	first, err := Preference{}.Rerank(context.Background(), req)
	require.NoError(t, err)
	for range 10 {
		again, err := Preference{}.Rerank(context.Background(), req)
		require.NoError(t, err)
		assert.Equal(t, first, again)
	}
}

// benchRequest builds a request of unit vectors from a fixed seed.
func benchRequest(candidates, history, dim int) Request {
	r := rand.New(rand.NewPCG(1, 2))
	vec := func() []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		if err := retrieval.Normalize(v); err != nil {
			panic(err)
		}
		return v
	}
	req := Request{Query: "q", QueryVector: vec()}
	for i := range history {
		req.History = append(req.History, Item{ID: fmt.Sprintf("h%d", i), Vector: vec(), Relevance: r.Float32()})
	}
	for i := range candidates {
		req.Candidates = append(req.Candidates, Item{ID: fmt.Sprintf("c%d", i), Vector: vec()})
	}
	return req
}

func BenchmarkPreferenceRerank(b *testing.B) {
	req := benchRequest(100, 10, 504)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Preference{}).Rerank(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
