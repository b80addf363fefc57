package hmpps

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/rerank"
	"hmpps/retrieval"
	"hmpps/retrieval/lexical"
	"hmpps/summarize"
)

func TestSearchPersonalizes(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	search := func(history []string) *Response {
		resp, err := e.Search(ctx, Request{Query: "waterproof boots", HistoryIDs: history, TopN: 4, ExcludeHistory: true})
		require.NoError(t, err)
		require.Len(t, resp.Results, 4)
		return resp
	}
	leather, trail := search(leatherFan), search(trailFan)

	assert.Contains(t, leather.Results[0].ID, "boot-leather", "leather fan: %v", ids(leather.Results))
	assert.Contains(t, trail.Results[0].ID, "boot-trail", "trail fan: %v", ids(trail.Results))

	// Stage one drops the coffee grinder and the novel: nothing in them
	// matches the query.
	for _, resp := range []*Response{leather, trail} {
		for _, k := range resp.History {
			assert.NotContains(t, []string{"hist-grinder", "hist-novel"}, k.ID)
		}
		assert.NotEmpty(t, resp.History)
		assert.False(t, resp.Degraded)
		assert.Positive(t, resp.Timings.Total)
		for i, r := range resp.Results {
			assert.NotEmpty(t, r.Summary)
			assert.Equal(t, r.ID, r.Product.ID)
			if i > 0 {
				assert.GreaterOrEqual(t, resp.Results[i-1].Score, r.Score, "sorted")
			}
		}
	}
	// The retrieval score is the same for both users; the preference is not.
	byID := func(resp *Response, id string) Result {
		for _, r := range resp.Results {
			if r.ID == id {
				return r
			}
		}
		t.Fatalf("%s not in %v", id, ids(resp.Results))
		return Result{}
	}
	l, tr := byID(leather, "boot-leather-1"), byID(trail, "boot-leather-1")
	// Two computations of the same cosine (retrieval.Dot64 of the same query
	// and product vectors): equal bit for bit, whoever the user is.
	assert.Equal(t, l.RetrievalScore, tr.RetrievalScore)
	assert.Greater(t, l.PreferenceScore, tr.PreferenceScore)
}

func TestSearchWithoutHistory(t *testing.T) {
	e := newTestEngine(t)
	resp, err := e.Search(context.Background(), Request{Query: "waterproof boots", TopN: 4})
	require.NoError(t, err)
	require.Len(t, resp.Results, 4)
	assert.Empty(t, resp.History)
	// Without history the default score is the query's match alone:
	// (wl·lexical/best + wq·cosine)/(wl + wq), best the candidates' best
	// lexical score, the same for every result.
	wl, wq := float64(rerank.DefaultLexicalWeight), float64(rerank.DefaultQueryWeight)
	var best float64
	for i, r := range resp.Results {
		assert.Zero(t, r.PreferenceScore)
		require.Positive(t, r.LexicalScore, r.ID)
		b := wl * r.LexicalScore / (r.Score*(wl+wq) - wq*r.RetrievalScore)
		if i == 0 {
			best = b
			assert.GreaterOrEqual(t, best, r.LexicalScore, "the best lexical score is at least this one's")
		}
		// Equal up to the rounding of the reranker's weighted mean.
		assert.InDelta(t, best, b, 1e-5*best, "without history the score is the lexical share and query similarity")
		if i > 0 {
			assert.GreaterOrEqual(t, resp.Results[i-1].Score, r.Score)
		}
	}
}

func TestSearchAdHocHistory(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	wallet, err := e.Get(ctx, "hist-wallet")
	require.NoError(t, err)
	wallet.ID = "not-in-catalog"
	resp, err := e.Search(ctx, Request{Query: "waterproof boots", History: []Product{wallet}, TopN: 2})
	require.NoError(t, err)
	require.Len(t, resp.History, 1)
	assert.Equal(t, "not-in-catalog", resp.History[0].ID)
	assert.Contains(t, resp.Results[0].ID, "boot-leather")
}

