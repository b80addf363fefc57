package eval

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Magazine metadata holds the whole category's catalog: 3,385 rows of
// 2,320 products (some scraped twice), 1,965 with a description, of which
// the 5-core reviews name 157.
func TestLoadAmazonCatalogKnownFacts(t *testing.T) {
	dir := amazonDir(t)
	products, err := LoadAmazonCatalog(context.Background(), dir)
	require.NoError(t, err)
	ids := make(map[string]bool, len(products))
	withDescription := 0
	for _, p := range products {
		assert.False(t, ids[p.ID], "%s twice", p.ID)
		ids[p.ID] = true
		assert.NotEmpty(t, p.Title, p.ID)
		if p.Description != "" {
			withDescription++
		}
	}
	t.Logf("%d products, %d distinct, %d with a description", len(products), len(ids), withDescription)
	d := loadMagazine(t)
	for _, p := range d.Products {
		if p.Title != p.ID { // reviewed products without metadata keep their ASIN
			assert.True(t, ids[p.ID], "reviewed product %s is in the catalog", p.ID)
		}
	}
	assert.Len(t, products, 2320)
	assert.Equal(t, 1965, withDescription)
}

func TestReadAmazonCatalog(t *testing.T) {
	meta := `{"asin": "p1", "title": "One", "description": ["<b>Bold</b> &amp; plain"]}
{"asin": "p2", "title": "<span class=x>broken", "brand": "Pub", "description": "First sentence. Second."}
{"asin": "p1", "title": "Duplicate"}
`
	products, err := ReadAmazonCatalog(context.Background(), strings.NewReader(meta))
	require.NoError(t, err)
	require.Len(t, products, 2)
	assert.Equal(t, "One", products[0].Title, "the first row of a product wins")
	assert.Equal(t, "Bold & plain", products[0].Description)
	assert.Equal(t, "Pub: First sentence", products[1].Title, "a display title for broken markup")

	for name, bad := range map[string]string{"empty": "", "no asin": `{"title": "x"}`, "not json": `{"asin": `} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadAmazonCatalog(context.Background(), strings.NewReader(bad))
			require.Error(t, err)
			assert.True(t, strings.Contains(err.Error(), "no metadata rows") || strings.Contains(err.Error(), "line 1"), err.Error())
		})
	}
}
