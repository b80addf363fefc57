package eval

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadAmazonKnownFacts checks the loader against the facts the data
// folder's README states.
func TestLoadAmazonKnownFacts(t *testing.T) {
	d := loadMagazine(t)
	assert.Equal(t, "amazon-magazine", d.Name)
	assert.Equal(t, Stats{
		Rows: 2375, Users: 348, Products: 157,
		DuplicatePairs: 73, DroppedRows: d.Stats.DroppedRows,
		WithMetadata: 151, WithCategory: 145, WithCategoryPath: 145, WithDescription: 145, WithBrand: 148, WithImage: 130,
		BrokenTitles: d.Stats.BrokenTitles,
	}, d.Stats)
	assert.GreaterOrEqual(t, d.Stats.DroppedRows, 73, "each duplicate pair drops at least one row")
	assert.Len(t, d.Products, 157)
	assert.Equal(t, 2375-d.Stats.DroppedRows, len(d.Purchases))

	// The README: almost every title is broken markup.
	assert.Greater(t, d.Stats.BrokenTitles, 140)
	for _, p := range d.Products {
		assert.NotContains(t, p.Title, "<", p.ID)
		assert.NotContains(t, p.Title, "&amp;", p.ID)
		assert.NotContains(t, p.Description, "&amp;", p.ID)
		assert.NotContains(t, p.Description, "<i>", p.ID)
		for _, c := range p.Category {
			assert.NotContains(t, c, "&amp;", p.ID)
		}
		for _, im := range p.Images {
			assert.True(t, strings.HasPrefix(im.URI, "https://"), "image kept as a URL reference: %q", im.URI)
			assert.Empty(t, im.Data)
		}
	}

	// One user's purchases are in time order and each product appears once.
	for _, seq := range d.Sequences() {
		seen := map[string]bool{}
		for i, p := range seq.Purchases {
			assert.False(t, seen[p.Product], "user %s bought %s twice", seq.User, p.Product)
			seen[p.Product] = true
			if i > 0 {
				assert.LessOrEqual(t, seq.Purchases[i-1].Time, p.Time)
			}
		}
	}
	assert.Len(t, d.Sequences(), 348)
}

func TestLoadAmazonDisplayTitle(t *testing.T) {
	d := loadMagazine(t)
	// Maximum PC's scraped title is "<span class=...": brand + first
	// sentence; its category path had "&amp;".
	p, ok := d.Product("B00005N7P0")
	require.True(t, ok)
	assert.Equal(t, "Future US, Inc.: MAXIMUM PC is the ultimate upgrade for the savvy PC owners", p.Title)
	assert.Equal(t, []string{"Magazine Subscriptions", "Technology", "Computers & Internet"}, p.Category)
	assert.Contains(t, p.Description, "tips & techniques")
	assert.Contains(t, p.Description, "Designed for the rabid PC hobbyist, Maximum PC brings")
}