func TestSearchCandidatesAndFilter(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()

	resp, err := e.Search(ctx, Request{Query: "boots", CandidateIDs: []string{"boot-trail-2", "hist-belt"}})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"boot-trail-2", "hist-belt"}, ids(resp.Results))

	resp, err = e.Search(ctx, Request{Query: "boots", CandidateIDs: []string{"boot-trail-2", "boot-leather-1"},
		Filter: retrieval.Filter{retrieval.In("brand", "Heritage Co")}})
	require.NoError(t, err)
	assert.Equal(t, []string{"boot-leather-1"}, ids(resp.Results))

	resp, err = e.Search(ctx, Request{Query: "leather", Filter: retrieval.Filter{retrieval.Prefix("category", "Accessories")}})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"hist-wallet", "hist-belt"}, ids(resp.Results))

	resp, err = e.Search(ctx, Request{Query: "boots", Filter: retrieval.Filter{retrieval.In("brand", "Nobody")}})
	require.NoError(t, err)
	assert.Empty(t, resp.Results)
	assert.Zero(t, resp.Candidates)
}

func TestSearchBadInput(t *testing.T) {
	e := newTestEngine(t)
	nan := testCatalog()[0]
	nan.ID = "nan"
	nan.TextVector = make([]float32, retrieval.DefaultTextDimension)
	nan.TextVector[3] = float32(math.NaN())
	tests := []struct {
		name string
		req  Request
		want error
	}{
		{"empty query", Request{Query: ""}, ErrEmptyQuery},
		{"punctuation query", Request{Query: " ?! -- "}, ErrEmptyQuery},
		{"negative top", Request{Query: "boots", TopN: -1}, ErrInvalidRequest},
		{"negative history k", Request{Query: "boots", HistoryK: -2}, ErrInvalidRequest},
		{"invalid filter", Request{Query: "boots", Filter: retrieval.Filter{{Field: "brand"}}}, retrieval.ErrInvalidFilter},
		{"unknown history", Request{Query: "boots", HistoryIDs: []string{"nope"}}, ErrNotFound},
		{"unknown candidate", Request{Query: "boots", CandidateIDs: []string{"boot-trail-1", "nope"}}, ErrNotFound},
		{"duplicate candidate", Request{Query: "boots", CandidateIDs: []string{"boot-trail-1", "boot-trail-1"}}, ErrDuplicateID},
		{"history NaN vector", Request{Query: "boots", History: []Product{nan}}, retrieval.ErrInvalidVector},
		{"history without ID", Request{Query: "boots", History: []Product{{Title: "x"}}}, ErrInvalidProduct},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.Search(context.Background(), tt.req)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			assert.Nil(t, resp)
		})
	}
}

func TestSearchRepeatedHistoryCountsOnce(t *testing.T) {
	e := newTestEngine(t)
	resp, err := e.Search(context.Background(), Request{Query: "leather boots",
		HistoryIDs: []string{"hist-wallet", "hist-wallet", "hist-belt"}})
	require.NoError(t, err)
	seen := map[string]int{}
	for _, k := range resp.History {
		seen[k.ID]++
	}
	assert.Equal(t, 1, seen["hist-wallet"])
}

func TestUpsertBadInputChangesNothing(t *testing.T) {
	good := testCatalog()[0]
	good.ID = "new-good"
	withVec := func(n int, bad float32) Product {
		p := good
		p.ID = "bad-vec"
		p.TextVector = make([]float32, n)
		p.TextVector[0] = bad
		return p
	}
	corrupt := good
	corrupt.ID = "bad-image"
	corrupt.Images = []Image{{Data: []byte("\x89PNG\r\n\x1a\nnot really")}}
	missing := good
	missing.ID = "missing-image"
	missing.Images = []Image{{URI: "no/such/file.png"}}
	reserved := good
	reserved.ID = "reserved"
	reserved.Attributes = map[string]string{"brand": "x"}

	tests := []struct {
		name  string
		batch []Product
		want  error
	}{
		{"empty id", []Product{good, {Title: "no id"}}, ErrInvalidProduct},
		{"no text", []Product{good, {ID: "blank"}}, ErrInvalidProduct},
		{"duplicate in batch", []Product{good, good}, ErrDuplicateID},
		{"NaN text vector", []Product{good, withVec(retrieval.DefaultTextDimension, float32(math.NaN()))}, retrieval.ErrInvalidVector},
		{"Inf text vector", []Product{good, withVec(retrieval.DefaultTextDimension, float32(math.Inf(1)))}, retrieval.ErrInvalidVector},
		{"short text vector", []Product{good, withVec(7, 1)}, retrieval.ErrDimensionMismatch},
		{"corrupt image", []Product{good, corrupt}, retrieval.ErrInvalidImage},
		{"missing image file", []Product{good, missing}, nil},
		{"reserved attribute", []Product{good, reserved}, ErrInvalidProduct},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t)
			before := e.Len()
			err := e.Upsert(context.Background(), tt.batch...)
			require.Error(t, err)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			}
			assert.Equal(t, before, e.Len(), "a failed batch changes nothing")
			_, err = e.Get(context.Background(), "new-good")
			assert.ErrorIs(t, err, ErrNotFound)
		})
	}
}

