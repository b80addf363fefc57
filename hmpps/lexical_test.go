package hmpps

import (
	"context"
	"path/filepath"
	"testing"

	"hmpps/retrieval/lexical"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProductTextFields(t *testing.T) {
	tests := []struct {
		name     string
		p        Product
		wantText string
		want     lexical.Doc
	}{
		{
			"every field",
			Product{Title: "<i>Rain</i> Boots", Brand: "Acme", Category: []string{"Shoes", "Boots"},
				Attributes: map[string]string{"size": "9", "color": "red"}, Description: "<p>Tall &amp; dry.</p>", Caption: "a red boot"},
			"Rain Boots. Acme. Shoes Boots. color: red. size: 9. Tall & dry.. Picture: a red boot",
			lexical.Doc{Title: "Rain Boots", Brand: "Acme", Category: "Shoes Boots", Body: "color: red. size: 9. Tall & dry.. Picture: a red boot"},
		},
		{
			"description only",
			Product{Description: "Just text."},
			"Just text.",
			lexical.Doc{Body: "Just text."},
		},
		{
			"no body",
			Product{Title: "Hat", Category: []string{"Clothing"}},
			"Hat. Clothing",
			lexical.Doc{Title: "Hat", Category: "Clothing"},
		},
		{"nothing", Product{Brand: "  "}, "", lexical.Doc{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, doc := tt.p.textFields()
			assert.Equal(t, tt.wantText, text)
			assert.Equal(t, tt.want, doc)
			assert.Equal(t, text, tt.p.text())
		})
	}
}

// catalogLexical is the lexical index the engine should hold for products,
// built independently of it.
func catalogLexical(t testing.TB, products []Product) *lexical.Index {
	t.Helper()
	lex, err := lexical.New(lexical.Params{})
	require.NoError(t, err)
	for _, p := range products {
		_, doc := p.textFields()
		lex.Upsert(p.ID, doc)
	}
	return lex
}

func TestSearchLexicalScore(t *testing.T) {
	ctx := context.Background()
	catalog := testCatalog()
	e := newTestEngine(t)
	check := func(t *testing.T, e *Engine, want *lexical.Index, req Request) []Result {
		t.Helper()
		resp, err := e.Search(ctx, req)
		require.NoError(t, err)
		require.NotEmpty(t, resp.Results)
		for _, r := range resp.Results {
			assert.Equal(t, want.Score(req.Query, []string{r.ID}, nil)[0], r.LexicalScore, r.ID)
		}
		return resp.Results
	}

	req := Request{Query: "waterproof leather boots", TopN: 100}
	results := check(t, e, catalogLexical(t, catalog), req)
	var matched, unmatched bool
	for _, r := range results {
		matched = matched || r.LexicalScore > 0
		unmatched = unmatched || r.LexicalScore == 0
	}
	assert.True(t, matched && unmatched, "some candidates match the query's words, some do not")

	// Candidates named by the request are scored too.
	check(t, e, catalogLexical(t, catalog), Request{Query: "waterproof boots", CandidateIDs: []string{"boot-leather-1", catalog[len(catalog)-1].ID}})

	// Upsert and Delete keep the index in step with the catalog.
	changed := catalog[0]
	changed.Title = "Waterproof Waterproof Rain Boots"
	require.NoError(t, e.Upsert(ctx, changed))
	require.NoError(t, e.Delete(ctx, catalog[1].ID, "unknown"))
	now := append([]Product{changed}, catalog[2:]...)
	check(t, e, catalogLexical(t, now), req)
	require.NoError(t, e.Add(ctx, catalog[1]))
	check(t, e, catalogLexical(t, append(now, catalog[1])), req)

	// A saved and reopened engine scores alike.
	path := filepath.Join(t.TempDir(), "engine.hmpps")
	require.NoError(t, e.Save(ctx, path))
	opened, err := Open(ctx, path)
	require.NoError(t, err)
	defer opened.Close()
	check(t, opened, catalogLexical(t, append(now, catalog[1])), req)
}

func TestWithLexical(t *testing.T) {
	params := lexical.Params{K1: 2, B: 0.5, TitleWeight: 1, BodyWeight: 4}
	e := newTestEngine(t, WithLexical(params))
	resp, err := e.Search(context.Background(), Request{Query: "leather boots", TopN: 3})
	require.NoError(t, err)
	want, err := lexical.New(params)
	require.NoError(t, err)
	for _, p := range testCatalog() {
		_, doc := p.textFields()
		want.Upsert(p.ID, doc)
	}
	for _, r := range resp.Results {
		assert.Equal(t, want.Score("leather boots", []string{r.ID}, nil)[0], r.LexicalScore)
	}
	assert.NotEqual(t, catalogLexical(t, testCatalog()).Score("leather boots", []string{resp.Results[0].ID}, nil)[0], resp.Results[0].LexicalScore,
		"the parameters change the score")
}
