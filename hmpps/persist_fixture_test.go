package hmpps

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// testdata/engine-v1.hmpps holds testCatalog as the first release of the
// file format saved it, before the engine prepared per-product text at
// Upsert. Open must keep reading it and searching it as a freshly built
// engine would.
func TestOpenFileFromFormatVersion1(t *testing.T) {
	ctx := context.Background()
	loaded, err := Open(ctx, filepath.Join("testdata", "engine-v1.hmpps"))
	require.NoError(t, err)
	t.Cleanup(func() { loaded.Close() })
	fresh := newTestEngine(t)

	require.Equal(t, fresh.Len(), loaded.Len())
	for _, p := range testCatalog() {
		got, err := loaded.Get(ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, p, got)
	}
	for _, req := range []Request{
		{Query: "waterproof boots", HistoryIDs: leatherFan},
		{Query: "waterproof boots", HistoryIDs: trailFan, TopN: 4},
		{Query: "leather", CandidateIDs: []string{"boot-leather-1", "hist-wallet", "hist-belt"}},
	} {
		want, err := fresh.Search(ctx, req)
		require.NoError(t, err)
		got, err := loaded.Search(ctx, req)
		require.NoError(t, err)
		require.Equal(t, ids(want.Results), ids(got.Results), req.Query)
		for i := range want.Results {
			require.Equal(t, want.Results[i].Summary, got.Results[i].Summary)
			// The fixture's vectors were normalized by vek's SIMD norm, a
			// fresh engine's in exact arithmetic: a component may differ in
			// its last float32 bit (2^-24 relative), and a score sums a few
			// hundred of them, so 1e-6 bounds the difference with room.
			require.InDelta(t, want.Results[i].Score, got.Results[i].Score, 1e-6)
		}
		require.Len(t, got.History, len(want.History))
		for i := range want.History {
			require.Equal(t, want.History[i].ID, got.History[i].ID)
			require.Equal(t, want.History[i].Title, got.History[i].Title)
			require.InDelta(t, want.History[i].Score, got.History[i].Score, 1e-6) // as above
		}
	}
}