func TestAddGetDelete(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	p := testCatalog()[0]
	err := e.Add(ctx, p)
	assert.ErrorIs(t, err, ErrDuplicateID)

	got, err := e.Get(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, p, got)
	got.Attributes["style"] = "mutated"
	again, _ := e.Get(ctx, p.ID)
	assert.NotEqual(t, "mutated", again.Attributes["style"], "Get returns a copy")

	require.NoError(t, e.Delete(ctx, p.ID, "never-existed"))
	_, err = e.Get(ctx, p.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	resp, err := e.Search(ctx, Request{Query: "classic leather waterproof boots", TopN: 20})
	require.NoError(t, err)
	assert.NotContains(t, ids(resp.Results), p.ID)

	p.Title = "Renamed Boots"
	require.NoError(t, e.Add(ctx, p))
	got, err = e.Get(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, "Renamed Boots", got.Title)
}

func TestPrecomputedVectors(t *testing.T) {
	// A caller's own embedder plugs in with EmbedderFunc; precomputed
	// vectors skip it.
	calls := 0
	emb := retrieval.EmbedderFunc{Dim: 4, Func: func(ctx context.Context, texts []string) ([][]float32, error) {
		calls += len(texts)
		out := make([][]float32, len(texts))
		for i := range texts {
			out[i] = []float32{1, 0, 0, 0}
		}
		return out, nil
	}}
	e, err := New(WithTextEmbedder(emb), WithImageEmbedder(nil))
	require.NoError(t, err)
	defer e.Close()
	ctx := context.Background()
	require.NoError(t, e.Upsert(ctx,
		Product{ID: "a", Title: "a", TextVector: []float32{0, 1, 0, 0}},
		Product{ID: "b", Title: "b"}))
	assert.Equal(t, 1, calls)
	resp, err := e.Search(ctx, Request{Query: "anything"})
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "a"}, ids(resp.Results))
	assert.InDelta(t, 1, resp.Results[0].RetrievalScore, 1e-6)
	assert.InDelta(t, 0, resp.Results[1].RetrievalScore, 1e-6)

	err = e.Upsert(ctx, Product{ID: "c", Title: "c", ImageVector: []float32{1}})
	assert.NoError(t, err, "image vectors are ignored when images are off")
}

func TestNewRejectsBadConfig(t *testing.T) {
	ix, err := retrieval.NewEmbedded(10, retrieval.InnerProduct)
	require.NoError(t, err)
	cos, err := retrieval.NewEmbedded(retrieval.DefaultTextDimension, retrieval.Cosine)
	require.NoError(t, err)
	tests := []struct {
		name string
		opts []Option
	}{
		{"index of other dimension", []Option{WithIndex(ix)}},
		{"cosine index", []Option{WithIndex(cos), WithImageEmbedder(nil)}},
		{"negative top", []Option{WithTopN(-1)}},
		{"negative summary words", []Option{WithSummaryWords(-1)}},
		{"bad fusion", []Option{WithVectorFusion(retrieval.VectorFusion{TextWeight: -1, ImageWeight: 1})}},
		{"zero-dimension embedder", []Option{WithTextEmbedder(retrieval.EmbedderFunc{})}},
		{"nan lexical weight", []Option{WithLexical(lexical.Params{TitleWeight: math.NaN()})}},
		{"lexical b above 1", []Option{WithLexical(lexical.Params{B: 2})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts...)
			assert.Error(t, err)
		})
	}
}

