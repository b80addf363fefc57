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
			require.InDelta(t, want.Results[i].Score, got.Results[i].Score, 1e-9)
		}
		require.Equal(t, want.History, got.History)
	}
}