func TestReadAmazonCollapsesDuplicatesToEarliest(t *testing.T) {
	reviews := strings.Join([]string{
		`{"reviewerID": "u1", "asin": "p1", "unixReviewTime": 300}`,
		`{"reviewerID": "u1", "asin": "p2", "unixReviewTime": 200}`,
		`{"reviewerID": "u1", "asin": "p1", "unixReviewTime": 100}`,
		`{"reviewerID": "u2", "asin": "p1", "unixReviewTime": 100}`,
		`{"reviewerID": "u1", "asin": "p1", "unixReviewTime": 100}`,
		``,
	}, "\n")
	meta := strings.Join([]string{
		`{"asin": "p1", "title": "<span class=\"x\"", "brand": "Acme &amp; Sons", "category": ["Top", "Tools &amp; Things"],` +
			` "description": ["<b>Strong</b> hammer. Lasts &amp; lasts."], "imageURL": ["http://img/1.jpg"]}`,
		`{"asin": "p1", "title": "Second row, ignored"}`,
		`{"asin": "p9", "title": "Nobody bought this"}`,
		`{"asin": "p2", "title": "Plain &amp; Simple", "description": "a single string", "category": null}`,
	}, "\n")
	d, err := ReadAmazon(context.Background(), "tiny", strings.NewReader(reviews), strings.NewReader(meta))
	require.NoError(t, err)
	assert.Equal(t, Stats{Rows: 5, Users: 2, Products: 2, DuplicatePairs: 1, DroppedRows: 2,
		WithMetadata: 2, WithCategory: 1, WithCategoryPath: 1, WithDescription: 2, WithBrand: 1, WithImage: 1, BrokenTitles: 1}, d.Stats)
	assert.Equal(t, []Purchase{
		{User: "u1", Product: "p1", Time: 100},
		{User: "u1", Product: "p2", Time: 200},
		{User: "u2", Product: "p1", Time: 100},
	}, d.Purchases)
	p1, _ := d.Product("p1")
	assert.Equal(t, "Acme & Sons: Strong hammer", p1.Title)
	assert.Equal(t, "Strong hammer. Lasts & lasts.", p1.Description)
	assert.Equal(t, []string{"Top", "Tools & Things"}, p1.Category)
	assert.Equal(t, "http://img/1.jpg", p1.Images[0].URI)
	p2, _ := d.Product("p2")
	assert.Equal(t, "Plain & Simple", p2.Title)
	assert.Equal(t, "a single string", p2.Description)
	assert.Nil(t, p2.Category, "null is no category")
}

func TestReadAmazonErrors(t *testing.T) {
	tests := []struct {
		name, reviews, meta string
		want                error
	}{
		{"not json", `{"reviewerID": "u1"`, ``, ErrMalformedRecord},
		{"no user", `{"asin": "p1", "unixReviewTime": 1}`, ``, ErrMalformedRecord},
		{"no asin", `{"reviewerID": "u1", "unixReviewTime": 1}`, ``, ErrMalformedRecord},
		{"no time", `{"reviewerID": "u1", "asin": "p1"}`, ``, ErrMalformedRecord},
		{"fractional time", `{"reviewerID": "u1", "asin": "p1", "unixReviewTime": 1.5}`, ``, ErrMalformedRecord},
		{"negative time", `{"reviewerID": "u1", "asin": "p1", "unixReviewTime": -1}`, ``, ErrMalformedRecord},
		{"no reviews", ``, ``, ErrNoData},
		{"metadata without asin", `{"reviewerID": "u1", "asin": "p1", "unixReviewTime": 1}`, `{"title": "x"}`, ErrMalformedRecord},
		{"metadata category not a list", `{"reviewerID": "u1", "asin": "p1", "unixReviewTime": 1}`, `{"asin": "p1", "category": 3}`, ErrMalformedRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadAmazon(context.Background(), "x", strings.NewReader(tt.reviews), strings.NewReader(tt.meta))
			require.Error(t, err)
			assert.True(t, errors.Is(err, tt.want), "got %v", err)
		})
	}
}

func TestLoadAmazonMissingFolder(t *testing.T) {
	_, err := LoadAmazon(context.Background(), t.TempDir())
	assert.ErrorIs(t, err, ErrNoData)
}

func TestDisplayTitle(t *testing.T) {
	tests := []struct{ brand, desc, want string }{
		{"Acme", "Great tools. Buy now!", "Acme: Great tools"},
		{"", "Is it good? Yes.", "Is it good?"},
		{"Acme", "", "Acme"},
		{"", "", ""},
		{"B", "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen.",
			"B: one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen…"},
		{"B", "First line\nsecond line.", "B: First line"},
		{"B", "Version 2.0 is out", "B: Version 2.0 is out"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, displayTitle(tt.brand, tt.desc), "%q %q", tt.brand, tt.desc)
	}
}
