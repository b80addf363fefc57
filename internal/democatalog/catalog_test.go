package democatalog

import (
	"bytes"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCatalogIsValid(t *testing.T) {
	products := Products()
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
	products := Products()
	inCatalog := make(map[string]bool)
	for _, p := range products {
		inCatalog[p.ID] = true
	}
	users := Shoppers()
	require.NotEqual(t, users[0].Name, users[1].Name)
	for _, u := range users {
		unrelated := UnrelatedPurchases(u)
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
