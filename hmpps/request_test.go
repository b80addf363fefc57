package hmpps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/retrieval"
)

func TestSearchLimits(t *testing.T) {
	e := newTestEngine(t)
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("id-%d", i)
		}
		return out
	}
	tests := []struct {
		name string
		req  Request
		want string // in the error message; empty when the request passes
	}{
		{"query at the limit", Request{Query: "boots" + strings.Repeat(" ", DefaultMaxQueryBytes-5)}, ""},
		{"query over the limit", Request{Query: "boots" + strings.Repeat(" ", DefaultMaxQueryBytes-4)}, "query is 4097 bytes, at most 4096"},
		{"a megabyte of query", Request{Query: strings.Repeat("waterproof boots ", 1<<16)}, "(Limits.QueryBytes)"},
		{"history IDs over the limit", Request{Query: "boots", HistoryIDs: many(DefaultMaxHistory + 1)}, "1001 history items, at most 1000"},
		{"history and IDs together", Request{Query: "boots", HistoryIDs: many(DefaultMaxHistory), History: testCatalog()[:1]}, "(Limits.History)"},
		{"candidates over the limit", Request{Query: "boots", CandidateIDs: many(DefaultMaxCandidates + 1)}, "1001 candidate IDs, at most 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.Search(context.Background(), tt.req)
			if tt.want == "" {
				require.NoError(t, err)
				assert.NotEmpty(t, resp.Results)
				return
			}
			require.Error(t, err)
			assert.Nil(t, resp)
			assert.ErrorIs(t, err, ErrRequestTooLarge)
			assert.ErrorIs(t, err, ErrInvalidRequest, "a service maps every invalid request to one status")
			assert.NotErrorIs(t, err, ErrNotFound, "the limit is checked before any lookup")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestWithLimits(t *testing.T) {
	e := newTestEngine(t, WithLimits(Limits{QueryBytes: 10, Candidates: 2}))
	_, err := e.Search(context.Background(), Request{Query: "waterproof boots"})
	assert.ErrorIs(t, err, ErrRequestTooLarge)
	_, err = e.Search(context.Background(), Request{Query: "boots", CandidateIDs: []string{"boot-trail-1", "boot-trail-2", "boot-leather-1"}})
	assert.ErrorIs(t, err, ErrRequestTooLarge)
	// The zero History field kept its default.
	_, err = e.Search(context.Background(), Request{Query: "boots", HistoryIDs: []string{"hist-belt", "hist-wallet", "hist-gaiters"}})
	assert.NoError(t, err)

	_, err = New(WithLimits(Limits{History: -1}))
	assert.ErrorContains(t, err, "limits must not be negative")
}

func TestUnknownIDsAreAllNamed(t *testing.T) {
	e := newTestEngine(t)
	unknown := make([]string, 13)
	for i := range unknown {
		unknown[i] = fmt.Sprintf("gone-%02d", i)
	}
	tests := []struct {
		name    string
		req     Request
		field   string
		ids     []string
		message string
	}{
		{"one history ID", Request{Query: "boots", HistoryIDs: []string{"hist-belt", "wallet-7"}},
			"history", []string{"wallet-7"}, `hmpps: history: 1 product not in the catalog: "wallet-7"`},
		{"history IDs, repeated", Request{Query: "boots", HistoryIDs: []string{"wallet-7", "hist-belt", "belt-2", "wallet-7"}},
			"history", []string{"wallet-7", "belt-2"}, `hmpps: history: 2 products not in the catalog: "wallet-7", "belt-2"`},
		{"many candidate IDs", Request{Query: "boots", CandidateIDs: append([]string{"boot-trail-1"}, unknown...)},
			"candidates", unknown, `hmpps: candidates: 13 products not in the catalog: "gone-00", "gone-01", "gone-02", "gone-03", "gone-04", "gone-05", "gone-06", "gone-07", "gone-08", "gone-09" and 3 more`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Search(context.Background(), tt.req)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrNotFound)
			var u *UnknownIDsError
			require.True(t, errors.As(err, &u))
			assert.Equal(t, tt.field, u.Field)
			assert.Equal(t, tt.ids, u.IDs)
			assert.Equal(t, tt.message, err.Error())
			assert.Equal(t, 1, strings.Count(err.Error(), "hmpps:"), "one prefix")
		})
	}
}

