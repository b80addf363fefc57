package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
)

func TestCatalogIsValid(t *testing.T) {
	products := catalog()
	require.GreaterOrEqual(t, len(products), 40, "the demo needs a catalog worth searching")

	ids := make(map[string]bool, len(products))
	tops := make(map[string]bool)
	for _, p := range products {
		t.Run(p.ID, func(t *testing.T) {
			require.NotEmpty(t, p.ID)
			assert.False(t, ids[p.ID], "duplicate ID")
			assert.NotEmpty(t, strings.TrimSpace(p.Title))
			assert.NotEmpty(t, strings.TrimSpace(p.Brand))
			assert.NotEmpty(t, strings.TrimSpace(p.Description))
			assert.NotContains(t, p.Title, "&amp;", "titles are shown as they are, so they hold no HTML")
			assert.NotContains(t, p.Brand, "&amp;", "brands are shown as they are, so they hold no HTML")
			assert.True(t, len(p.Category) == 2 || len(p.Category) == 3, "category path %q", p.Category)
			for k, v := range p.Attributes {
				assert.NotContains(t, []string{"", "brand", "category"}, k, "reserved attribute name")
				assert.NotEmpty(t, v, "attribute %q", k)
			}
			require.Len(t, p.Images, 1)
			img, format, err := image.Decode(bytes.NewReader(p.Images[0].Data))
			require.NoError(t, err)
			assert.Equal(t, "png", format)
			assert.Equal(t, image.Rect(0, 0, imageSize, imageSize), img.Bounds())
		})
		ids[p.ID] = true
		if len(p.Category) > 0 {
			tops[p.Category[0]] = true
		}
	}
	assert.Len(t, tops, 6, "top-level categories: %v", tops)
}

func TestShoppersBoughtFromTheCatalog(t *testing.T) {
	products := catalog()
	inCatalog := make(map[string]bool)
	for _, p := range products {
		inCatalog[p.ID] = true
	}
	users := shoppers()
	require.NotEqual(t, users[0].Name, users[1].Name)
	for _, u := range users {
		unrelated := unrelatedPurchases(products, u)
		assert.NotEmpty(t, unrelated, "%s needs purchases stage one can set aside", u.Name)
		assert.Greater(t, len(u.HistoryIDs), len(unrelated), "%s needs purchases related to the query", u.Name)
		seen := make(map[string]bool)
		for _, id := range u.HistoryIDs {
			assert.True(t, inCatalog[id], "%s bought %q, which is not in the catalog", u.Name, id)
			assert.False(t, seen[id], "%s lists %q twice", u.Name, id)
			seen[id] = true
		}
	}
}

func TestProductImage(t *testing.T) {
	primary := color.RGBA{200, 10, 10, 255}
	secondary := color.RGBA{10, 10, 200, 255}
	tests := []struct {
		name string
		s    shape
	}{
		{"boot", shapeBoot},
		{"shoe", shapeShoe},
		{"garment", shapeGarment},
		{"case", shapeCase},
		{"round", shapeRound},
		{"tent", shapeTent},
		{"strap", shapeStrap},
		{"cylinder", shapeCylinder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := productImage(tt.s, primary, secondary)
			assert.Equal(t, data, productImage(tt.s, primary, secondary), "the same picture must give the same bytes")

			img, _, err := image.Decode(bytes.NewReader(data))
			require.NoError(t, err)
			counts := make(map[color.RGBA]int)
			b := img.Bounds()
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
				}
			}
			assert.Equal(t, secondary, color.RGBAModel.Convert(img.At(0, 0)), "the corner is background")
			assert.Positive(t, counts[primary], "the shape is drawn in the primary colour")
			assert.Positive(t, counts[darken(primary, 0.6)], "the details are drawn in a darker primary")
			assert.Greater(t, counts[secondary], imageSize*imageSize/4, "the background stays visible")
		})
	}
}

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
	products := catalog()
	require.NoError(t, eng.Upsert(ctx, products...))

	users := shoppers()
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
			assert.NotContains(t, unrelatedPurchases(products, users[i]), k.ID,
				"stage one kept %s's unrelated purchase %q (score %.3f) for %q", users[i].Name, k.Title, k.Score, defaultQuery)
		}
	}
}

func TestRunPrintsBothShoppers(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, defaultQuery, defaultTop))
	text := out.String()
	for _, u := range shoppers() {
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

// unrelatedPurchases returns the shopper's purchases from departments that
// have nothing to do with boots: what stage one should set aside.
func unrelatedPurchases(products []hmpps.Product, u shopper) []string {
	unrelated := map[string]bool{"Kitchen & Coffee": true, "Books": true}
	var out []string
	for _, p := range products {
		if slices.Contains(u.HistoryIDs, p.ID) && unrelated[p.Category[0]] {
			out = append(out, p.ID)
		}
	}
	return out
}
