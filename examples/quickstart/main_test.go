package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/democatalog"
)

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"boots", 10, "boots"},
		{"boots", 5, "boots"},
		{"waterproof boots", 8, "waterpr…"},
		{"Café crème", 5, "Café…"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, truncate(tt.in, tt.n), "truncate(%q, %d)", tt.in, tt.n)
	}
}

// The point of the demo: the same query, two histories, two rankings.
func TestShoppersGetDifferentRankings(t *testing.T) {
	const top = 5
	ctx := context.Background()
	eng, err := hmpps.New()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, eng.Close()) })
	products := democatalog.Products()
	require.NoError(t, eng.Upsert(ctx, products...))

	users := democatalog.Shoppers()
	resps, err := searchAll(ctx, eng, defaultQuery, top, users)
	require.NoError(t, err)

	var ids [2][]string
	for i, r := range resps {
		require.Len(t, r.Results, top)
		for _, res := range r.Results {
			assert.NotContains(t, users[i].HistoryIDs, res.ID, "%s is shown a product they bought", users[i].Name)
			ids[i] = append(ids[i], res.ID)
		}
	}
	require.NotEqual(t, ids[0], ids[1], "both shoppers got the same top %d", top)

	// Each shopper's best result is a boot in the style of their history.
	heritage := []string{"boot-01", "boot-02", "boot-03", "boot-04", "boot-05", "boot-06"}
	technical := []string{"boot-07", "boot-08", "boot-09", "boot-10", "boot-11", "boot-12"}
	assert.Contains(t, heritage, ids[0][0], "%s (%s) should see a heritage boot first; got %v", users[0].Name, users[0].Taste, ids[0])
	assert.Contains(t, technical, ids[1][0], "%s (%s) should see a technical boot first; got %v", users[1].Name, users[1].Taste, ids[1])

	// Stage one keeps purchases related to the query and sets the coffee
	// gear and novels aside.
	for i, r := range resps {
		require.NotEmpty(t, r.History, "stage one kept nothing for %s", users[i].Name)
		for _, k := range r.History {
			assert.NotContains(t, democatalog.UnrelatedPurchases(users[i]), k.ID,
				"stage one kept %s's unrelated purchase %q (score %.3f) for %q", users[i].Name, k.Title, k.Score, defaultQuery)
		}
	}
}

func TestRunPrintsBothShoppers(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, defaultQuery, defaultTop))
	text := out.String()
	for _, u := range democatalog.Shoppers() {
		assert.Contains(t, text, u.Name+" ("+u.Taste+")")
	}
	assert.Contains(t, text, "Stage one kept")
	assert.Contains(t, text, "top 8")
}

func TestRunRejectsBadFlags(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), &out, defaultQuery, 0)
	require.ErrorContains(t, err, "-top")
	err = run(context.Background(), &out, " ?! ", defaultTop)
	require.ErrorContains(t, err, "-query")
	assert.Empty(t, out.String(), "nothing is printed on error")
}