func TestRerankerFallback(t *testing.T) {
	failing := rerank.Func(func(ctx context.Context, req rerank.Request) (rerank.Result, error) {
		return rerank.Result{}, errors.New("model server down")
	})
	short := rerank.Func(func(ctx context.Context, req rerank.Request) (rerank.Result, error) {
		return rerank.Result{Scores: []rerank.Score{{ID: "x", Score: 1}}}, nil
	})
	offline := newTestEngine(t)
	want, err := offline.Search(context.Background(), Request{Query: "waterproof boots", HistoryIDs: leatherFan})
	require.NoError(t, err)

	for name, r := range map[string]rerank.Reranker{"error": failing, "wrong count": short} {
		t.Run(name, func(t *testing.T) {
			e := newTestEngine(t, WithReranker(r))
			resp, err := e.Search(context.Background(), Request{Query: "waterproof boots", HistoryIDs: leatherFan})
			require.NoError(t, err)
			assert.True(t, resp.Degraded)
			assert.Equal(t, ids(want.Results), ids(resp.Results), "falls back to the preference reranker")
			for _, r := range resp.Results {
				assert.True(t, r.Degraded)
				assert.Contains(t, r.DegradedReason, "rerank")
			}
		})
	}
}

func TestSummarizerFallback(t *testing.T) {
	s := summarize.Func(func(ctx context.Context, q string, d summarize.Document, n int) (summarize.Summary, error) {
		if d.ID == "boot-trail-1" {
			return summarize.Summary{}, errors.New("timeout")
		}
		return summarize.Summary{Text: "model summary of " + d.ID, Usage: retrieval.Usage{ModelCalls: 1, PromptTokens: 10}}, nil
	})
	// A reranker that reads the summaries, and checks that it got them.
	reading := rerank.Func(func(ctx context.Context, req rerank.Request) (rerank.Result, error) {
		for _, it := range append(slices.Clone(req.History), req.Candidates...) {
			if !strings.Contains(it.Text, it.ID) && it.ID != "boot-trail-1" {
				return rerank.Result{}, fmt.Errorf("%s came without its summary: %q", it.ID, it.Text)
			}
		}
		return rerank.Preference{}.Rerank(ctx, req)
	})
	tests := []struct {
		name     string
		reranker rerank.Reranker
		// calls is the number of summaries made for a response.
		calls func(*Response) int
	}{
		// The offline reranker reads vectors only: only the results are
		// summarized, after ranking.
		{"offline reranker", rerank.Preference{}, func(r *Response) int { return len(r.Results) - 1 }},
		// The same reranker behind a pointer is the same reranker.
		{"offline reranker, pointer", &rerank.Preference{}, func(r *Response) int { return len(r.Results) - 1 }},
		// Any other reads the kept history and every candidate.
		{"reading reranker", reading, func(r *Response) int { return r.Candidates + len(r.History) - 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, WithSummarizer(s), WithReranker(tt.reranker))
			resp, err := e.Search(context.Background(), Request{Query: "waterproof boots", HistoryIDs: leatherFan, TopN: 7})
			require.NoError(t, err)
			assert.True(t, resp.Degraded)
			require.Len(t, resp.Results, 7)
			require.NotEmpty(t, resp.History)
			var seen bool
			for _, r := range resp.Results {
				if r.ID == "boot-trail-1" {
					seen = true
					assert.True(t, r.Degraded)
					assert.Contains(t, r.DegradedReason, "timeout")
					assert.NotContains(t, r.Summary, "model summary")
				} else {
					assert.False(t, r.Degraded, r.ID)
					assert.Equal(t, "model summary of "+r.ID, r.Summary)
				}
			}
			require.True(t, seen, "the product whose summary fails is among the results")
			assert.Equal(t, tt.calls(resp), resp.Usage.ModelCalls)
			assert.Less(t, len(resp.Results), resp.Candidates, "some candidates are not returned")
		})
	}
}

func TestNoSummarizer(t *testing.T) {
	e := newTestEngine(t, WithSummarizer(nil))
	resp, err := e.Search(context.Background(), Request{Query: "waterproof boots", TopN: 1})
	require.NoError(t, err)
	assert.Contains(t, resp.Results[0].Summary, "Shoes Boots", "the full text, category included")
}

