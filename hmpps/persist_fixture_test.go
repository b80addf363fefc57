package hmpps

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

var writeFixture = flag.Bool("write-fixture", false, "save testCatalog as testdata/engine-vN.hmpps, N the current file version")

// fixturePath is where the fixture of a file version lives.
func fixturePath(version int) string {
	return filepath.Join("testdata", fmt.Sprintf("engine-v%d.hmpps", version))
}

// TestWriteFixture writes the current version's fixture when asked to, once
// per file version: the fixtures of earlier versions must never change.
func TestWriteFixture(t *testing.T) {
	if !*writeFixture {
		t.Skip("run with -write-fixture to save the current version's fixture")
	}
	require.NoError(t, newTestEngine(t).Save(context.Background(), fixturePath(fileVersion)))
}

// testdata/engine-v1.hmpps holds testCatalog as the first release of the
// file format saved it, before the engine prepared per-product text at
// Upsert; it has no lexical index, which Open rebuilds.
func TestOpenFileFromFormatVersion1(t *testing.T) {
	requireFixtureOpens(t, 1)
}

// testdata/engine-v2.hmpps holds testCatalog with the lexical index's
// statistics in a section.
func TestOpenFileFromFormatVersion2(t *testing.T) {
	data, err := os.ReadFile(fixturePath(2))
	require.NoError(t, err)
	_, _, sections, err := decodeFile(data)
	require.NoError(t, err)
	require.Len(t, sections, 1)
	require.Equal(t, sectionLexical, sections[0].Kind)
	requireFixtureOpens(t, 2)
}

// requireFixtureOpens checks that Open reads the fixture of a file version
// and searches it as a freshly built engine would.
func requireFixtureOpens(t *testing.T, version int) {
	ctx := context.Background()
	loaded, err := Open(ctx, fixturePath(version))
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
			require.Equal(t, want.Results[i].LexicalScore, got.Results[i].LexicalScore)
		}
		require.Len(t, got.History, len(want.History))
		for i := range want.History {
			require.Equal(t, want.History[i].ID, got.History[i].ID)
			require.Equal(t, want.History[i].Title, got.History[i].Title)
			require.InDelta(t, want.History[i].Score, got.History[i].Score, 1e-6) // as above
		}
	}
}

// testdata/engine-v3.hmpps holds testCatalog in sections: the records as
// they are kept, the vectors as the index stores them, and the lexical
// index's statistics by word.
func TestOpenFileFromFormatVersion3(t *testing.T) {
	data, err := os.ReadFile(fixturePath(3))
	require.NoError(t, err)
	_, records, sections, err := decodeFile(data)
	require.NoError(t, err)
	require.Len(t, records, len(testCatalog()))
	require.Len(t, sections, 1)
	require.Equal(t, sectionLexical, sections[0].Kind)
	requireFixtureOpens(t, 3)
}
