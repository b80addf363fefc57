package hmpps

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/retrieval"
)

// TestFusedScores checks that a retrieved candidate carries its fused
// score, in the order of the fused lists, and that named candidates carry
// none.
func TestFusedScores(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	resp, err := e.Search(ctx, Request{Query: "waterproof leather boots", TopN: 100})
	require.NoError(t, err)
	require.NotEmpty(t, resp.Results)
	for _, r := range resp.Results {
		assert.Positive(t, r.FusedScore, r.ID)
		assert.LessOrEqual(t, r.FusedScore, 2.0/float64(retrieval.DefaultRRFK+1), r.ID)
	}
	named, err := e.Search(ctx, Request{Query: "waterproof leather boots", CandidateIDs: ids(resp.Results)[:2]})
	require.NoError(t, err)
	for _, r := range named.Results {
		assert.Zero(t, r.FusedScore, r.ID)
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