func TestClosed(t *testing.T) {
	e, err := New()
	require.NoError(t, err)
	require.NoError(t, e.Close())
	require.NoError(t, e.Close())
	ctx := context.Background()
	assert.ErrorIs(t, e.Upsert(ctx, testCatalog()...), ErrClosed)
	_, err = e.Search(ctx, Request{Query: "boots"})
	assert.ErrorIs(t, err, ErrClosed)
	_, err = e.Get(ctx, "x")
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, e.Delete(ctx, "x"), ErrClosed)
	assert.ErrorIs(t, e.Save(ctx, t.TempDir()+"/x"), ErrClosed)
}

func TestCancelledContext(t *testing.T) {
	e := newTestEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.Search(ctx, Request{Query: "boots", HistoryIDs: leatherFan})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestConcurrentSearchAndUpsert(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < 4; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				req := Request{Query: "waterproof boots", HistoryIDs: trailFan}
				if i%2 == 1 {
					// The lexical side of retrieval filters under the
					// engine's lock while writers take both.
					req.Filter = retrieval.Filter{retrieval.In("brand", "Summit Lab", "Heritage Co")}
				}
				if _, err := e.Search(ctx, req); err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				p := testCatalog()[i%4]
				p.ID = fmt.Sprintf("extra-%d-%d", w, i%5)
				if err := e.Upsert(ctx, p); err != nil {
					errs <- err
				}
				if i%3 == 0 {
					if err := e.Delete(ctx, p.ID); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSearchTiesAreDeterministic checks the order documented on
// Engine.Search: Score descending, then RetrievalScore descending, then ID
// ascending, with products that tie exactly (identical vectors) inserted in
// an order unrelated to their IDs.
func TestSearchTiesAreDeterministic(t *testing.T) {
	emb := retrieval.EmbedderFunc{Dim: 4, Func: func(ctx context.Context, texts []string) ([][]float32, error) {
		out := make([][]float32, len(texts))
		for i := range texts {
			out[i] = []float32{1, 0, 0, 0}
		}
		return out, nil
	}}
	tied := []float32{1, 1, 0, 0}
	catalog := []Product{
		{ID: "far", Title: "far", TextVector: []float32{0, 0, 1, 0}},
		{ID: "d", Title: "d", TextVector: tied},
		{ID: "b", Title: "b", TextVector: tied},
		{ID: "best", Title: "best", TextVector: []float32{1, 0, 0, 0}},
		{ID: "e", Title: "e", TextVector: tied},
		{ID: "a", Title: "a", TextVector: tied},
		{ID: "c", Title: "c", TextVector: tied},
	}
	ctx := context.Background()
	// flat gives every candidate the same rerank score, so the order falls
	// to the retrieval score and then to the ID.
	flat := rerank.Func(func(ctx context.Context, req rerank.Request) (rerank.Result, error) {
		scores := make([]rerank.Score, len(req.Candidates))
		for i, c := range req.Candidates {
			scores[i] = rerank.Score{ID: c.ID, Score: 0.5}
		}
		return rerank.Result{Scores: scores}, nil
	})
	tests := []struct {
		name string
		opts []Option
		req  Request
	}{
		{"retrieved, preference reranker", nil, Request{Query: "anything"}},
		{"given candidates, preference reranker", nil,
			Request{Query: "anything", CandidateIDs: []string{"e", "far", "c", "best", "a", "d", "b"}}},
		{"retrieved, flat reranker", []Option{WithReranker(flat)}, Request{Query: "anything"}},
		{"given candidates, flat reranker", []Option{WithReranker(flat)},
			Request{Query: "anything", CandidateIDs: []string{"c", "b", "far", "e", "a", "best", "d"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(append([]Option{WithTextEmbedder(emb), WithImageEmbedder(nil)}, tt.opts...)...)
			require.NoError(t, err)
			defer e.Close()
			require.NoError(t, e.Upsert(ctx, catalog...))
			for range 3 {
				resp, err := e.Search(ctx, tt.req)
				require.NoError(t, err)
				assert.Equal(t, []string{"best", "a", "b", "c", "d", "e", "far"}, ids(resp.Results))
			}
		})
	}
}
