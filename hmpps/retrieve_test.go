package hmpps

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/retrieval"
)

func TestFuseRanks(t *testing.T) {
	hits := func(ids ...string) []retrieval.Hit {
		out := make([]retrieval.Hit, len(ids))
		for i, id := range ids {
			out[i] = retrieval.Hit{ID: id, Score: float32(len(ids) - i)}
		}
		return out
	}
	tests := []struct {
		name string
		a, b []retrieval.Hit
		k    int
		want []string
	}{
		{"both empty", nil, nil, 5, []string{}},
		{"one list keeps its order", hits("c", "a", "b"), nil, 5, []string{"c", "a", "b"}},
		{"the other list too", nil, hits("c", "a", "b"), 2, []string{"c", "a"}},
		// a = 1/61 + 1/63, b = 1/62 + 1/61, c = 1/63 + 1/62: b > a > c.
		{"in both lists", hits("a", "b", "c"), hits("b", "c", "a"), 5, []string{"b", "a", "c"}},
		// x is first in one list only: 1/61; y is second in both: 2/62.
		{"agreement beats one first place", hits("x", "y"), hits("z", "y"), 5, []string{"y", "x", "z"}},
		{"exact ties by ID", hits("b"), hits("a"), 5, []string{"a", "b"}},
		{"cut at k", hits("a", "b", "c"), hits("d", "e", "f"), 2, []string{"a", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, fuseRanks(tt.a, tt.b, tt.k))
		})
	}
}

func TestRetrievalModes(t *testing.T) {
	ctx := context.Background()
	// "goodyear welt" is in one description only; the hashing embedder
	// also matches it, among others, by vector.
	const query = "goodyear welt"
	candidates := func(r Retrieval, k int, filter retrieval.Filter) []string {
		e := newTestEngine(t, WithRetrieval(r), WithRetrieveK(k))
		resp, err := e.Search(ctx, Request{Query: query, TopN: 100, Filter: filter})
		require.NoError(t, err)
		assert.Equal(t, len(resp.Results), resp.Candidates)
		return ids(resp.Results)
	}
	lexical := candidates(RetrieveLexical, 100, nil)
	assert.Equal(t, []string{"boot-leather-1"}, lexical, "only products holding a query word")
	vector := candidates(RetrieveVector, 3, nil)
	assert.Len(t, vector, 3)
	hybrid := candidates(RetrieveHybrid, 3, nil)
	assert.Len(t, hybrid, 3)
	assert.Contains(t, hybrid, "boot-leather-1")

	// Filters apply to both sources.
	notHeritage := retrieval.Filter{retrieval.In("brand", "Summit Lab", "Kitchen Pro", "Paper House")}
	assert.Empty(t, candidates(RetrieveLexical, 100, notHeritage))
	filtered := candidates(RetrieveHybrid, 100, notHeritage)
	assert.NotEmpty(t, filtered)
	for _, id := range filtered {
		assert.NotContains(t, []string{"boot-leather-1", "boot-leather-2", "hist-belt", "hist-dressing", "hist-wallet"}, id)
	}
}

func TestRetrievalHybridIsTheDefault(t *testing.T) {
	c, err := newConfig(nil)
	require.NoError(t, err)
	assert.Equal(t, RetrieveHybrid, c.retrieval)
	_, err = New(WithRetrieval(Retrieval(7)))
	assert.ErrorContains(t, err, "unknown retrieval Retrieval(7)")
	assert.Equal(t, "lexical", RetrieveLexical.String())
}