func TestResponsePersonalized(t *testing.T) {
	e := newTestEngine(t)
	adhoc := testCatalog()[4] // the wallet, as a product the catalog need not hold
	adhoc.ID = "elsewhere-wallet"
	tests := []struct {
		name string
		req  Request
		want bool
	}{
		{"no history", Request{Query: "leather boots"}, false},
		{"relevant history", Request{Query: "leather boots", HistoryIDs: []string{"hist-dressing"}}, true},
		{"relevant ad-hoc history", Request{Query: "leather wallet", History: []Product{adhoc}}, true},
		{"history unrelated to the query", Request{Query: "hiking gaiters", HistoryIDs: []string{"hist-wallet"}}, false},
		{"no candidates", Request{Query: "leather boots", HistoryIDs: []string{"hist-dressing"},
			Filter: retrieval.Filter{retrieval.In("brand", "Nobody")}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.Search(context.Background(), tt.req)
			require.NoError(t, err)
			assert.Equal(t, tt.want, resp.Personalized)
			assert.Equal(t, tt.want, len(resp.History) > 0, "Personalized says whether stage one kept history")
		})
	}
}

func TestExcludeHistory(t *testing.T) {
	e := newTestEngine(t)
	req := Request{Query: "leather boots dressing", HistoryIDs: []string{"hist-dressing", "boot-leather-1"}, TopN: 20}
	resp, err := e.Search(context.Background(), req)
	require.NoError(t, err)
	assert.Contains(t, ids(resp.Results), "boot-leather-1", "without ExcludeHistory, bought products come back")

	req.ExcludeHistory = true
	resp, err = e.Search(context.Background(), req)
	require.NoError(t, err)
	assert.NotContains(t, ids(resp.Results), "boot-leather-1")
	assert.NotContains(t, ids(resp.Results), "hist-dressing")
	assert.NotEmpty(t, resp.Results)
}

func TestWrongLengthVectorIsInvalidVector(t *testing.T) {
	e := newTestEngine(t)
	p := testCatalog()[0]
	p.ID = "short-vector"
	p.TextVector = []float32{1, 0, 0}
	err := e.Upsert(context.Background(), p)
	assert.ErrorIs(t, err, retrieval.ErrDimensionMismatch)
	assert.ErrorIs(t, err, retrieval.ErrInvalidVector, "as the README says")

	_, err = e.Search(context.Background(), Request{Query: "boots", History: []Product{p}})
	assert.ErrorIs(t, err, retrieval.ErrInvalidVector)
}

func TestUpsertWebP(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "retrieval", "testdata", "split-red-blue.lossy.webp"))
	require.NoError(t, err)
	e := newTestEngine(t)
	p := Product{ID: "webp", Title: "Red and blue poster", Images: []Image{{Data: data}}}
	require.NoError(t, e.Upsert(context.Background(), p), "Image documents WebP")
	e.mu.RLock()
	entries, err := e.entries([]string{"webp"}, []record{e.products["webp"]})
	e.mu.RUnlock()
	require.NoError(t, err)
	en := entries[0]
	imageBlock := en.vector[retrieval.DefaultTextDimension:]
	assert.NotZero(t, retrieval.Dot64(imageBlock, imageBlock), "the picture was embedded")

	bmp := p
	bmp.ID = "bmp"
	bmp.Images = []Image{{Data: append([]byte("BM"), make([]byte, 64)...)}}
	assert.ErrorIs(t, e.Upsert(context.Background(), bmp), retrieval.ErrInvalidImage)
}

// TestProductFieldMatchesMetadata checks that filters read a product's
// fields as its index metadata holds them.
func TestProductFieldMatchesMetadata(t *testing.T) {
	for _, p := range append(testCatalog(), Product{ID: "bare", Title: "no brand, no category"},
		Product{ID: "attr", Title: "t", Attributes: map[string]string{"color": "", "size": "9"}}) {
		md := p.metadata()
		for _, key := range []string{"brand", "category", "color", "size", "material", ""} {
			v, ok := p.field(key)
			want, wantOK := md[key]
			assert.Equal(t, wantOK, ok, "%s %q", p.ID, key)
			assert.Equal(t, want, v, "%s %q", p.ID, key)
		}
	}
}
